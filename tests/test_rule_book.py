"""The rule book (haocha/evaluations/rules.py) through every path: each rule code is sent through
`POST /api/ratings` (or `/api/ratings/follow-up`) and through `haocha import`, and each must answer with the
same code, writing nothing. A rule deleted on either path fails here; so does a rule added to the book without a
row in these tables."""

import json
from datetime import timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from haocha.accounts.access import actor_for_api_key
from haocha.catalogue.services import CaseInput, cases_upsert
from haocha.evaluations.models import IndicatorSet, Rating, RatingPolicy
from haocha.evaluations.rules import MAX_COMMENT, RULES
from haocha.organisations.models import Staff
from tests.factories import finished_case, resident_id

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR = timedelta(hours=1)


def ago(delta: timedelta):
    return timezone.now() - delta


# --- what is said, written for each path -------------------------------------------------------------


def api_request(said: dict) -> tuple[str, dict, dict]:
    """(path, body, headers) of POST /api/ratings[/follow-up] saying `said`."""
    body = {k: v for k, v in said.items() if k not in ("kind", "key", "rated_at")}
    if said.get("rated_at") is not None:
        body["rated_at"] = said["rated_at"].isoformat()
    headers = {"Idempotency-Key": said["key"]} if said.get("key") else {}
    return ("/ratings/follow-up" if said.get("kind") == 2 else "/ratings"), body, headers


def import_record(said: dict) -> dict:
    """The same as a line of `haocha import` (the national interface's field names)."""
    names = {
        "case_no": "projectNo",
        "channel": "pf",
        "level": "level",
        "satisfaction": "satisfaction",
        "indicators": "indicators",
        "reasons": "evalDetail",
        "comment": "writingEvaluation",
        "region_code": "regionCode",
        "window_code": "windowCode",
        "staff_no": "staffNo",
        "key": "submissionId",
        "kind": "assessNumber",
    }
    record = {names[k]: v for k, v in said.items() if k in names}
    evaluator = said.get("evaluator") or {}
    for ours, theirs in (
        ("type", "userProp"),
        ("name", "userName"),
        ("id_number", "certKey"),
        ("phone", "mobile"),
    ):
        if evaluator.get(ours):
            record[theirs] = evaluator[ours]
    record["assessTime"] = (
        (said.get("rated_at") or ago(timedelta(minutes=1))).astimezone(SHANGHAI).isoformat()
    )
    return record


def said(case_no="RB-1", **extra) -> dict:
    return {"case_no": case_no, "channel": "pc", "level": "very_satisfied", **extra}


# --- states the rules are checked against ----------------------------------------------------------


def rated(cast, api_for, what: dict) -> None:
    path, body, headers = api_request(what)
    r = api_for(cast.key_a).post(path, body, headers=headers)
    assert r.status_code == 201, r.content


def case_without_id_number(cast, case_no: str) -> None:
    [result] = cases_upsert(
        actor=actor_for_api_key(cast.key_city),
        records=[
            CaseInput(
                case_no=case_no,
                item_code=cast.item_a.code,
                applicant_type="1",
                applicant_name="王小明",
                accepted_at=ago(timedelta(days=2)),
                finished_at=ago(timedelta(hours=3)),
                status="finished",
            )
        ],
    )
    assert result.status == "created", result


def fresh(cast, api_for):
    finished_case(cast, "RB-1", finished_ago=timedelta(days=1))


def unfinished(cast, api_for):
    case = finished_case(cast, "RB-1")
    case.status, case.finished_at = "processing", None
    case.save()


def first_rated(cast, api_for):
    fresh(cast, api_for)
    rated(cast, api_for, said(rated_at=ago(2 * HOUR)))


def followed_up(cast, api_for):
    first_rated(cast, api_for)
    rated(cast, api_for, said(kind=2, level="satisfied", rated_at=ago(HOUR)))


def key_used_elsewhere(cast, api_for):
    fresh(cast, api_for)
    finished_case(cast, "RB-2", seq=2)
    rated(cast, api_for, said("RB-2", key="legacy-7"))


def foreign_staff(cast, api_for):
    fresh(cast, api_for)
    Staff.objects.create(staff_no="RS0001", name="周强", department=cast.dept_b)


def period_of_seven_days(cast, api_for):
    RatingPolicy.objects.create(region=cast.city, rating_window_days=7)
    finished_case(cast, "RB-1", finished_ago=timedelta(days=10))


def first_rated_by_someone_named(cast, api_for):
    case_without_id_number(cast, "RB-1")
    rated(cast, api_for, said(evaluator={"name": "王小明", "id_number": resident_id(1)}))


