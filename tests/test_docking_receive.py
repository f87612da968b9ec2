"""The parent side of docking through HTTP: a child's signed batch, a result per record, applied once."""

import time
from datetime import timedelta

import orjson
import pytest
from django.utils import timezone

from haocha.catalogue.models import Case
from haocha.evaluations.models import Rating
from haocha.integrations.docking import national, signing
from haocha.integrations.docking.models import ReceivedRecord, RejectedRecord
from haocha.integrations.docking.services import child_register

PATH = "/api/docking/upload"


@pytest.fixture
def child(cast):
    child, secret = child_register(name="岳麓区好差评系统", region_code="430104")
    child.raw_secret = secret
    return child


def post(client, child, records, *, secret=None, headers=None, body=None):
    body = body if body is not None else orjson.dumps({"records": records})
    signed = signing.signed_headers(child.app_id, secret or child.raw_secret, "POST", PATH, body)
    signed.update(headers or {})
    return client.generic("POST", PATH, body, content_type="application/json", headers=signed)


def when(hours_ago: float) -> str:
    return (timezone.localtime() - timedelta(hours=hours_ago)).strftime(national.TIME_FORMAT)


def service(cast, case_no="YL2026120001", **changes) -> dict:
    data = {
        "projectNo": case_no,
        "taskCode": cast.item_yuelu.code,
        "taskName": cast.item_yuelu.name,
        "areaCode": "430104000000",
        "proDepartCode": cast.dept_yuelu.credit_code,
        "proDepart": cast.dept_yuelu.name,
        "proStatus": "3",
        "userProp": "1",
        "userName": "王*",
        "acceptDate": when(30),
        "resultDate": when(3),
        "proChannel": "2",
    }
    data.update(changes)
    return {"type": "service", "id": case_no, "version": 1, "data": data}


def rating(case_no="YL2026120001", rid="r-1", **changes) -> dict:
    data = {
        "projectNo": case_no,
        "pf": "4",
        "satisfaction": 5,
        "evalDetail": "",
        "writingEvaluation": "服务很好",
        "assessTime": when(2),
        "assessNumber": 1,
        "areaCode": "430104000000",
    }
    data.update(changes)
    return {"type": "rating", "id": rid, "version": 1, "data": data}


def statuses(response):
    assert response.status_code == 200, response.content
    return [(r["status"], r["code"]) for r in response.json()["results"]]


def test_service_then_rating_arrive_as_the_childs_cases_and_ratings(client, cast, child):
    answer = post(client, child, [service(cast), rating()])
    assert statuses(answer) == [("accepted", ""), ("accepted", "")]
    case = Case.objects.get(case_no="YL2026120001")
    assert case.source == child.client and case.region == cast.yuelu and case.department == cast.dept_yuelu
    assert case.applicant_name == "王*"  # what the interface carries: masked
    stored = Rating.objects.get(case=case)
    assert stored.source == child.client and stored.level == "very_satisfied" and stored.channel == "tablet"
    assert ReceivedRecord.objects.filter(child=child).count() == 2
    child.refresh_from_db()
    assert child.last_upload_at is not None


def test_the_same_records_again_are_duplicates_and_change_nothing(client, cast, child):
    post(client, child, [service(cast), rating()])
    again = post(client, child, [service(cast), rating()])
    assert statuses(again) == [("duplicate", "already_received"), ("duplicate", "already_received")]
    assert Rating.objects.filter(case__case_no="YL2026120001").count() == 1


def test_a_rating_sent_again_after_its_answer_was_lost_is_stored_once(client, cast, child):
    post(client, child, [service(cast), rating()])
    ReceivedRecord.objects.filter(kind="rating").delete()  # the parent stored it, the child never heard
    assert statuses(post(client, child, [rating()])) == [("accepted", "")]
    assert Rating.objects.filter(case__case_no="YL2026120001").count() == 1


