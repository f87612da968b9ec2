"""Approval systems register cases: idempotent upsert on 办件编号, bulk with per-record results."""

import json

import pytest

from haocha.catalogue.models import Case
from tests.factories import resident_id

pytestmark = pytest.mark.django_db


def case_body(cast, **extra):
    body = {
        "item_code": cast.item_a.code,
        "applicant_type": "1",
        "applicant_name": "刘洋",
        "applicant_id_number": resident_id(3),
        "applicant_phone": "13907311234",
        "apply_channel": "hall",
        "window_code": cast.window_a.code,
        "staff_no": cast.staff_a.staff_no,
        "status": "finished",
        "accepted_at": "2026-11-20T09:30:00+08:00",
        "finished_at": "2026-11-24T16:00:00",
    }
    body.update(extra)
    return body


def test_put_creates_then_updates_never_duplicates(cast, api_for):
    api = api_for(cast.key_a)
    r = api.put("/cases/SC-2026-0001", case_body(cast, status="processing", finished_at=None))
    assert r.status_code == 201, r.content
    assert r.json()["status"] == "processing"
    r = api.put("/cases/SC-2026-0001", case_body(cast))
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "finished" and body["status_name"] == "已办结"
    assert body["finished_at"].startswith("2026-11-24T16:00:00+08:00")  # naive time read as Beijing time
    assert body["hall_id"] == cast.hall.pk and body["window_code"] == cast.window_a.code
    assert Case.objects.filter(case_no="SC-2026-0001").count() == 1


def test_identity_is_never_returned_in_full(cast, api_for):
    api = api_for(cast.key_a)
    raw = api.put("/cases/SC-2026-0002", case_body(cast)).content.decode()
    raw += api.get("/cases/SC-2026-0002").content.decode()
    assert resident_id(3) not in raw and "13907311234" not in raw
    body = json.loads(api.get("/cases/SC-2026-0002").content)
    assert body["applicant_id_masked"] == resident_id(3)[:3] + "*" * 11 + resident_id(3)[-4:]
    assert body["applicant_phone_masked"] == "139****1234"
    case = Case.objects.get(case_no="SC-2026-0002")
    assert resident_id(3) not in (case.applicant_id_hash + case.applicant_id_enc + case.applicant_id_masked)


def test_bulk_gives_per_record_results(cast, api_for):
    good = [{"case_no": f"BULK-{i:04d}", **case_body(cast)} for i in range(998)]
    bad = [
        {"case_no": "BULK-BAD-1", **case_body(cast, item_code="NOPE")},
        {"case_no": "BULK-BAD-2", **case_body(cast, applicant_id_number="430102198503120011")},
    ]
    r = api_for(cast.key_a).post("/cases/bulk", {"cases": good + bad})
    assert r.status_code == 200, r.content[:500]
    body = r.json()
    assert (body["total"], body["created"], body["rejected"]) == (1000, 998, 2)
    rejects = {x["case_no"]: x["code"] for x in body["results"] if x["result"] == "rejected"}
    assert rejects == {"BULK-BAD-1": "item_not_found", "BULK-BAD-2": "invalid_id_number"}
    r = api_for(cast.key_a).post("/cases/bulk", {"cases": good[:10]})
    assert r.json()["updated"] == 10 and Case.objects.count() == 998


def test_bulk_limits_and_duplicates(cast, api_for):
    api = api_for(cast.key_a)
    many = [{"case_no": f"X-{i}", **case_body(cast)} for i in range(1001)]
    r = api.post("/cases/bulk", {"cases": many})
    assert r.status_code == 422 and r.json()["code"] == "bulk_too_large"
    r = api.post("/cases/bulk", {"cases": [many[0], many[0]]})
    assert [x["result"] for x in r.json()["results"]] == ["created", "rejected"]
    assert r.json()["results"][1]["code"] == "duplicate_in_request"
    assert Case.objects.count() == 1


@pytest.mark.parametrize(
    "change, status, code",
    [
        ({"status": "done"}, 422, "invalid_status"),
        ({"finished_at": None}, 422, "finished_at_required"),
        ({"finished_at": "2026-11-01T00:00:00+08:00"}, 422, "finished_before_accepted"),
        ({"applicant_type": "7"}, 422, "invalid_applicant_type"),
        ({"applicant_phone": "12345"}, 422, "invalid_phone"),
        ({"window_code": "NOPE"}, 404, "window_not_found"),
        ({"accepted_at": "yesterday"}, 422, "invalid_input"),
    ],
)
def test_bad_cases_get_a_clear_error_and_nothing_is_written(cast, api_for, change, status, code):
    r = api_for(cast.key_a).put("/cases/BAD-1", case_body(cast, **change))
    assert r.status_code == status, r.content
    assert r.json()["code"] == code and r.json()["message"]
    assert not Case.objects.exists()


def test_a_system_cannot_register_cases_of_another_department(cast, api_for):
    r = api_for(cast.key_b).put("/cases/SC-X", case_body(cast))
    assert r.status_code == 403 and r.json()["code"] == "department_out_of_scope"
    api_for(cast.key_a).put("/cases/SC-Y", case_body(cast))
    assert api_for(cast.key_b).get("/cases/SC-Y").status_code == 404
    # the item of department B, but the case number taken by department A
    r = api_for(cast.key_b).put(
        "/cases/SC-Y", case_body(cast, item_code=cast.item_b.code, window_code="", staff_no="")
    )
    assert r.status_code == 403 and r.json()["code"] == "case_out_of_scope"
    assert Case.objects.get(case_no="SC-Y").department == cast.dept_a


def test_a_client_without_the_scope_is_refused(cast, api_for):
    from tests.factories import make_client

    _, key = make_client("只读系统", organisations=[cast.dept_a], scopes=["ratings:read"])
    r = api_for(key).put("/cases/SC-Z", case_body(cast))
    assert r.status_code == 403 and r.json()["code"] == "scope_missing"


def test_windows_and_staff_must_belong_to_the_handling_department(cast, api_for):
    api = api_for(cast.key_city)
    r = api.put(
        "/cases/SC-W",
        case_body(cast, item_code=cast.item_b.code, window_code=cast.window_a.code, staff_no=""),
    )
    assert r.status_code == 422 and r.json()["code"] == "window_mismatch"
    r = api.put("/cases/SC-W", case_body(cast, item_code=cast.item_b.code, window_code=""))
    assert r.status_code == 422 and r.json()["code"] == "staff_mismatch"
    r = api.put(
        "/cases/SC-W", case_body(cast, accepted_at="0001-01-01T00:00:00", finished_at=None, status="accepted")
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_time"
    assert not Case.objects.exists()


def test_a_hall_system_cannot_rewrite_a_case_of_another_department_at_its_hall(cast, api_for):
    body = case_body(cast, item_code=cast.item_b.code, window_code=cast.window_b.code, staff_no="")
    assert api_for(cast.key_city).put("/cases/SC-H", body).status_code == 201
    r = api_for(cast.key_a).put("/cases/SC-H", case_body(cast))  # key_a serves dept A and the hall
    assert r.status_code == 403 and r.json()["code"] == "case_out_of_scope"
    assert Case.objects.get(case_no="SC-H").department == cast.dept_b
