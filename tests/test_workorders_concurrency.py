"""20 operators sending the same 核实 or 交办 at once store one step: the rest are told it is done."""

import threading

import pytest
from django.db import connection
from django.test import Client

from haocha.workorders.models import Status, Transition, WorkOrder
from tests.factories import build_cast
from tests.workorder_helpers import bad_rating, notice

N = 20


def _fire(user, path, data):
    barrier = threading.Barrier(N)
    answers = [None] * N

    def worker(i):
        try:
            client = Client()
            client.force_login(user)
            barrier.wait(timeout=30)
            r = client.post(path, data)
            answers[i] = (r.status_code, notice(r))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return answers


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(
    "action, form, step, repeat",
    [
        ("assign", {"department": "dept_a"}, "assign", "已交办给长沙市市场监督管理局，无需重复"),
        ("verify", {"valid": "1", "note": "属实"}, "verify", "已核实，无需重复"),
    ],
)
def test_concurrent_repeats_store_one_step(action, form, step, repeat):
    cast = build_cast()
    order = bad_rating(cast, f"CW-{action}")
    data = {k: (getattr(cast, v).pk if k == "department" else v) for k, v in form.items()}
    answers = _fire(cast.operator, f"/workorders/{order.number}/act/{action}/", data)
    assert all(a is not None for a in answers), answers
    assert sorted(a[0] for a in answers) == [200] * (N - 1) + [302], answers
    assert {a[1] for a in answers if a[0] == 200} == {repeat}
    assert Transition.objects.filter(order=order, action=step).count() == 1
    order = WorkOrder.objects.get(pk=order.pk)
    assert order.cycle == 1
    assert order.status == (Status.PENDING_ACCEPT if action == "assign" else Status.PENDING_VERIFY)