def test_a_rating_before_its_service_record_is_refused_for_now(client, cast, child):
    assert statuses(post(client, child, [rating()])) == [("rejected", "service_record_missing")]
    assert RejectedRecord.objects.get(child=child).code == "service_record_missing"
    post(client, child, [service(cast)])
    assert statuses(post(client, child, [rating()])) == [("accepted", "")]
    assert not RejectedRecord.objects.filter(child=child).exists()  # cleared once accepted


def test_each_bad_record_gets_its_reason_and_the_rest_go_in(client, cast, child):
    records = [
        service(cast, "YL-BAD-ITEM", taskCode="NO-SUCH-ITEM"),
        service(cast, "YL-OUTSIDE", areaCode="430102000000"),
        service(cast, "YL-STATUS", proStatus="9"),
        service(cast, "YL2026120002"),
        {"type": "rating", "id": "x"},
        "not an object",
    ]
    got = statuses(post(client, child, records))
    assert got[0][0] == "rejected" and got[0][1]  # the parent does not know the item
    assert got[1] == ("rejected", "outside_region")
    assert got[2] == ("rejected", "invalid_status")
    assert got[3] == ("accepted", "")
    assert got[4] == ("rejected", "invalid_record") and got[5] == ("rejected", "invalid_record")
    assert set(Case.objects.values_list("case_no", flat=True)) == {"YL2026120002"}


def test_a_rating_the_rule_book_refuses_is_rejected_with_its_rule(client, cast, child):
    post(client, child, [service(cast)])
    bad_without_reason = rating(satisfaction=1, writingEvaluation="", evalDetail="")
    [(status, code)] = statuses(post(client, child, [bad_without_reason]))
    assert status == "rejected" and code == "bad_rating_needs_reason"
    assert not Rating.objects.exists()


def test_a_rating_of_a_case_outside_the_childs_region_is_refused(client, cast, child):
    from tests.factories import finished_case

    finished_case(cast, "CITY-0001")  # the city's own case
    [(status, code)] = statuses(post(client, child, [rating("CITY-0001")]))
    assert (status, code) == ("rejected", "case_not_from_child")
    # nor may the child rewrite it, even with an area code of its own
    [(status, code)] = statuses(post(client, child, [service(cast, "CITY-0001")]))
    assert (status, code) == ("rejected", "case_owned_elsewhere")
    assert Case.objects.get(case_no="CITY-0001").source != child.client


def test_a_validity_change_marks_the_rating_invalid(client, cast, child):
    post(client, child, [service(cast), rating(satisfaction=1, evalDetail="", writingEvaluation="态度很差")])
    change = {
        "type": "validity",
        "id": "r-1",
        "version": 7,
        "data": {
            "projectNo": "YL2026120001",
            "assessNumber": 1,
            "kind": "invalid",
            "reason": "申诉成立：恶意差评",
        },
    }
    assert statuses(post(client, child, [change])) == [("accepted", "")]
    assert Rating.objects.get().is_valid is False
    assert statuses(post(client, child, [change])) == [("duplicate", "already_received")]


@pytest.mark.parametrize(
    "headers, status, code",
    [
        ({"X-Hc-Signature": "0" * 64}, 403, "signature_invalid"),
        ({"X-Hc-Timestamp": str(int(time.time()) - 3600)}, 403, "signature_expired"),
        ({"X-Hc-App": "nobody"}, 403, "unknown_system"),
        ({"X-Hc-Nonce": ""}, 401, "signature_missing"),
    ],
)
def test_unsigned_forged_or_stale_requests_are_refused(client, cast, child, headers, status, code):
    answer = post(client, child, [service(cast)], headers=headers)
    assert answer.status_code == status and answer.json()["code"] == code
    assert not Case.objects.exists()


def test_a_replayed_request_is_refused(client, cast, child):
    body = orjson.dumps({"records": [service(cast)]})
    signed = signing.signed_headers(child.app_id, child.raw_secret, "POST", PATH, body)
    first = client.generic("POST", PATH, body, content_type="application/json", headers=signed)
    assert first.status_code == 200
    replay = client.generic("POST", PATH, body, content_type="application/json", headers=signed)
    assert replay.status_code == 409 and replay.json()["code"] == "replayed"


