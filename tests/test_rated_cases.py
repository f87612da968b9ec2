"""Once rated, a case keeps what its rating rests on (issue 12, hole 5): the approval system cannot move it back to
accepted, give it another applicant, item or department, or another finish time, through PUT, bulk or
`haocha import --kind cases` (409 case_rated, naming the fields); what the rating does not rest on may still
change. A finish time in the future is refused."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from haocha.catalogue.models import Case
from tests.factories import resident_id
from tests.test_cases_api import case_body

pytestmark = pytest.mark.django_db


def rated_case(cast, api_for, case_no="FZ-1"):
    api = api_for(cast.key_a)
    assert api.put(f"/cases/{case_no}", case_body(cast)).status_code == 201
    r = api.post(
        "/ratings", {"case_no": case_no, "channel": "pc", "level": "dissatisfied", "comment": "太慢"}
    )
    assert r.status_code == 201, r.content
    return api


@pytest.mark.parametrize(
    "change, fields",
    [
        ({"status": "accepted", "finished_at": None}, ["status", "finished_at"]),
        (
            {"applicant_name": "赵六", "applicant_id_number": resident_id(77)},
            ["applicant_name", "applicant_id_hash"],
        ),
        ({"applicant_phone": "13900001111"}, ["applicant_phone_hash"]),
        (
            {"item_code": "11430100MB1B02-001", "window_code": "", "staff_no": ""},
            ["item_id", "department_id"],
        ),
        ({"finished_at": "2026-11-25T10:00:00+08:00"}, ["finished_at"]),
    ],
)
def test_a_rated_case_keeps_what_its_rating_rests_on(cast, api_for, change, fields):
    api = rated_case(cast, api_for)
    before = Case.objects.values().get(case_no="FZ-1")
    r = api_for(cast.key_city).put("/cases/FZ-1", case_body(cast, **change))
    assert r.status_code == 409, r.content
    body = r.json()
    assert body["code"] == "case_rated" and body["details"]["fields"] == fields
    assert "办件已评价" in body["message"]
    assert Case.objects.values().get(case_no="FZ-1") == before
    assert api.get("/cases/FZ-1").json()["status"] == "finished"


def test_what_the_rating_does_not_rest_on_may_change_and_an_unrated_case_anything(cast, api_for):
    api = rated_case(cast, api_for)
    r = api.put("/cases/FZ-1", case_body(cast))  # the same record again
    assert r.status_code == 200, r.content
    r = api.put("/cases/FZ-1", case_body(cast, promised_at="2026-11-30T17:00:00+08:00", staff_no=""))
    assert r.status_code == 200, r.content
    assert r.json()["staff_no"] is None
    assert api.put("/cases/FZ-2", case_body(cast)).status_code == 201
    r = api.put("/cases/FZ-2", case_body(cast, status="processing", finished_at=None, applicant_name="赵六"))
    assert r.status_code == 200 and r.json()["status"] == "processing"


def test_bulk_and_the_case_import_refuse_the_rated_ones_only(cast, api_for, tmp_path):
    api = rated_case(cast, api_for)
    r = api.post(
        "/cases/bulk",
        {
            "cases": [
                {"case_no": "FZ-1", **case_body(cast, status="accepted", finished_at=None)},
                {"case_no": "FZ-3", **case_body(cast)},
            ]
        },
    )
    assert r.status_code == 200, r.content
    results = {x["case_no"]: x for x in r.json()["results"]}
    assert results["FZ-1"]["result"] == "rejected" and results["FZ-1"]["code"] == "case_rated"
    assert "办件状态" in results["FZ-1"]["message"] and results["FZ-3"]["result"] == "created"
    record = {
        "projectNo": "FZ-1",
        "taskCode": cast.item_a.code,
        "userProp": "1",
        "userName": "赵六",
        "certKey": resident_id(77),
        "proStatus": "已办结",
        "acceptDate": "20261120T093000",
        "finishDate": "20261124T160000",
    }
    path = tmp_path / "cases.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    out = StringIO()
    call_command("import", str(path), kind="cases", client=cast.client_a.name, json=True, stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["rejected"] == 1 and summary["reject_codes"] == {"case_rated": 1}
    assert Case.objects.get(case_no="FZ-1").applicant_name == "刘洋"


def test_a_finish_time_in_the_future_is_refused(cast, api_for):
    api = api_for(cast.key_a)
    tomorrow = (timezone.now() + timedelta(days=1)).isoformat()
    r = api.put("/cases/FZ-9", case_body(cast, finished_at=tomorrow))
    assert r.status_code == 422 and r.json()["code"] == "finished_in_future"
    assert not Case.objects.filter(case_no="FZ-9").exists()
