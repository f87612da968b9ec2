"""`haocha import`: bulk ratings and cases from CSV and JSON lines, checked like the intake, idempotent."""

import csv
import json
from datetime import timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from haocha.catalogue.models import Case
from haocha.core.identity import decrypt
from haocha.evaluations.case_import import import_cases
from haocha.evaluations.importer import import_ratings
from haocha.evaluations.models import Rating
from tests.factories import finished_case, resident_id

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
RATING_FIELDS = [
    "projectNo",
    "pf",
    "satisfaction",
    "level",
    "evalDetail",
    "writingEvaluation",
    "assessTime",
    "assessNumber",
    "userProp",
    "userName",
    "certKey",
    "mobile",
    "submissionId",
]


def compact(ago: timedelta) -> str:
    """A GB/T 39046 time (YYYYMMDDThhmmss, Beijing time) `ago` before now."""
    return (timezone.now() - ago).astimezone(SHANGHAI).strftime("%Y%m%dT%H%M%S")


def write_csv(path, fields, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
    return path


def write_jsonl(path, lines):
    with open(path, "w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(line if isinstance(line, str) else json.dumps(line, ensure_ascii=False))
            fh.write("\n")
    return path


def rejects_of(summary) -> dict[int, str]:
    with open(summary.rejects_path, encoding="utf-8") as fh:
        entries = [json.loads(line) for line in fh]
    for entry in entries:
        assert entry["message"], entry  # every reject says why, in Chinese
    return {e["line"]: e["code"] for e in entries}


def test_csv_ratings_import_rejects_bad_rows_and_is_idempotent(cast, tmp_path):
    for i in range(1, 5):
        finished_case(cast, f"IM-{i}", seq=i)
    open_case = finished_case(cast, "IM-OPEN", seq=9)
    Case.objects.filter(pk=open_case.pk).update(status="processing", finished_at=None)
    hour = compact(timedelta(hours=1))
    later = compact(timedelta(minutes=30))
    rows = [
        # line 2: a first rating through the PC channel (pf 1), satisfaction 5 = 非常满意
        {"projectNo": "IM-1", "pf": "1", "satisfaction": "5", "assessTime": hour},
        # line 3: a 差评 with a reason code, mobile channel (pf 2), satisfaction 2 = 不满意
        {
            "projectNo": "IM-2",
            "pf": "2",
            "satisfaction": "2",
            "evalDetail": "ON401,ON404",
            "assessTime": hour,
        },
        # line 4: a 差评 without reason or comment
        {"projectNo": "IM-3", "pf": "1", "satisfaction": "1", "assessTime": hour},
        # line 5: unknown case
        {"projectNo": "NOPE-1", "pf": "1", "satisfaction": "5", "assessTime": hour},
        # line 6: unknown channel code
        {"projectNo": "IM-3", "pf": "9", "satisfaction": "5", "assessTime": hour},
        # line 7: reason of another level
        {"projectNo": "IM-3", "pf": "1", "level": "非常满意", "evalDetail": "ON401", "assessTime": hour},
        # line 8: case not finished
        {"projectNo": "IM-OPEN", "pf": "1", "satisfaction": "5", "assessTime": hour},
        # line 9: 追评 of IM-1 (first rating in the same batch), our channel name, Chinese level word
        {
            "projectNo": "IM-1",
            "pf": "hotline_12345",
            "level": "满意",
            "assessTime": later,
            "assessNumber": "2",
        },
        # line 10: 追评 without a first rating
        {"projectNo": "IM-4", "pf": "1", "satisfaction": "5", "assessTime": later, "assessNumber": "2"},
        # line 11: a time in the future
        {"projectNo": "IM-4", "pf": "1", "satisfaction": "5", "assessTime": "20990101T000000"},
        # line 12: not a time
        {"projectNo": "IM-4", "pf": "1", "satisfaction": "5", "assessTime": "yesterday"},
        # line 13: another person rating IM-2
        {
            "projectNo": "IM-2",
            "pf": "1",
            "satisfaction": "5",
            "assessTime": hour,
            "userName": "赵六",
            "certKey": resident_id(77),
        },
        # line 14: the applicant again on IM-1 with another phone: a second first rating
        {
            "projectNo": "IM-1",
            "pf": "1",
            "satisfaction": "4",
            "assessTime": hour,
            "userName": "王小明",
            "certKey": resident_id(1),
            "mobile": "13900001111",
        },
        # line 15: the same first rating of IM-1 repeated by the legacy system: a duplicate, not an error
        {"projectNo": "IM-1", "pf": "1", "satisfaction": "5", "assessTime": hour},
        # line 16: neither satisfaction nor level
        {"projectNo": "IM-4", "pf": "1", "assessTime": hour},
    ]
    path = write_csv(tmp_path / "ratings.csv", RATING_FIELDS, rows)

    summary = import_ratings(path, batch=4)  # several batches, a 追评 and its first rating together
    assert summary.read == 15
    assert summary.imported == 3 and summary.duplicates == 1 and summary.rejected == 11
    assert rejects_of(summary) == {
        4: "bad_rating_needs_reason",
        5: "case_not_found",
        6: "unknown_channel",
        7: "reason_level_mismatch",
        8: "case_not_finished",
        10: "no_first_rating",
        11: "rated_at_in_future",
        12: "invalid_time",
        13: "not_applicant",
        14: "already_rated",
        16: "level_required",
    }
    first = Rating.objects.get(case__case_no="IM-1", kind=1)
    assert first.level == "very_satisfied" and first.channel == "pc" and not first.is_bad
    assert first.indicator_set.code == "online" and first.indicator_levels == {"overall": "very_satisfied"}
    assert first.evaluator_id_masked.startswith("430") and first.evaluator_phone_masked == "138****5678"
    assert first.idempotency_scope == "import" and first.source is None
    bad = Rating.objects.get(case__case_no="IM-2")
    assert bad.is_bad and bad.level == "dissatisfied" and bad.reason_codes == ["ON401", "ON404"]
    assert bad.channel == "mobile" and bad.department_id == cast.dept_a.pk and bad.region_id == cast.city.pk
    follow = Rating.objects.get(case__case_no="IM-1", kind=2)
    assert follow.first_rating_id == first.pk and follow.level == "satisfied"
    assert follow.channel == "hotline_12345" and follow.indicator_set.code == "offline"
    assert follow.evaluator_id_hash == first.evaluator_id_hash
    assert follow.rated_at > first.rated_at

    again = import_ratings(path, batch=100)
    assert again.imported == 0 and again.duplicates == 4 and again.rejected == 11
    assert rejects_of(again) == rejects_of(summary)
    assert Rating.objects.count() == 3


def test_jsonl_ratings_with_submission_ids_arrays_and_iso_times(cast, tmp_path):
    for i in range(1, 4):
        finished_case(cast, f"JL-{i}", seq=i)
    finished_case(cast, "JL-B", item=cast.item_b, seq=4)
    iso = (timezone.now() - timedelta(hours=1)).astimezone(SHANGHAI).replace(tzinfo=None).isoformat()
    utc = (timezone.now() - timedelta(minutes=50)).isoformat()
    lines = [
        {"projectNo": "JL-1", "pf": 4, "satisfaction": 3, "assessTime": iso, "submissionId": "old-1"},
        "{not json",
        {
            "projectNo": "JL-2",
            "pf": "3",
            "level": "very_dissatisfied",
            "evalDetail": ["OF501", "OF503"],
            "writingEvaluation": "窗口推诿",
            "assessTime": utc,
            "submissionId": "old-2",
            "clientIp": "10.1.2.3",
            "deviceId": "PAD-7",
        },
        # the key old-1 again, for another case
        {"projectNo": "JL-3", "pf": "1", "satisfaction": 5, "assessTime": iso, "submissionId": "old-1"},
        {"projectNo": "JL-3", "pf": "1", "satisfaction": 5, "assessTime": iso, "clientIp": "999.1.1.1"},
        {"projectNo": "JL-3", "pf": "7", "satisfaction": 5, "assessTime": iso, "assessNumber": 3},
        [1, 2],
        # a 人社 case rated at a 市场监管 clerk's number
        {"projectNo": "JL-B", "pf": "4", "satisfaction": 5, "assessTime": iso, "staffNo": "SJ0001"},
        # the key of JL-1's first rating reused for its 追评: keys are per rating kind
        {
            "projectNo": "JL-1",
            "pf": "1",
            "satisfaction": 5,
            "assessTime": utc,
            "assessNumber": 2,
            "submissionId": "old-1",
        },
        {"projectNo": "JL-3", "pf": "1", "satisfaction": 5, "assessTime": "19991231T235959"},
    ]
    path = write_jsonl(tmp_path / "ratings.jsonl", lines)
    summary = import_ratings(path, client=cast.client_city)
    assert summary.read == 10 and summary.imported == 2 and summary.rejected == 8
    assert rejects_of(summary) == {
        2: "unreadable_line",
        4: "idempotency_key_reused",
        5: "invalid_client_ip",
        6: "invalid_assess_number",
        7: "unreadable_line",
        8: "staff_mismatch",
        9: "idempotency_key_reused",
        10: "invalid_time",
    }
    tablet = Rating.objects.get(case__case_no="JL-1")
    assert tablet.channel == "tablet" and tablet.level == "basically_satisfied"
    assert tablet.indicator_set.code == "offline" and tablet.source_id == cast.client_city.pk
    assert tablet.idempotency_scope == f"client:{cast.client_city.pk}" and tablet.idempotency_key == "old-1"
    assert abs((tablet.rated_at - (timezone.now() - timedelta(hours=1))).total_seconds()) < 5
    qr = Rating.objects.get(case__case_no="JL-2")
    assert qr.channel == "qrcode" and qr.is_bad and qr.reason_codes == ["OF501", "OF503"]
    assert qr.comment == "窗口推诿" and qr.client_ip == "10.1.2.3" and qr.device_id == "PAD-7"
    again = import_ratings(path, client=cast.client_city)
    assert again.imported == 0 and again.duplicates == 2 and again.rejected == 8


def test_an_imported_rating_looks_like_one_made_through_the_api(cast, api_for, tmp_path):
    finished_case(cast, "EQ-API", seq=5)
    finished_case(cast, "EQ-IMP", seq=5)
    evaluator = {"type": "1", "name": "王小明", "id_number": resident_id(5), "phone": "13812345678"}
    body = {
        "case_no": "EQ-API",
        "channel": "mobile",
        "satisfaction": 2,
        "reasons": ["ON402"],
        "comment": "指南与实际不符",
        "evaluator": evaluator,
    }
    r = api_for(cast.key_city).post("/ratings", body)
    assert r.status_code == 201, r.content
    record = {
        "projectNo": "EQ-IMP",
        "pf": "2",
        "satisfaction": 2,
        "evalDetail": "ON402",
        "writingEvaluation": "指南与实际不符",
        "assessTime": compact(timedelta(minutes=1)),
        "userProp": "1",
        "userName": "王小明",
        "certKey": resident_id(5),
        "mobile": "13812345678",
    }
    summary = import_ratings(write_jsonl(tmp_path / "one.jsonl", [record]), client=cast.client_city)
    assert summary.imported == 1, summary.as_dict()
    via_api = Rating.objects.get(case__case_no="EQ-API")
    via_import = Rating.objects.get(case__case_no="EQ-IMP")
    same = [
        "kind",
        "level",
        "is_bad",
        "channel",
        "indicator_set_id",
        "indicator_levels",
        "reason_codes",
        "comment",
        "department_id",
        "hall_id",
        "window_id",
        "staff_id",
        "item_id",
        "region_id",
        "evaluator_type",
        "evaluator_name",
        "evaluator_id_hash",
        "evaluator_id_masked",
        "evaluator_phone_hash",
        "evaluator_phone_masked",
        "source_id",
        "is_default",
        "is_valid",
        "is_hidden",
    ]
    assert {f: getattr(via_import, f) for f in same} == {f: getattr(via_api, f) for f in same}
    assert decrypt(via_import.evaluator_id_enc) == decrypt(via_api.evaluator_id_enc) == resident_id(5)
    assert decrypt(via_import.evaluator_phone_enc) == "13812345678"
    # the API renders both the same way
    api = api_for(cast.key_city)
    shown_api = api.get("/ratings", case_no="EQ-API").json()[0]
    shown_import = api.get("/ratings", case_no="EQ-IMP").json()[0]
    for key in ("id", "case_no", "rated_at"):
        shown_api.pop(key), shown_import.pop(key)
    assert shown_import == shown_api


def test_a_follow_up_after_an_api_rating_and_its_limits(cast, api_for, tmp_path):
    finished_case(cast, "FU-1", seq=1)
    finished_case(cast, "FU-2", seq=2)
    api = api_for(cast.key_city)
    assert api.post("/ratings", {"case_no": "FU-1", "channel": "pc", "level": "satisfied"}).status_code == 201
    first_at = Rating.objects.get(case__case_no="FU-1").rated_at
    now = timezone.now()
    lines = [
        {"projectNo": "FU-1", "pf": "1", "satisfaction": 4, "assessNumber": 2, "assessTime": now.isoformat()},
        {
            "projectNo": "FU-1",
            "pf": "1",
            "satisfaction": 3,
            "assessNumber": 2,
            "assessTime": now.isoformat(),
            "mobile": "13700000000",
        },
        {
            "projectNo": "FU-2",
            "pf": "1",
            "satisfaction": 5,
            "assessTime": (now - timedelta(minutes=10)).isoformat(),
        },
        {
            "projectNo": "FU-2",
            "pf": "1",
            "satisfaction": 5,
            "assessNumber": 2,
            "assessTime": (now - timedelta(minutes=20)).isoformat(),
        },
    ]
    summary = import_ratings(write_jsonl(tmp_path / "fu.jsonl", lines))
    assert summary.imported == 2
    assert rejects_of(summary) == {2: "already_followed_up", 4: "rated_before_first"}
    follow = Rating.objects.get(case__case_no="FU-1", kind=2)
    assert follow.first_rating.rated_at == first_at and follow.level == "satisfied"
    # the API refuses a second 追评, as the import did
    r = api.post("/ratings/follow-up", {"case_no": "FU-1", "channel": "pc", "level": "basically_satisfied"})
    assert r.status_code in (201, 409)
    assert Rating.objects.filter(case__case_no="FU-1", kind=2).count() == 1


CASE_FIELDS = [
    "projectNo",
    "taskCode",
    "proDepartCode",
    "userProp",
    "userName",
    "certKey",
    "mobile",
    "applyChannel",
    "proStatus",
    "acceptDate",
    "finishDate",
    "promiseTime",
    "windowCode",
    "staffNo",
]


def _case_row(cast, accepted_ago: timedelta, finished_ago: timedelta) -> dict:
    """A finished case record (national interface field names) without its number and ID number."""
    return {
        "taskCode": cast.item_a.code,
        "userProp": "1",
        "userName": "刘洋",
        "mobile": "13512345678",
        "applyChannel": "网上申报",
        "proStatus": "已办结",
        "acceptDate": compact(accepted_ago),
        "finishDate": compact(finished_ago),
    }


def test_cases_import_then_ratings_on_them(cast, tmp_path):
    base = _case_row(cast, timedelta(days=2), timedelta(hours=3))
    rows = [
        {**base, "projectNo": "CI-1", "certKey": resident_id(11)},
        {**base, "projectNo": "CI-2", "certKey": resident_id(12), "windowCode": cast.window_a.code},
        {**base, "projectNo": "CI-3", "taskCode": "NO-SUCH-ITEM"},
        {**base, "projectNo": "CI-4", "certKey": "430102198503120000"},
        {**base, "projectNo": "CI-5", "finishDate": ""},
        {**base, "projectNo": "CI-6", "acceptDate": ""},
        {**base, "projectNo": "CI-7", "proStatus": "办理中", "finishDate": ""},
    ]
    path = write_csv(tmp_path / "cases.csv", CASE_FIELDS, rows)
    summary = import_cases(path, client=cast.client_a)
    assert summary.imported == 3 and summary.rejected == 4, summary.as_dict()
    assert rejects_of(summary) == {
        4: "item_not_found",
        5: "invalid_id_number",
        6: "finished_at_required",
        7: "accepted_at_required",
    }
    case = Case.objects.get(case_no="CI-2")
    assert case.status == "finished" and case.source_id == cast.client_a.pk
    assert case.window_id == cast.window_a.pk and case.hall_id == cast.hall.pk
    assert case.applicant_phone_masked == "135****5678"

    again = import_cases(path, client=cast.client_a)
    assert again.imported == 0 and again.updated == 0 and again.duplicates == 3
    # a later export where CI-7 is finished updates it, in file order
    rows.append({**base, "projectNo": "CI-7"})
    write_csv(path, CASE_FIELDS, rows)
    third = import_cases(path, client=cast.client_a)
    assert third.updated == 1 and third.duplicates == 3
    assert Case.objects.get(case_no="CI-7").status == "finished"

    ratings = write_csv(
        tmp_path / "r.csv",
        [*RATING_FIELDS, "windowCode"],
        [
            {"projectNo": "CI-2", "pf": "4", "satisfaction": 5, "assessTime": compact(timedelta(hours=1))},
            {
                "projectNo": "CI-1",
                "pf": "4",
                "satisfaction": 5,
                "assessTime": compact(timedelta(hours=1)),
                "windowCode": cast.window_b.code,
            },
        ],
    )
    result = import_ratings(ratings)
    assert result.imported == 2
    at_window = Rating.objects.get(case__case_no="CI-2")
    assert at_window.window_id == cast.window_a.pk and at_window.hall_id == cast.hall.pk
    assert Rating.objects.get(case__case_no="CI-1").window_id == cast.window_b.pk


def test_imported_history_invites_no_one_by_sms_unless_asked(cast, tmp_path):
    from haocha.integrations.sms.models import SmsInvitation

    base = _case_row(cast, timedelta(days=1), timedelta(hours=1))  # recent: the live intake would invite
    history = write_csv(
        tmp_path / "h.csv", CASE_FIELDS, [{**base, "projectNo": "SMS-1", "certKey": resident_id(31)}]
    )
    assert import_cases(history, client=cast.client_a).imported == 1
    assert not SmsInvitation.objects.exists()

    asked = write_csv(
        tmp_path / "a.csv", CASE_FIELDS, [{**base, "projectNo": "SMS-2", "certKey": resident_id(32)}]
    )
    out = StringIO()
    call_command("import", str(asked), kind="cases", sms_invitations=True, json=True, stdout=out)
    assert json.loads(out.getvalue())["imported"] == 1
    assert list(SmsInvitation.objects.values_list("case__case_no", flat=True)) == ["SMS-2"]
    with pytest.raises(CommandError, match="只用于导入办件"):
        call_command("import", str(asked), kind="ratings", sms_invitations=True)


def test_the_command_prints_a_summary_and_writes_rejects(cast, tmp_path):
    finished_case(cast, "CMD-1")
    path = write_csv(
        tmp_path / "cmd.csv",
        RATING_FIELDS,
        [
            {"projectNo": "CMD-1", "pf": "1", "satisfaction": 5, "assessTime": compact(timedelta(hours=1))},
            {"projectNo": "CMD-2", "pf": "1", "satisfaction": 5, "assessTime": compact(timedelta(hours=1))},
        ],
    )
    out = StringIO()
    call_command("import", str(path), kind="ratings", client=cast.client_city.name, stdout=out)
    text = out.getvalue()
    assert "导入 1 条" in text and "拒绝 1 条" in text and "case_not_found" in text
    assert (tmp_path / "cmd.csv.rejects.jsonl").exists()
    out = StringIO()
    call_command("import", str(path), kind="ratings", json=True, stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["imported"] == 0 and summary["duplicates"] == 1 and summary["rejected"] == 1


def test_where_rated_bad_characters_and_work_orders_on_request(cast, tmp_path):
    from haocha.workorders.models import WorkOrder

    for i in range(1, 4):
        finished_case(cast, f"WO-{i}", seq=i)
    hour = compact(timedelta(hours=1))
    lines = [
        {"projectNo": "WO-1", "pf": "4", "satisfaction": 1, "evalDetail": "OF501", "assessTime": hour},
        {"projectNo": "WO-2", "pf": "1", "satisfaction": 5, "assessTime": hour, "regionCode": "430104"},
        {"projectNo": "WO-3", "pf": "1", "satisfaction": 5, "assessTime": hour, "regionCode": "999999"},
        {"projectNo": "WO-3", "pf": "1", "satisfaction": 5, "assessTime": hour, "regionCode": "430000"},
        {"projectNo": "WO-3", "pf": "1", "satisfaction": 5, "assessTime": hour, "staffNo": "NOBODY"},
        {
            "projectNo": "WO-3",
            "pf": "1",
            "satisfaction": 5,
            "assessTime": hour,
            "writingEvaluation": "a\x00b",
        },
    ]
    path = write_jsonl(tmp_path / "wo.jsonl", lines)
    summary = import_ratings(path)
    assert summary.imported == 2
    assert rejects_of(summary) == {
        3: "region_not_found",
        4: "region_mismatch",
        5: "staff_not_found",
        6: "invalid_character",
    }
    assert Rating.objects.get(case__case_no="WO-2").region_id == cast.yuelu.pk
    # history: an imported 差评 makes no work order unless asked for
    assert not WorkOrder.objects.exists()

    finished_case(cast, "WO-4", seq=4)
    more = write_jsonl(
        tmp_path / "wo2.jsonl",
        [{"projectNo": "WO-4", "pf": "4", "satisfaction": 2, "evalDetail": "OF402", "assessTime": hour}],
    )
    assert import_ratings(more, work_orders=True).imported == 1
    order = WorkOrder.objects.get()
    assert order.rating.case.case_no == "WO-4"


def test_a_failing_batch_leaves_nothing_behind(cast, tmp_path, monkeypatch):
    from haocha.evaluations import importer

    for i in range(1, 5):
        finished_case(cast, f"TX-{i}", seq=i)
    hour = compact(timedelta(hours=1))
    path = write_jsonl(
        tmp_path / "tx.jsonl",
        [{"projectNo": f"TX-{i}", "pf": "1", "satisfaction": 5, "assessTime": hour} for i in range(1, 5)],
    )
    calls = {"n": 0}
    original = importer.RatingImporter._write

    def fail_on_second_batch(self, cursor, rows):
        calls["n"] += 1
        original(self, cursor, rows)  # the rows are written, then the batch fails
        if calls["n"] == 2:
            raise RuntimeError("disk full")

    monkeypatch.setattr(importer.RatingImporter, "_write", fail_on_second_batch)
    with pytest.raises(RuntimeError):
        import_ratings(path, batch=2)
    assert sorted(Rating.objects.values_list("case__case_no", flat=True)) == ["TX-1", "TX-2"]
    monkeypatch.undo()
    again = import_ratings(path, batch=2)
    assert again.imported == 2 and again.duplicates == 2


def test_several_insert_statements_per_batch_and_every_row_queued_for_the_rollups(
    cast, tmp_path, monkeypatch
):
    from haocha.analytics.models import RatingPending
    from haocha.evaluations import importer

    monkeypatch.setattr(importer, "_SQLITE_ROWS_PER_INSERT", 3)  # 8 first ratings: 3 + 3 + 2 rows
    for i in range(1, 9):
        finished_case(cast, f"MR-{i}", seq=i)
    hour, now = compact(timedelta(hours=1)), compact(timedelta(minutes=1))
    lines = [
        {
            "projectNo": f"MR-{i}",
            "pf": "1",
            "satisfaction": 5 - i % 2,
            "assessTime": hour,
            "submissionId": f"mr-{i}",
        }
        for i in range(1, 9)
    ] + [
        {"projectNo": f"MR-{i}", "pf": "1", "satisfaction": 5, "assessNumber": 2, "assessTime": now}
        for i in (2, 5, 7)
    ]
    RatingPending.objects.all().delete()
    summary = import_ratings(write_jsonl(tmp_path / "mr.jsonl", lines), batch=100)
    assert (summary.imported, summary.rejected) == (11, 0)
    ratings = Rating.objects.filter(case__case_no__startswith="MR-")
    assert ratings.count() == 11
    assert sorted(RatingPending.objects.values_list("rating_id", flat=True)) == sorted(
        ratings.values_list("pk", flat=True)
    )
    for rating in ratings.filter(kind=2).select_related("first_rating", "case"):
        assert rating.first_rating.case_id == rating.case_id and rating.first_rating.kind == 1
    assert {r.case.case_no: r.level for r in ratings.filter(kind=1).select_related("case")}[
        "MR-3"
    ] == "satisfied"
    again = import_ratings(tmp_path / "mr.jsonl", batch=100)
    assert (again.imported, again.duplicates) == (0, 11)
