"""The short way in for `POST /api/ratings` (evaluations/fastlane.py) answers exactly as the Ninja route.

Django's test client calls the Django handler directly, so it never takes the fast lane; these tests post
through `haocha.wsgi.application`, the object the production server runs, and compare.
"""

import json

import pytest
from werkzeug.test import Client as WsgiClient

from haocha.evaluations import fastlane
from haocha.evaluations.api import RatingOut
from haocha.wsgi import application
from tests.conftest import connection_kept
from tests.factories import finished_case


@pytest.fixture
def door(cast, client):
    """post(door, body, headers) -> (status, json, headers) through 'ninja' (test client) or 'wsgi'."""
    wsgi = WsgiClient(application)

    def post(which, body, headers=None, raw=None, content_type="application/json"):
        headers = {"X-Api-Key": cast.key_a, **(headers or {})}
        data = raw if raw is not None else json.dumps(body)
        if which == "ninja":
            r = client.post("/api/ratings", data, content_type=content_type, headers=headers)
            return r.status_code, _json(r.content), r.headers
        host = headers.pop("Host", None)
        with connection_kept():
            r = wsgi.post(
                "/api/ratings",
                data=data,
                headers=headers,
                content_type=content_type,
                environ_overrides={"HTTP_HOST": host} if host else None,
            )
        return r.status_code, _json(r.get_data()), r.headers

    return post


def _json(content: bytes):
    try:
        return json.loads(content)
    except ValueError:
        return content.decode(errors="replace")


