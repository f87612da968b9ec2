"""Edges of the rule book (evaluations/rules.py) that the table-driven test in test_rule_book.py does not
reach: keyed replays of 追评 and of window ratings, what a 追评 stores, arrival against stated times,
the applicant's stored identity reused, a restore, and what the refusals' messages name."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from haocha.catalogue.models import Case
from haocha.evaluations.models import Rating, RatingPolicy
from tests.factories import finished_case

pytestmark = pytest.mark.django_db


def body(case_no, **extra):
    return {"case_no": case_no, "channel": "pc", "level": "very_satisfied", **extra}


def test_a_follow_up_of_an_unknown_case_is_a_404(cast, api_for):
    r = api_for(cast.key_a).post("/ratings/follow-up", body("NO-SUCH-CASE"))
    assert r.status_code == 404 and r.json()["code"] == "case_not_found"
    assert "NO-SUCH-CASE" in r.json()["message"]


def test_a_keyed_follow_up_sent_again_is_a_replay_and_points_at_its_first_rating(cast, api_for):
    finished_case(cast, "EG-1", finished_ago=timedelta(days=2))
    api = api_for(cast.key_a)
    first = api.post("/ratings", body("EG-1", rated_at=(timezone.now() - timedelta(days=1)).isoformat()))
    assert first.status_code == 201
    key = {"Idempotency-Key": "fu-77"}
    follow = body("EG-1", level="dissatisfied", comment="说好三天办结，拖了一周")
    r = api.post("/ratings/follow-up", follow, headers=key)
    assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers, r.content
    again = api.post("/ratings/follow-up", follow, headers=key)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == r.json()["id"]
    stored = Rating.objects.get(kind=Rating.Kind.FOLLOW_UP)
    assert stored.first_rating_id == Rating.objects.get(kind=Rating.Kind.FIRST).pk


def test_a_key_used_at_one_window_is_not_a_replay_at_another(cast, api_for):
    api = api_for(cast.key_a)
    key = {"Idempotency-Key": "visit-5"}
    said = {"channel": "tablet", "level": "satisfied"}
    assert api.post("/ratings", {**said, "window_code": cast.window_a.code}, headers=key).status_code == 201
    r = api.post("/ratings", {**said, "window_code": cast.window_b.code}, headers=key)
    assert r.status_code == 422 and r.json()["code"] == "idempotency_key_reused", r.content
    again = api.post("/ratings", {**said, "window_code": cast.window_a.code}, headers=key)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert Rating.objects.count() == 1


def test_an_imported_follow_up_counts_when_it_was_given_the_api_when_it_arrives(cast, api_for, tmp_path):
    RatingPolicy.objects.create(region=cast.city, follow_up_days=15)
    finished_case(cast, "EG-2", finished_ago=timedelta(days=40))
    api = api_for(cast.key_a)
    assert (
        api.post(
            "/ratings", body("EG-2", rated_at=(timezone.now() - timedelta(days=39)).isoformat())
        ).status_code
        == 201
    )
    given = timezone.now() - timedelta(days=30)  # within 15 days of the first rating, sent only now
    late = body("EG-2", level="satisfied", rated_at=given.isoformat())
    r = api.post("/ratings/follow-up", late)
    assert r.status_code == 409 and r.json()["code"] == "follow_up_window_closed"  # arrives today
    path = tmp_path / "follow.jsonl"
    record = {
        "projectNo": "EG-2",
        "pf": "pc",
        "level": "satisfied",
        "assessNumber": 2,
        "assessTime": given.isoformat(),
    }
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    out = StringIO()
    call_command("import", str(path), kind="ratings", client=cast.client_a.name, json=True, stdout=out)
    assert json.loads(out.getvalue())["imported"] == 1  # a record of when it was given
    assert Rating.objects.filter(case__case_no="EG-2", kind=Rating.Kind.FOLLOW_UP).exists()


def test_the_applicant_named_by_phone_keeps_the_identity_stored_with_the_case(cast, api_for):
    finished_case(cast, "EG-3", seq=3)
    case = Case.objects.get(case_no="EG-3")
    r = api_for(cast.key_a).post(
        "/ratings", body("EG-3", evaluator={"name": "王小明", "phone": "138 1234 5678"})
    )
    assert r.status_code == 201, r.content
    rating = Rating.objects.get()
    assert rating.evaluator_phone_hash == case.applicant_phone_hash
    assert rating.evaluator_phone_enc == case.applicant_phone_enc


def test_a_restore_makes_the_rating_count_again(cast, api_for):
    finished_case(cast, "EG-4")
    assert (
        api_for(cast.key_a).post("/ratings", body("EG-4", level="dissatisfied", comment="态度差")).status_code
        == 201
    )
    rating = Rating.objects.get()
    supervisor = api_for(user=cast.supervisor)
    path = f"/ratings/{rating.public_id}/flags"
    assert supervisor.post(path, {"kind": "invalid", "reason": "恶意差评"}).status_code == 201
    rating.refresh_from_db()
    assert (rating.is_valid, rating.invalid_reason) == (False, "恶意差评")
    assert supervisor.post(path, {"kind": "restore", "reason": "复核后恢复"}).status_code == 201
    rating.refresh_from_db()
    assert (rating.is_valid, rating.invalid_reason) == (True, "")
    r = supervisor.post(path, {"kind": "delete", "reason": "不需要"})
    assert r.status_code == 422 and "delete" in r.json()["message"]


def test_a_rated_case_rewrite_names_every_frozen_field(cast, api_for):
    finished_case(cast, "EG-5")
    assert api_for(cast.key_a).post("/ratings", body("EG-5")).status_code == 201
    r = api_for(cast.key_city).put(
        "/cases/EG-5",
        {
            "item_code": cast.item_b.code,
            "applicant_type": "1",
            "applicant_name": "李四",
            "status": "finished",
            "accepted_at": (timezone.now() - timedelta(days=3)).isoformat(),
            "finished_at": (timezone.now() - timedelta(days=1)).isoformat(),
        },
    )
    assert r.status_code == 409 and r.json()["code"] == "case_rated", r.content
    assert r.json()["message"].startswith("办件已评价，评价所依据的信息不能再修改：事项、")


def test_a_default_rating_has_no_words(cast):
    from haocha.evaluations.defaults import default_ratings_sweep

    finished_case(cast, "EG-6", finished_ago=timedelta(days=9))
    RatingPolicy.objects.create(region=cast.city, default_rating_enabled=True, default_rating_days=7)
    assert default_ratings_sweep()["created"] == 1
    rating = Rating.objects.get()
    assert (rating.is_default, rating.comment, rating.reason_codes) == (True, "", [])


def test_without_an_indicator_set_a_default_rating_waits_for_the_next_sweep(cast):
    from haocha.evaluations.defaults import default_ratings_sweep
    from haocha.evaluations.models import IndicatorSet

    finished_case(cast, "EG-7", finished_ago=timedelta(days=9))
    RatingPolicy.objects.create(region=cast.city, default_rating_enabled=True, default_rating_days=7)
    IndicatorSet.objects.update(is_active=False)
    assert default_ratings_sweep() == {"created": 0, "skipped": 1, "refused": 0}  # not a refused policy
    assert not Rating.objects.exists()
    IndicatorSet.objects.update(is_active=True)
    assert default_ratings_sweep()["created"] == 1


def test_what_a_refusal_names(cast, api_for):
    finished_case(cast, "EG-8")
    api = api_for(cast.key_a)
    for said, code, quoted in (
        ({"window_code": "NO-SUCH-WINDOW"}, "window_not_found", "NO-SUCH-WINDOW"),
        ({"staff_no": "XX9999"}, "staff_not_found", "XX9999"),
        ({"region_code": "430000"}, "region_mismatch", "长沙市"),
    ):
        r = api.post("/ratings", body("EG-8", **said))
        assert r.json()["code"] == code and quoted in r.json()["message"], (code, r.json())


def test_a_rating_a_minute_after_the_case_finished_is_taken(cast, api_for):
    case = finished_case(cast, "EG-9")
    r = api_for(cast.key_a).post(
        "/ratings", body("EG-9", rated_at=(case.finished_at + timedelta(minutes=1)).isoformat())
    )
    assert r.status_code == 201, r.content


def test_a_window_rating_of_a_case_without_a_hall_takes_the_windows_hall(cast, api_for):
    finished_case(cast, "EG-10")
    r = api_for(cast.key_a).post("/ratings", body("EG-10", channel="tablet", window_code=cast.window_a.code))
    assert r.status_code == 201, r.content
    assert Rating.objects.get().hall_id == cast.hall.pk


def test_staff_of_another_department_serving_at_the_window_may_be_rated(cast, api_for):
    from haocha.organisations.models import Staff

    helper = Staff.objects.create(staff_no="SB0009", name="赵敏", department=cast.dept_b, title="综合窗口")
    helper.windows.add(cast.window_a)
    api = api_for(cast.key_a)
    finished_case(cast, "EG-11")
    r = api.post(
        "/ratings", body("EG-11", channel="tablet", window_code=cast.window_a.code, staff_no="SB0009")
    )
    assert r.status_code == 201, r.content
    finished_case(cast, "EG-12", seq=12)
    r = api.post("/ratings", body("EG-12", staff_no="SB0009"))  # not at a window of the case's department
    assert r.status_code == 422 and r.json()["code"] == "staff_mismatch", r.content


def test_who_is_named_is_stored_as_named(cast, api_for):
    from haocha.core import identity
    from tests.factories import resident_id
    from tests.test_rule_book import case_without_id_number

    case_without_id_number(cast, "EG-13")
    someone = resident_id(31)
    r = api_for(cast.key_a).post("/ratings", body("EG-13", evaluator={"name": "周杰", "id_number": someone}))
    assert r.status_code == 201, r.content
    rating = Rating.objects.get()
    assert rating.evaluator_name == "周杰"
    assert identity.decrypt(rating.evaluator_id_enc) == someone
    assert (rating.evaluator_phone_hash, rating.evaluator_phone_masked, rating.evaluator_phone_enc) == (
        "",
        "",
        "",
    )


def test_a_satisfaction_that_is_not_a_whole_number_is_refused_by_the_import(cast, tmp_path):
    finished_case(cast, "EG-14")
    path = tmp_path / "r.jsonl"
    path.write_text(
        json.dumps({"projectNo": "EG-14", "pf": "pc", "satisfaction": 4.5}) + "\n", encoding="utf-8"
    )
    out = StringIO()
    call_command("import", str(path), kind="ratings", client=cast.client_a.name, json=True, stdout=out)
    summary = json.loads(out.getvalue())
    with open(summary["rejects_path"], encoding="utf-8") as fh:
        rejects = [json.loads(line) for line in fh]
    assert [r["code"] for r in rejects] == ["unknown_level"]
