"""Submitting ratings through the one intake: rules, idempotency, errors."""

import pytest

from haocha.evaluations.models import Rating
from tests.factories import finished_case, resident_id

pytestmark = pytest.mark.django_db


def rating(case_no, **extra):
    body = {"case_no": case_no, "channel": "pc", "level": "very_satisfied"}
    body.update(extra)
    return body


def test_it_accepts_a_first_rating_and_returns_both_code_tables(cast, api_for):
    finished_case(cast, "BJ-0001")
    r = api_for(cast.key_a).post("/ratings", rating("BJ-0001", level="满意", comment="办事很快"))
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["level"] == "satisfied" and body["gbt_code"] == "2" and body["satisfaction"] == 4
    assert body["evaluator_id_masked"].startswith("430") and "*" in body["evaluator_id_masked"]
    assert body["evaluator_phone_masked"] == "138****5678"
    assert body["evaluator_name"] == "王**"
    assert body["indicator_set"] == "online" and body["indicator_set_version"] == 1
    assert body["indicators"]["overall"] == "satisfied"
    assert Rating.objects.count() == 1


def test_it_refuses_a_second_rating_from_someone_else(cast, api_for):
    finished_case(cast, "BJ-0002")
    api = api_for(cast.key_a)
    assert api.post("/ratings", rating("BJ-0002")).status_code == 201
    other = {"name": "赵六", "id_number": resident_id(99)}
    r = api.post("/ratings", rating("BJ-0002", evaluator=other))
    assert r.status_code == 403 and r.json()["code"] == "not_applicant"


