"""A replay is a replay only when the request says the same thing (issue 12, hole 1): an identical retry gets
the original with `Idempotent-Replayed: true`; a different first rating, 追评 or body under a used key is
refused, and nothing of it is dropped silently."""

from datetime import timedelta

import pytest

from haocha.evaluations.models import Rating
from tests.factories import finished_case

pytestmark = pytest.mark.django_db


def body(case_no, **extra):
    return {"case_no": case_no, "channel": "pc", "level": "very_satisfied", **extra}


BAD = {"level": "very_dissatisfied", "comment": "窗口推诿，来回跑了三次"}


def test_a_second_different_first_rating_is_refused_not_replayed(cast, api_for):
    finished_case(cast, "RP-1")
    api = api_for(cast.key_a)
    first = api.post("/ratings", body("RP-1"))
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    second = api.post("/ratings", body("RP-1", **BAD))  # same applicant, no key, another rating
    assert second.status_code == 409 and second.json()["code"] == "already_rated", second.content
    assert "Idempotent-Replayed" not in second.headers
    again = api.post("/ratings", body("RP-1"))  # the same rating again: a retry
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert list(Rating.objects.values_list("level", flat=True)) == ["very_satisfied"]


def test_a_reused_idempotency_key_with_another_body_is_refused(cast, api_for):
    finished_case(cast, "RP-2")
    api = api_for(cast.key_a)
    key = {"Idempotency-Key": "order-7"}
    first = api.post("/ratings", body("RP-2"), headers=key)
    assert first.status_code == 201
    for changed in (
        BAD,
        {"comment": "很好"},
        {"channel": "mobile"},
        {"indicators": {"efficiency": "satisfied"}},
    ):
        r = api.post("/ratings", body("RP-2", **changed), headers=key)
        assert r.status_code == 422 and r.json()["code"] == "idempotency_key_reused", (changed, r.content)
    same = api.post("/ratings", body("RP-2"), headers=key)
    assert same.status_code == 201 and same.headers["Idempotent-Replayed"] == "true"
    assert same.json()["id"] == first.json()["id"]
    # the same rating under another key says it is another submission: the case is rated already
    r = api.post("/ratings", body("RP-2"), headers={"Idempotency-Key": "order-8"})
    assert r.status_code == 409 and r.json()["code"] == "already_rated"
    assert Rating.objects.count() == 1


def test_a_second_different_follow_up_is_refused_an_identical_one_replayed(cast, api_for):
    finished_case(cast, "RP-3", finished_ago=timedelta(days=2))
    api = api_for(cast.key_a)
    assert api.post("/ratings", body("RP-3")).status_code == 201
    follow = body("RP-3", level="satisfied", comment="后来电话回访了")
    first = api.post("/ratings/follow-up", follow)
    assert first.status_code == 201
    other = api.post("/ratings/follow-up", body("RP-3", **BAD))
    assert other.status_code == 409 and other.json()["code"] == "already_followed_up", other.content
    again = api.post("/ratings/follow-up", follow)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Rating.objects.filter(kind=2).get().comment == "后来电话回访了"


def test_an_identical_retry_after_the_rating_period_closed_is_still_a_replay(cast, api_for):
    from haocha.evaluations.models import RatingPolicy

    finished_case(cast, "RP-4", finished_ago=timedelta(days=3))
    api = api_for(cast.key_a)
    key = {"Idempotency-Key": "late-1"}
    first = api.post("/ratings", body("RP-4"), headers=key)
    assert first.status_code == 201
    RatingPolicy.objects.create(region=cast.city, rating_window_days=1)
    again = api.post("/ratings", body("RP-4"), headers=key)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    other = api.post("/ratings", body("RP-4", level="satisfied"), headers=key)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"


def test_a_resend_with_indicators_is_a_replay_and_one_that_differs_in_any_part_is_not(cast, api_for):
    from tests.factories import resident_id

    finished_case(cast, "RP-9", seq=9)
    api = api_for(cast.key_a)
    who = {"name": "王小明", "id_number": resident_id(9), "phone": "13812345678"}
    said = body("RP-9", indicators={"efficiency": "satisfied"}, evaluator=who)
    first = api.post("/ratings", said)
    assert first.status_code == 201, first.content
    again = api.post("/ratings", said)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    for changed in (
        {"evaluator": {**who, "phone": "13900001111"}},  # the same person on another phone
        {"indicators": {"efficiency": "very_satisfied"}},
        {"indicators": {"efficiency": "great"}},  # not a level at all: never the same
    ):
        r = api.post("/ratings", {**said, **changed})
        assert r.status_code in (409, 422) and "Idempotent-Replayed" not in r.headers, (changed, r.content)
    assert Rating.objects.count() == 1
