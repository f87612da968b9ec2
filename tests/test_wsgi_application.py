"""`POST /api/ratings` through `haocha.wsgi.application`, the object the production server runs: the
security headers, ALLOWED_HOSTS, the refusal of NUL characters, the `{code, message}` error body and the
`Idempotent-Replayed` header all come from Django's one middleware chain and the Ninja route."""

import json

import pytest
from werkzeug.test import Client as WsgiClient

from haocha.evaluations import api as ratings_api
from haocha.evaluations.api import RatingOut
from haocha.evaluations.models import Rating
from haocha.wsgi import application
from tests.conftest import connection_kept
from tests.factories import finished_case


@pytest.fixture
def post(cast):
    """post(body, headers=None, raw=None, content_type=...) -> (status, json or text, headers)."""
    wsgi = WsgiClient(application)

    def send(body, headers=None, raw=None, content_type="application/json", host=None):
        headers = {"X-Api-Key": cast.key_a, **(headers or {})}
        with connection_kept():
            r = wsgi.post(
                "/api/ratings",
                data=raw if raw is not None else json.dumps(body),
                headers=headers,
                content_type=content_type,
                environ_overrides={"HTTP_HOST": host} if host else None,
            )
        try:
            content = json.loads(r.get_data())
        except ValueError:
            content = r.get_data().decode(errors="replace")
        return r.status_code, content, r.headers

    return send


def test_a_rating_and_its_replay(cast, post):
    finished_case(cast, "WS-1")
    body = {"case_no": "WS-1", "channel": "tablet", "level": "dissatisfied", "reasons": ["OF402"]}
    status, first, headers = post(body)
    assert status == 201, first
    RatingOut.model_validate(first)  # the shape the OpenAPI document promises
    assert headers["Content-Type"] == "application/json" and "Idempotent-Replayed" not in headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    status, again, headers = post(body)
    assert status == 201 and again == first and headers["Idempotent-Replayed"] == "true"
    assert Rating.objects.filter(case__case_no="WS-1").count() == 1


REFUSALS = [
    # (body or raw bytes, expected status, expected code)
    ({"case_no": "NOPE-1", "channel": "pc", "level": "satisfied"}, 404, "case_not_found"),
    ({"case_no": "WS-9", "channel": "pc", "level": "dissatisfied"}, 422, "bad_rating_needs_reason"),
    ({"case_no": "WS-9", "channel": "pc"}, 422, "level_required"),
    ({"case_no": "WS-9", "channel": "fax", "level": "satisfied"}, 422, "unknown_channel"),
    ({"case_no": "WS-9", "channel": "pc", "level": "satisfied", "reasons": ["NOPE"]}, 422, "unknown_reason"),
    ({"case_no": "WS-9", "channel": "pc", "satisfaction": 9}, 422, "invalid_input"),
    (
        {"case_no": "WS-9", "channel": "pc", "level": "satisfied", "comment": "a\u0000b"},
        422,
        "invalid_character",
    ),
    (b"{not json", 400, "invalid_body"),
    (b"[1, 2]", 422, "invalid_input"),
]


@pytest.mark.parametrize(("body", "status", "code"), REFUSALS, ids=[r[2] for r in REFUSALS])
def test_refusals_answer_code_and_message(cast, post, body, status, code):
    finished_case(cast, "WS-9")
    answer_status, answer, headers = post(body, raw=body if isinstance(body, bytes) else None)
    assert answer_status == status, answer
    assert answer["code"] == code and answer["message"]
    assert headers["Content-Type"].startswith("application/json")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert not Rating.objects.exists()


def test_an_unknown_key_is_refused(cast, post):
    finished_case(cast, "WS-8")
    status, answer, _ = post(
        {"case_no": "WS-8", "channel": "pc", "level": "satisfied"}, {"X-Api-Key": "hc_x"}
    )
    assert status == 401 and answer["code"] == "unauthenticated"


@pytest.mark.parametrize(
    ("authorization", "status"),
    [("Bearer {key}", 201), ("bearer {key}", 201), ("Basic {key}", 401)],
    ids=["Bearer", "bearer", "Basic"],
)
def test_a_bearer_key(cast, post, authorization, status):
    finished_case(cast, "WS-6")
    header = {"X-Api-Key": "", "Authorization": authorization.format(key=cast.key_a)}
    answer_status, answer, _ = post({"case_no": "WS-6", "channel": "pc", "level": "satisfied"}, header)
    assert answer_status == status, answer


def test_an_outsiders_case_is_not_found(cast, post):
    # key_a serves the city market regulator and the hall; a case of another department is not theirs
    finished_case(cast, "WS-7", item=cast.item_b)
    status, answer, _ = post({"case_no": "WS-7", "channel": "pc", "level": "satisfied"})
    assert status == 404 and answer["code"] == "case_not_found"


def test_a_host_not_allowed_is_refused(cast, post):
    finished_case(cast, "WS-4")
    status, _, _ = post({"case_no": "WS-4", "channel": "pc", "level": "satisfied"}, host="evil.example")
    assert status == 400
    assert not Rating.objects.exists()


def test_a_nul_in_a_form_body_is_refused(cast, post):
    finished_case(cast, "WS-3")
    raw = json.dumps({"case_no": "WS-3", "channel": "pc", "level": "satisfied", "comment": "%00"}).encode()
    status, answer, _ = post(None, raw=raw, content_type="application/x-www-form-urlencoded")
    assert status == 422 and answer["code"] == "invalid_character"


def test_an_unexpected_error_is_a_json_500(cast, post, monkeypatch):
    finished_case(cast, "WS-2")

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(ratings_api, "rating_submit", broken)
    status, answer, headers = post({"case_no": "WS-2", "channel": "pc", "level": "satisfied"})
    assert status == 500
    assert answer == {"code": "server_error", "message": "服务器内部错误，已记录，请稍后再试"}
    assert headers["Content-Type"].startswith("application/json")
