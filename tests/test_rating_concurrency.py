"""20 concurrent submissions of the same rating store exactly one, and every caller gets the same answer."""

import json
import threading

import pytest
from django.db import connection
from django.test import Client
from werkzeug.test import Client as WsgiClient

from haocha.evaluations.models import Rating
from haocha.wsgi import application
from tests.factories import build_cast, finished_case

N = 20


def _post(door, key, body, headers):
    """Through Django's test client (the Ninja route) or the production WSGI application."""
    headers = {"X-Api-Key": key, **headers}
    if door == "wsgi":
        r = WsgiClient(application).post(
            "/api/ratings", data=json.dumps(body), headers=headers, content_type="application/json"
        )
        return r.status_code, json.loads(r.get_data())
    r = Client().post("/api/ratings", body, content_type="application/json", headers=headers)
    return r.status_code, r.json()


def _fire(door, key, body, headers):
    barrier = threading.Barrier(N)
    answers = [None] * N

    def worker(i):
        try:
            barrier.wait(timeout=30)
            answers[i] = _post(door, key, body, headers)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return answers


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("with_key", [True, False], ids=["same-idempotency-key", "same-case-and-evaluator"])
@pytest.mark.parametrize("door", ["client", "wsgi"])
def test_concurrent_duplicates_store_one_rating(with_key, door):
    cast = build_cast()
    finished_case(cast, "CC-0001")
    body = {
        "case_no": "CC-0001",
        "channel": "tablet",
        "level": "dissatisfied",
        "reasons": ["OF402"],
        "comment": "排队一个多小时",
    }
    headers = {"Idempotency-Key": "retry-7f3a"} if with_key else {}
    answers = _fire(door, cast.key_a, body, headers)
    assert all(a is not None for a in answers)
    statuses = {a[0] for a in answers}
    assert statuses == {201}, answers
    bodies = {str(sorted(a[1].items())) for a in answers}
    assert len(bodies) == 1, "every caller must get the same answer"
    assert Rating.objects.filter(case__case_no="CC-0001").count() == 1