def first_rated_three_weeks_ago(cast, api_for):
    finished_case(cast, "RB-1", finished_ago=timedelta(days=22))
    rated(cast, api_for, said(rated_at=ago(timedelta(days=21))))


def no_indicator_sets(cast, api_for):
    fresh(cast, api_for)
    IndicatorSet.objects.update(is_active=False)


ANOTHER_PERSON = {"name": "赵六", "id_number": resident_id(77)}
BAD = {"level": "very_dissatisfied"}

# code -> (the state, what is said). The same state and words go through the API and through the import.
BOTH_PATHS = {
    "level_required": (fresh, {"case_no": "RB-1", "channel": "pc"}),
    "unknown_level": (fresh, said(level="great")),
    "level_mismatch": (fresh, said(level="satisfied", satisfaction=2)),
    "unknown_channel": (fresh, said(channel="fax")),
    "channel_not_allowed": (fresh, said(channel="default")),
    "case_or_window_required": (fresh, said(case_no="")),
    "case_not_found": (fresh, said("NOPE-1")),
    "window_not_found": (fresh, said(window_code="NO-SUCH-WINDOW")),
    "region_not_found": (fresh, said(region_code="999999")),
    "region_mismatch": (fresh, said(region_code="430000")),
    "staff_not_found": (fresh, said(staff_no="XX9999")),
    "staff_mismatch": (foreign_staff, said(staff_no="RS0001")),
    "invalid_evaluator_type": (fresh, said(evaluator={"type": "7", "name": "某单位"})),
    "invalid_id_number": (fresh, said(evaluator={"name": "张三", "id_number": "123"})),
    "invalid_phone": (fresh, said(evaluator={"name": "张三", "phone": "123"})),
    "not_applicant": (fresh, said(evaluator=ANOTHER_PERSON)),
    "not_first_evaluator": (first_rated_by_someone_named, said(kind=2, evaluator=ANOTHER_PERSON)),
    "idempotency_key_reused": (key_used_elsewhere, said(key="legacy-7")),
    "already_rated": (first_rated, said(level="satisfied")),
    "already_followed_up": (followed_up, said(kind=2, level="basically_satisfied")),
    "no_first_rating": (fresh, said(kind=2)),
    "invalid_time": (fresh, said(rated_at=ago(timedelta(days=365 * 30)))),
    "rated_at_in_future": (fresh, said(rated_at=ago(-timedelta(days=2)))),
    "case_not_finished": (unfinished, said()),
    "rated_before_finished": (fresh, said(rated_at=ago(timedelta(days=2)))),
    "rating_period_over": (period_of_seven_days, said(rated_at=ago(HOUR))),
    "rated_before_first": (first_rated, said(kind=2, rated_at=ago(3 * HOUR))),
    "follow_up_window_closed": (first_rated_three_weeks_ago, said(kind=2, rated_at=ago(HOUR))),
    "indicator_set_missing": (no_indicator_sets, said()),
    "unknown_indicator": (fresh, said(indicators={"x": "satisfied"})),
    "overall_mismatch": (fresh, said(indicators={"overall": "satisfied"})),
    "unknown_reason": (fresh, said(reasons=["NOPE"])),
    "reason_level_mismatch": (fresh, said(reasons=["ON401"])),
    "comment_too_long": (fresh, said(comment="慢" * (MAX_COMMENT + 1))),
    "bad_rating_needs_reason": (fresh, said(**BAD)),
}
# Rules only one path can reach, each with the reason and the test that sends it through that path.
ONE_PATH = {
    "visit_ratings_disabled": "一次一评 (no case) is not importable: test_visit_ratings_can_be_switched_off_by_policy",
    "case_rated": "case registration (PUT, bulk, import --kind cases): tests/test_rated_cases.py",
    "default_level_not_allowed": "default ratings only: test_a_bad_default_level_in_the_database_makes_no_rating",
    "unknown_flag": "correction flags: test_flag_rules_through_the_flags_api",
    "flag_reason_required": "correction flags: test_flag_rules_through_the_flags_api",
    "already_invalid": "correction flags: test_flag_rules_through_the_flags_api",
    "already_valid": "correction flags: test_flag_rules_through_the_flags_api",
    "hotline_order_no_not_allowed": "12345 order numbers come with the hotline's API ratings only (no import "
    "column): tests/test_hotline12345.py::test_a_12345_order_number_belongs_to_the_hotline_channel_only",
    "invalid_hotline_order_no": "as above: test_a_12345_order_number_belongs_to_the_hotline_channel_only",
}


def test_every_rule_of_the_book_is_in_a_table():
    assert set(BOTH_PATHS) | set(ONE_PATH) == set(RULES)
    assert not set(BOTH_PATHS) & set(ONE_PATH)