def test_a_body_changed_after_signing_is_refused(client, cast, child):
    body = orjson.dumps({"records": [service(cast)]})
    signed = signing.signed_headers(child.app_id, child.raw_secret, "POST", PATH, body)
    tampered = body.replace(b"YL2026120001", b"YL2026129999")
    answer = client.generic("POST", PATH, tampered, content_type="application/json", headers=signed)
    assert answer.status_code == 403 and answer.json()["code"] == "signature_invalid"


def test_a_body_that_is_not_a_batch_gets_a_chinese_422(client, cast, child):
    answer = post(client, child, None, body=b'{"records": "x"}')
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_input"
    answer = post(client, child, None, body=b'{"records": []}')
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_records"


def order(version=1, status="handling", steps=None, **changes) -> dict:
    data = {
        "projectNo": "YL2026120001",
        "assessNumber": 1,
        "orderNo": "HCP20261202000000042",
        "deptCode": "",
        "status": status,
        "complexity": "simple",
        "receivedAt": when(2),
        "verifiedAt": when(1.9),
        "assignedAt": when(1.8),
        "contactDueAt": when(-20),
        "finishDueAt": when(-40),
        "dueAt": when(-20),
        "cycle": 1,
        "steps": steps
        if steps is not None
        else [
            {"action": "create", "label": "生成工单", "from": "", "to": "pending_verify", "at": when(2), "actor": "系统"},
            {"action": "verify", "label": "核实", "from": "pending_verify", "to": "pending_accept", "at": when(1.9),
             "actor": "张敏（岳麓区12345）"},
        ],
    }  # fmt: skip
    data.update(changes)
    return {"type": "order", "id": "r-1", "version": version, "data": data}


def test_a_childs_work_order_is_mirrored_read_only_with_its_timeline(client, cast, child):
    from haocha.accounts.access import actor_for_user
    from haocha.core.errors import Conflict
    from haocha.workorders import machine
    from haocha.workorders.models import WorkOrder

    bad = rating(satisfaction=1, evalDetail="", writingEvaluation="窗口人员态度差")
    post(client, child, [service(cast), bad])
    assert not WorkOrder.objects.exists()  # an uploaded 差评 is handled by the child, not here
    got = post(client, child, [order(deptCode=cast.dept_yuelu.credit_code)])
    assert statuses(got) == [("accepted", "")]
    mirrored = WorkOrder.objects.get()
    assert mirrored.handled_by == child.client and mirrored.status == "handling"
    assert mirrored.remote_number == "HCP20261202000000042" and mirrored.department == cast.dept_yuelu
    labels = [machine.step_label(t) for t in mirrored.transitions.order_by("at")]
    assert labels == ["生成工单", "核实"]
    assert mirrored.transitions.filter(actor_label__startswith="岳麓区好差评系统·").count() == 2
    # a newer version replaces it, an older one arriving late changes nothing
    closed = order(3, "closed", closedAt=when(0.5), callbackSolved=1, callbackSatisfaction="satisfied")
    assert statuses(post(client, child, [closed])) == [("accepted", "")]
    assert statuses(post(client, child, [order(2, "handling")])) == [("accepted", "")]
    mirrored.refresh_from_db()
    assert (mirrored.status, mirrored.callback_solved, mirrored.version) == ("closed", True, 3)
    # read-only here: no action is offered or taken
    with pytest.raises(Conflict) as refused:
        machine.ensure(mirrored, "reopen")
    assert refused.value.code == "handled_elsewhere"
    assert not machine.allowed(actor_for_user(cast.admin), mirrored, "verify")
    client.force_login(cast.supervisor)
    page = client.get(f"/workorders/{mirrored.number}/")
    assert page.status_code == 200 and "本级只读" in page.content.decode()


