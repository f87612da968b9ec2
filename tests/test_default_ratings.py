"""系统默认评价: off in Changsha by default; with a region policy an unrated case gets one after N days."""

import threading
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from haocha.evaluations.defaults import default_ratings_sweep
from haocha.evaluations.models import Rating, RatingPolicy
from tests.factories import build_cast, finished_case


def old_case(cast, case_no, days, **kw):
    return finished_case(cast, case_no, finished_ago=timedelta(days=days), **kw)


@pytest.mark.django_db
def test_off_by_default_and_in_changsha(cast):
    old_case(cast, "DEF-0001", 30)
    assert default_ratings_sweep() == {"created": 0, "skipped": 0, "refused": 0}
    RatingPolicy.objects.create(region=cast.city)  # Changsha's rules: default ratings not enabled
    assert default_ratings_sweep()["created"] == 0
    assert not Rating.objects.exists()


@pytest.mark.django_db
def test_a_policy_applies_the_default_after_n_days_once(cast, api_for):
    RatingPolicy.objects.create(
        region=cast.city,
        default_rating_enabled=True,
        default_rating_days=7,
        default_rating_level="basically_satisfied",
    )
    due = old_case(cast, "DEF-0010", 8, seq=10)
    old_case(cast, "DEF-0011", 3, seq=11)  # not yet
    rated = old_case(cast, "DEF-0012", 9, seq=12)
    r = api_for(cast.key_a).post("/ratings", {"case_no": "DEF-0012", "channel": "pc", "level": "satisfied"})
    assert r.status_code == 201
    assert default_ratings_sweep() == {"created": 1, "skipped": 0, "refused": 0}
    rating = Rating.objects.get(case=due)
    assert (rating.channel, rating.is_default, rating.level, rating.is_bad) == (
        "default",
        True,
        "basically_satisfied",
        False,
    )
    assert rating.rated_at == due.finished_at + timedelta(days=7)
    assert rating.indicator_levels == {"overall": "basically_satisfied"}
    assert rating.evaluator_phone_masked == "138****5678"
    assert Rating.objects.get(case=rated).channel == "pc"  # never for a rated case
    assert default_ratings_sweep() == {"created": 0, "skipped": 0, "refused": 0}  # idempotent
    body = api_for(cast.key_a).get("/ratings", case_no="DEF-0010").json()
    assert body[0]["is_default"] is True and body[0]["channel_code"] == ""


@pytest.mark.django_db
def test_the_nearest_policy_wins_and_the_start_date_counts(cast):
    RatingPolicy.objects.create(region=cast.city, default_rating_enabled=True, default_rating_days=7)
    RatingPolicy.objects.create(region=cast.yuelu, default_rating_enabled=False)
    city_case = old_case(cast, "DEF-0020", 10, seq=20)
    yuelu_case = old_case(cast, "DEF-0021", 10, seq=21, item=cast.item_yuelu)
    assert yuelu_case.region_id == cast.yuelu.pk
    RatingPolicy.objects.filter(region=cast.city).update(
        default_rating_since=timezone.localdate() - timedelta(days=5)
    )
    assert default_ratings_sweep()["created"] == 0  # finished before the start date
    RatingPolicy.objects.filter(region=cast.city).update(default_rating_since=date(2020, 1, 1))
    assert default_ratings_sweep()["created"] == 1
    assert Rating.objects.get().case_id == city_case.pk


@pytest.mark.django_db
def test_a_default_level_cannot_be_a_bad_one(cast):
    policy = RatingPolicy(region=cast.city, default_rating_enabled=True, default_rating_level="dissatisfied")
    with pytest.raises(ValidationError) as exc:
        policy.full_clean()
    assert "default_rating_level" in exc.value.message_dict


@pytest.mark.django_db
def test_the_public_intake_refuses_the_default_channel(cast, api_for):
    finished_case(cast, "DEF-0030")
    r = api_for(cast.key_a).post(
        "/ratings", {"case_no": "DEF-0030", "channel": "default", "level": "satisfied"}
    )
    assert r.status_code == 422 and r.json()["code"] == "channel_not_allowed"


@pytest.mark.django_db
def test_the_worker_runs_the_sweep(cast):
    RatingPolicy.objects.create(region=cast.city, default_rating_enabled=True, default_rating_days=7)
    old_case(cast, "DEF-0040", 8)
    call_command("worker", "--once")
    assert Rating.objects.filter(is_default=True).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_several_workers_at_once_store_one_default_each():
    cast = build_cast()
    RatingPolicy.objects.create(region=cast.city, default_rating_enabled=True, default_rating_days=7)
    for i in range(6):
        old_case(cast, f"DEF-05{i:02d}", 8 + i, seq=50 + i)
    barrier = threading.Barrier(3)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=30)
            results.append(default_ratings_sweep(batch=4))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert sum(r["created"] for r in results) == 6
    assert Rating.objects.filter(is_default=True).count() == 6