@pytest.fixture
def submits(monkeypatch):
    """How many submissions the fast lane itself handled."""
    calls = []
    real = fastlane.rating_submit

    def counting(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(fastlane, "rating_submit", counting)
    return calls


def _same(a: dict, b: dict, case_a: str, case_b: str) -> None:
    """Two 201 answers for two cases are the same apart from the rating's id, time, case and applicant."""
    a, b = dict(a), dict(b)
    for d in (a, b):
        for name in ("id", "rated_at", "evaluator_id_masked"):
            d.pop(name)
    assert a.pop("case_no") == case_a and b.pop("case_no") == case_b
    assert a == b


def test_a_new_rating_and_its_replay_are_answered_alike(cast, door, submits):
    finished_case(cast, "FL-1", seq=1)
    finished_case(cast, "FL-2", seq=2)
    body = {"channel": "tablet", "level": "dissatisfied", "reasons": ["OF402"], "comment": "排队太久"}
    s1, j1, _ = door("ninja", {**body, "case_no": "FL-1"})
    s2, j2, h2 = door("wsgi", {**body, "case_no": "FL-2"})
    assert s1 == s2 == 201
    assert len(submits) == 1  # the WSGI call took the fast lane
    RatingOut.model_validate(j2)  # the shape the OpenAPI document promises
    _same(j1, j2, "FL-1", "FL-2")
    assert h2["Content-Type"] == "application/json" and h2.get("X-Content-Type-Options") == "nosniff"
    # a retry gets the original, marked as a replay, through either door
    for which, case_no, first in (("wsgi", "FL-2", j2), ("ninja", "FL-2", j2), ("wsgi", "FL-1", j1)):
        status, again, headers = door(which, {**body, "case_no": case_no})
        assert status == 201 and again == first and headers.get("Idempotent-Replayed") == "true"


REFUSALS = [
    # (body or raw bytes, expected status, expected code) -- the fast lane hands the last four on
    ({"case_no": "NOPE-1", "channel": "pc", "level": "satisfied"}, 404, "case_not_found"),
    ({"case_no": "FL-9", "channel": "pc", "level": "dissatisfied"}, 422, "bad_rating_needs_reason"),
    ({"case_no": "FL-9", "channel": "pc"}, 422, "level_required"),
    ({"case_no": "FL-9", "channel": "fax", "level": "satisfied"}, 422, "unknown_channel"),
    ({"case_no": "FL-9", "channel": "pc", "level": "satisfied", "reasons": ["NOPE"]}, 422, "unknown_reason"),
    ({"case_no": "FL-9", "channel": "pc", "satisfaction": 9}, 422, "invalid_input"),
    (
        {"case_no": "FL-9", "channel": "pc", "level": "satisfied", "comment": "a\u0000b"},
        422,
        "invalid_character",
    ),
    (b"{not json", 400, "http_error"),
    (b"[1, 2]", 422, "invalid_input"),
]


@pytest.mark.parametrize(("body", "status", "code"), REFUSALS, ids=[r[2] for r in REFUSALS])
def test_refusals_are_the_same_through_both_doors(cast, door, body, status, code):
    finished_case(cast, "FL-9", seq=9)
    raw = body if isinstance(body, bytes) else None
    answers = [door(which, body, raw=raw) for which in ("ninja", "wsgi")]
    assert answers[0][0] == answers[1][0] == status, answers
    assert answers[0][1] == answers[1][1], answers
    assert answers[1][1]["code"] == code


def test_an_unknown_key_is_refused_alike(cast, door):
    finished_case(cast, "FL-8", seq=8)
    body = {"case_no": "FL-8", "channel": "pc", "level": "satisfied"}
    answers = [door(which, body, headers={"X-Api-Key": "hc_wrong"}) for which in ("ninja", "wsgi")]
    assert answers[0][0] == answers[1][0] == 401
    assert answers[0][1] == answers[1][1]


def test_an_outsiders_key_cannot_rate_through_the_fast_lane(cast, door, submits):
    # key_a serves the city market regulator and the hall; a case of another department is not theirs
    finished_case(cast, "FL-7", seq=7, item=cast.item_b)
    status, answer, _ = door("wsgi", {"case_no": "FL-7", "channel": "pc", "level": "satisfied"})
    assert status == 404 and answer["code"] == "case_not_found"
    assert len(submits) == 1


def test_an_error_answer_has_the_same_content_type(cast, door):
    body = {"case_no": "NOPE-2", "channel": "pc", "level": "satisfied"}
    answers = [door(which, body) for which in ("ninja", "wsgi")]
    assert answers[0][0] == answers[1][0] == 404
    assert answers[0][2]["Content-Type"] == answers[1][2]["Content-Type"]


@pytest.mark.parametrize(
    "authorization", ["Bearer {key}", "bearer {key}", "Bearer  {key}", "Basic {key}"], ids=str
)
def test_a_bearer_key_is_read_as_the_api_reads_it(cast, door, authorization):
    finished_case(cast, "FL-6", seq=6)
    finished_case(cast, "FL-5", seq=5)
    header = {"X-Api-Key": "", "Authorization": authorization.format(key=cast.key_a)}
    answers = [
        door(which, {"case_no": case_no, "channel": "pc", "level": "satisfied"}, headers=header)
        for which, case_no in (("ninja", "FL-6"), ("wsgi", "FL-5"))
    ]
    assert answers[0][0] == answers[1][0], answers


def test_a_host_not_allowed_is_refused_alike(cast, door, submits):
    finished_case(cast, "FL-4", seq=4)
    body = {"case_no": "FL-4", "channel": "pc", "level": "satisfied"}
    answers = [door(which, body, headers={"Host": "evil.example"}) for which in ("ninja", "wsgi")]
    assert answers[0][0] == answers[1][0] == 400
    assert not submits


def test_another_content_type_goes_the_long_way(cast, door, submits):
    finished_case(cast, "FL-3", seq=3)
    raw = json.dumps({"case_no": "FL-3", "channel": "pc", "level": "satisfied", "comment": "%00"}).encode()
    ct = "application/x-www-form-urlencoded"
    answers = [door(which, None, raw=raw, content_type=ct) for which in ("ninja", "wsgi")]
    assert answers[0][0] == answers[1][0] == 422 and answers[1][1]["code"] == "invalid_character"
    assert not submits