def test_an_order_before_its_rating_is_refused_for_now_and_bad_fields_are_refused(client, cast, child):
    assert statuses(post(client, child, [order()])) == [("rejected", "rating_missing")]
    post(client, child, [service(cast), rating(satisfaction=1, evalDetail="", writingEvaluation="差")])
    assert statuses(post(client, child, [order(status="flying")])) == [("rejected", "invalid_order_status")]
    assert statuses(post(client, child, [order(cycle="x")])) == [("rejected", "invalid_number")]
    assert statuses(post(client, child, [order(steps="x")])) == [("rejected", "invalid_steps")]
    assert statuses(post(client, child, [order(receivedAt="yesterday")])) == [("rejected", "invalid_time")]


def test_a_childs_default_rating_arrives_as_a_default_once(client, cast, child):
    post(client, child, [service(cast)])
    default = rating(pf="default", satisfaction=3, writingEvaluation="", isDefault=1)
    assert statuses(post(client, child, [default])) == [("accepted", "")]
    stored = Rating.objects.get()
    assert stored.is_default and stored.channel == "default" and stored.level == "basically_satisfied"
    ReceivedRecord.objects.filter(kind="rating").delete()  # its answer lost: sent again
    assert statuses(post(client, child, [default])) == [("accepted", "")]
    assert Rating.objects.count() == 1
    # a default is never a 差评, and only a default may use the default channel
    post(client, child, [service(cast, "YL2026120002")])
    bad_default = rating(
        "YL2026120002", "r-2", pf="default", satisfaction=1, writingEvaluation="差", isDefault=1
    )
    assert statuses(post(client, child, [bad_default]))[0][0] == "rejected"
    posing = rating("YL2026120002", "r-3", pf="default", satisfaction=4)
    assert statuses(post(client, child, [posing])) == [("rejected", "channel_not_allowed")]


@pytest.mark.parametrize(
    "record",
    [
        {"type": "rating", "id": 5, "version": 1, "data": {}},
        {"type": 7, "id": "x", "version": 1, "data": {}},
        {"type": "rating", "id": "x", "version": "abc", "data": {}},
        {"type": "rating", "id": "x", "version": 1.5, "data": {}},
        {"type": "rating", "id": "x" * 500, "version": True, "data": {}},
        {"type": "validity", "id": "r-1", "version": 1, "data": {"kind": "invalid", "assessNumber": "x"}},
        {
            "type": "order",
            "id": "r-1",
            "version": 1,
            "data": {"status": "closed", "receivedAt": "", "assessNumber": "x"},
        },
        {"type": "order", "id": "r-1", "version": 2**40, "data": {}},
        {"type": "rating", "id": "r-9", "version": 1, "data": {"projectNo": ["a"], "assessNumber": {"x": 1}}},
    ],
)
def test_odd_records_are_refused_one_by_one_never_a_500(client, cast, child, record):
    answer = post(client, child, [record, service(cast)])
    assert answer.status_code == 200, answer.content
    first, second = answer.json()["results"]
    assert first["status"] == "rejected" and first["code"]
    assert second["status"] == "accepted"


def test_a_nul_anywhere_in_a_batch_is_a_422(client, cast, child):
    bad = {"type": "service", "id": "S\x00", "version": 1, "data": {"projectNo": "S\x00"}}
    answer = post(client, child, [bad, service(cast)])
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_character"
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    "headers",
    [{"X-Hc-Signature": "签名" * 10}, {"X-Hc-Timestamp": "²"}, {"X-Hc-Timestamp": "9" * 40}],
)
def test_odd_signature_headers_are_a_4xx(client, cast, child, headers):
    answer = post(client, child, [service(cast)], headers=headers)
    assert answer.status_code in (401, 403) and answer.json()["code"].startswith("signature")


def test_odd_daily_counts_are_ignored_not_a_500(client, cast, child):
    body = orjson.dumps({"records": [service(cast)], "counts": {"rating": {"2026-12-01": 10**19, "x": 1}}})
    headers = signing.signed_headers(child.app_id, child.raw_secret, "POST", PATH, body)
    answer = client.generic("POST", PATH, body, content_type="application/json", headers=headers)
    assert answer.status_code == 200