def _through_the_api(cast, api_for, what: dict):
    path, body, headers = api_request(what)
    return api_for(cast.key_a).post(path, body, headers=headers)


def _through_the_import(cast, tmp_path, what: dict) -> dict:
    path = tmp_path / "ratings.jsonl"
    path.write_text(json.dumps(import_record(what), ensure_ascii=False) + "\n", encoding="utf-8")
    out = StringIO()
    # as the API's caller: the same idempotency scope (client:<id>) as the ratings made through the API
    call_command("import", str(path), kind="ratings", client=cast.client_a.name, json=True, stdout=out)
    summary = json.loads(out.getvalue())
    rejects = []
    if summary["rejected"]:
        with open(summary["rejects_path"], encoding="utf-8") as fh:
            rejects = [json.loads(line) for line in fh]
    return {"summary": summary, "rejects": rejects}


# Other ways to break a rule of BOTH_PATHS, each through both paths too: (code, the state, what is said,
# what the message must quote).
FURTHER_WAYS = {
    "an indicator's unknown level": ("unknown_level", fresh, said(indicators={"overall": "great"}), "great"),
}


@pytest.mark.parametrize("code", sorted(BOTH_PATHS))
def test_each_rule_gives_the_same_code_through_the_api_and_the_import(cast, api_for, tmp_path, code):
    state, what = BOTH_PATHS[code]
    _same_code_on_both_paths(cast, api_for, tmp_path, code, state, what)


@pytest.mark.parametrize("way", sorted(FURTHER_WAYS))
def test_further_ways_to_break_a_rule_give_its_code_on_both_paths(cast, api_for, tmp_path, way):
    code, state, what, quoted = FURTHER_WAYS[way]
    assert quoted in _same_code_on_both_paths(cast, api_for, tmp_path, code, state, what)


def _same_code_on_both_paths(cast, api_for, tmp_path, code, state, what):
    state(cast, api_for)
    before = Rating.objects.count()
    r = _through_the_api(cast, api_for, what)
    assert 400 <= r.status_code < 600 and r.json()["code"] == code, r.content
    assert r.status_code == RULES[code][0] and r.json()["message"]
    assert Rating.objects.count() == before
    imported = _through_the_import(cast, tmp_path, what)
    assert imported["summary"]["imported"] == 0 and imported["summary"]["duplicates"] == 0, imported
    assert [(e["code"], bool(e["message"])) for e in imported["rejects"]] == [(code, True)]
    assert imported["rejects"][0]["message"] == r.json()["message"]  # one message per rule, too
    assert Rating.objects.count() == before
    return r.json()["message"]


def test_the_same_said_twice_is_a_replay_on_both_paths(cast, api_for, tmp_path):
    """The counterpart of already_rated: saying the same again is answered with the original."""
    first_rated(cast, api_for)
    again = said(rated_at=ago(2 * HOUR))
    r = _through_the_api(cast, api_for, again)
    assert r.status_code == 201 and r.headers["Idempotent-Replayed"] == "true"
    imported = _through_the_import(cast, tmp_path, again)
    assert imported["summary"]["duplicates"] == 1 and imported["rejects"] == []
    assert Rating.objects.count() == 1


def test_flag_rules_through_the_flags_api(cast, api_for):
    fresh(cast, api_for)
    rated(cast, api_for, said())
    rating = Rating.objects.get()
    supervisor = api_for(user=cast.supervisor)
    path = f"/ratings/{rating.public_id}/flags"
    for body, code in (
        ({"kind": "delete", "reason": "不需要"}, "unknown_flag"),
        ({"kind": "invalid", "reason": " \u200b "}, "flag_reason_required"),
        ({"kind": "restore", "reason": "误标"}, "already_valid"),
    ):
        r = supervisor.post(path, body)
        assert r.status_code == RULES[code][0] and r.json()["code"] == code, r.content
    assert supervisor.post(path, {"kind": "invalid", "reason": "恶意差评"}).status_code == 201
    r = supervisor.post(path, {"kind": "invalid", "reason": "再次标记"})
    assert r.status_code == 409 and r.json()["code"] == "already_invalid"
    assert rating.flags.count() == 1


def test_a_bad_default_level_in_the_database_makes_no_rating(cast):
    """The admin offers only good levels; one written past it (a script, an old row) makes no default rating."""
    from haocha.evaluations.defaults import default_ratings_sweep

    finished_case(cast, "RB-D", finished_ago=timedelta(days=9))
    RatingPolicy.objects.create(region=cast.city, default_rating_enabled=True, default_rating_days=7)
    RatingPolicy.objects.filter(region=cast.city).update(default_rating_level="dissatisfied")
    assert default_ratings_sweep() == {"created": 0, "skipped": 0, "refused": 1}
    assert not Rating.objects.exists()