def test_a_retry_returns_the_original(cast, api_for):
    finished_case(cast, "BJ-0003")
    api = api_for(cast.key_a)
    first = api.post("/ratings", rating("BJ-0003"), headers={"Idempotency-Key": "k-1"})
    again = api.post("/ratings", rating("BJ-0003"), headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.json() == again.json()
    same_evaluator = api.post("/ratings", rating("BJ-0003"))
    assert same_evaluator.json()["id"] == first.json()["id"]
    assert Rating.objects.count() == 1


def test_a_bad_rating_needs_a_reason_or_comment(cast, api_for):
    finished_case(cast, "BJ-0004")
    api = api_for(cast.key_a)
    r = api.post("/ratings", rating("BJ-0004", level="dissatisfied"))
    assert r.status_code == 422 and r.json()["code"] == "bad_rating_needs_reason"
    assert "差评" in r.json()["message"]
    r = api.post("/ratings", rating("BJ-0004", level="dissatisfied", reasons=["ON401"]))
    assert r.status_code == 201 and r.json()["is_bad"] is True


def test_an_unfinished_case_cannot_be_rated(cast, api_for):
    case = finished_case(cast, "BJ-0005")
    case.status, case.finished_at = "processing", None
    case.save()
    r = api_for(cast.key_a).post("/ratings", rating("BJ-0005"))
    assert r.status_code == 409 and r.json()["code"] == "case_not_finished"


def test_an_outsider_system_gets_404(cast, api_for):
    finished_case(cast, "BJ-0006")
    r = api_for(cast.key_b).post("/ratings", rating("BJ-0006"))
    assert r.status_code == 404 and r.json()["code"] == "case_not_found"
    assert api_for(cast.key_b).get("/ratings", case_no="BJ-0006").status_code == 404


@pytest.mark.parametrize(
    "body, code",
    [
        ({"channel": "pc", "level": "very_satisfied"}, "case_or_window_required"),
        ({"case_no": "BJ-0007", "channel": "fax", "level": "very_satisfied"}, "unknown_channel"),
        ({"case_no": "BJ-0007", "channel": "pc"}, "level_required"),
        ({"case_no": "BJ-0007", "channel": "pc", "level": "great"}, "unknown_level"),
        ({"case_no": "BJ-0007", "channel": "pc", "level": "satisfied", "satisfaction": 2}, "level_mismatch"),
        ({"case_no": "BJ-0007", "channel": "pc", "satisfaction": 9}, "invalid_input"),
        (
            {"case_no": "BJ-0007", "channel": "pc", "level": "satisfied", "reasons": ["NOPE"]},
            "unknown_reason",
        ),
        (
            {"case_no": "BJ-0007", "channel": "pc", "level": "satisfied", "reasons": ["ON401"]},
            "reason_level_mismatch",
        ),
        (
            {"case_no": "BJ-0007", "channel": "pc", "level": "satisfied", "indicators": {"x": "satisfied"}},
            "unknown_indicator",
        ),
        ({"case_no": "BJ-0007", "channel": "default", "level": "satisfied"}, "channel_not_allowed"),
        (
            {
                "case_no": "BJ-0007",
                "channel": "pc",
                "level": "satisfied",
                "rated_at": "2099-01-01T00:00:00+08:00",
            },
            "rated_at_in_future",
        ),
        (
            {
                "case_no": "BJ-0007",
                "channel": "pc",
                "level": "satisfied",
                "evaluator": {"name": "张三", "id_number": "123"},
            },
            "invalid_id_number",
        ),
    ],
)
def test_bad_input_gets_a_clear_4xx_and_writes_nothing(cast, api_for, body, code):
    finished_case(cast, "BJ-0007")
    r = api_for(cast.key_a).post("/ratings", body)
    assert 400 <= r.status_code < 500, r.content
    assert r.json()["code"] == code
    assert r.json()["message"]
    assert Rating.objects.count() == 0


def test_malformed_json_is_a_4xx(cast, client):
    r = client.post(
        "/api/ratings", "{not json", content_type="application/json", headers={"X-Api-Key": cast.key_a}
    )
    assert 400 <= r.status_code < 500


def test_no_credentials_is_401(cast, api_for):
    r = api_for().post("/ratings", rating("X"))
    assert r.status_code == 401 and r.json()["code"] == "unauthenticated"


def test_a_window_visit_rating_without_a_case(cast, api_for):
    """一次一评: a hall tablet rates the visit to a window when no case is attached."""
    api = api_for(cast.key_a)
    body = {
        "window_code": cast.window_a.code,
        "channel": "tablet",
        "level": "very_satisfied",
        "device_id": "PAD-A01",
        "staff_no": cast.staff_a.staff_no,
    }
    r = api.post("/ratings", body)
    assert r.status_code == 201, r.content
    got = r.json()
    assert got["case_no"] is None and got["window_code"] == cast.window_a.code and got["staff_no"] == "SJ0001"
    assert got["indicator_set"] == "offline" and got["channel_code"] == "4"
    stored = Rating.objects.get()
    assert stored.department == cast.dept_a and stored.hall == cast.hall and stored.device_id == "PAD-A01"


def test_visit_ratings_can_be_switched_off_by_policy(cast, api_for):
    from haocha.evaluations.models import RatingPolicy

    RatingPolicy.objects.create(region=cast.city, allow_visit_ratings=False)
    r = api_for(cast.key_a).post(
        "/ratings", {"window_code": cast.window_a.code, "channel": "tablet", "level": "satisfied"}
    )
    assert r.status_code == 409 and r.json()["code"] == "visit_ratings_disabled"


def test_region_where_rated_and_regional_channel_codes(cast, api_for):
    from haocha.evaluations.models import RatingPolicy

    RatingPolicy.objects.create(
        region=cast.city, channel_codes={"pc": "1", "mobile": "2", "sms": "6", "default": "7"}
    )
    finished_case(cast, "RG-1")
    r = api_for(cast.key_a).post("/ratings", rating("RG-1", channel="sms", region_code="430104"))
    assert r.status_code == 201, r.content
    assert r.json()["region_code"] == "430104" and r.json()["channel_code"] == "6"
    finished_case(cast, "RG-2", seq=2)
    r = api_for(cast.key_a).post("/ratings", rating("RG-2", region_code="999999"))
    assert r.status_code == 404 and r.json()["code"] == "region_not_found"


def test_nul_characters_are_refused_not_stored(cast, client):
    finished_case(cast, "NUL-1")
    body = '{"case_no": "NUL-1", "channel": "pc", "level": "satisfied", "comment": "a\\u0000b"}'
    r = client.post("/api/ratings", body, content_type="application/json", headers={"X-Api-Key": cast.key_a})
    assert r.status_code == 422 and r.json()["code"] == "invalid_character"
    assert Rating.objects.count() == 0


def test_read_needs_the_read_scope_for_systems(cast, api_for):
    from tests.factories import make_client

    finished_case(cast, "SC-R1")
    _, tablet = make_client("评价器", organisations=[cast.dept_a, cast.hall], scopes=["ratings:write"])
    assert api_for(tablet).post("/ratings", rating("SC-R1")).status_code == 201
    assert api_for(tablet).get("/ratings", case_no="SC-R1").status_code == 403
    assert api_for(tablet).get("/cases/SC-R1").status_code == 403


def test_a_follow_up_cannot_reuse_the_first_ratings_idempotency_key(cast, api_for):
    from datetime import timedelta

    finished_case(cast, "SC-K1", finished_ago=timedelta(days=2))
    api = api_for(cast.key_a)
    assert api.post("/ratings", rating("SC-K1"), headers={"Idempotency-Key": "k"}).status_code == 201
    r = api.post("/ratings/follow-up", rating("SC-K1", level="satisfied"), headers={"Idempotency-Key": "k"})
    assert r.status_code == 422 and r.json()["code"] == "idempotency_key_reused"


def test_bad_client_ip_and_foreign_staff_are_refused(cast, api_for):
    finished_case(cast, "SC-I1")
    api = api_for(cast.key_city)
    r = api.post("/ratings", rating("SC-I1", client_ip="not-an-ip"))
    assert r.status_code == 422
    from haocha.organisations.models import Staff

    Staff.objects.create(staff_no="RS0001", name="周强", department=cast.dept_b)
    r = api.post("/ratings", rating("SC-I1", staff_no="RS0001"))
    assert r.status_code == 422 and r.json()["code"] == "staff_mismatch"
    r = api.post("/ratings", rating("SC-I1", region_code="430000"))
    assert r.status_code == 422 and r.json()["code"] == "region_mismatch"
    assert api.post("/ratings", rating("SC-I1", client_ip="10.1.2.3")).json()["region_code"] == "430100"


def test_a_back_dated_rating_cannot_slip_past_the_rating_period(cast, api_for):
    from datetime import timedelta

    from django.utils import timezone

    from haocha.evaluations.models import RatingPolicy

    RatingPolicy.objects.create(region=cast.city, rating_window_days=7)
    finished_case(cast, "SC-P1", finished_ago=timedelta(days=10))
    early = (timezone.now() - timedelta(days=9)).isoformat()
    r = api_for(cast.key_a).post("/ratings", rating("SC-P1", rated_at=early))
    assert r.status_code == 409 and r.json()["code"] == "rating_period_over"
