"""The 差评 closed loop through the workbenches: verify, assign, accept, contact, feedback, 回访, close."""

import re

import pytest
from django.core.management import call_command
from django.test import Client

from haocha.core.models import Message, OutboxMessage
from haocha.evaluations.models import Rating
from haocha.workorders.models import Status, Transition, WorkOrder
from tests.factories import finished_case
from tests.workorder_helpers import act, bad_rating, refresh, staff

pytestmark = pytest.mark.django_db


def test_a_bad_rating_becomes_one_order_and_a_good_one_none(cast):
    order = bad_rating(cast, "WO-1")
    assert order.status == Status.PENDING_VERIFY and order.department == cast.dept_a
    assert order.case.case_no == "WO-1" and order.summary == "窗口让我来回跑了三次"
    assert list(order.transitions.values_list("action", flat=True)) == ["create"]
    assert OutboxMessage.objects.filter(topic="staff.notify", key__contains=order.number).exists()
    from tests.factories import finished_case

    finished_case(cast, "WO-2", seq=2)
    r = Client().post(
        "/api/ratings",
        {"case_no": "WO-2", "channel": "pc", "level": "satisfied"},
        content_type="application/json",
        headers={"X-Api-Key": cast.key_city},
    )
    assert r.status_code == 201
    assert WorkOrder.objects.count() == 1


def test_the_whole_loop_closes_with_the_citizen(cast):
    order = bad_rating(cast, "WO-3")
    assert (
        act(
            cast.operator,
            order,
            "verify",
            valid="1",
            complexity="simple",
            department=cast.dept_a.pk,
            note="属实",
        ).status_code
        == 302
    )
    order = refresh(order)
    assert order.status == Status.PENDING_ACCEPT and order.contact_due_at and order.finish_due_at
    assert order.due_at == order.contact_due_at  # the earliest running clock
    assert act(cast.handler_a, order, "accept").status_code == 302
    assert (
        act(
            cast.handler_a, order, "contact", method="phone", outcome="已电话联系，说明补正要求", reached="1"
        ).status_code
        == 302
    )
    order = refresh(order)
    assert order.status == Status.HANDLING and order.due_at == order.finish_due_at
    assert (
        act(
            cast.handler_a,
            order,
            "feedback",
            result="已一次性告知所需材料并当日办结",
            measures="修订办事指南",
        ).status_code
        == 302
    )
    order = refresh(order)
    assert order.status == Status.PENDING_CALLBACK and order.due_at is None

    page = staff(cast.operator).get(f"/workorders/{order.number}/").content.decode()
    link = re.search(r'id="citizen-link" style="width:100%"', page) and re.search(
        r'value="(http[^"]+/c/[^"]+/)"', page
    )
    assert link, "the operator sees the citizen's signed link"
    path = "/c/" + link.group(1).split("/c/")[1]
    citizen = Client()
    view = citizen.get(path)
    assert (
        view.status_code == 200
        and "回访" in view.content.decode()
        and "13812345678" not in view.content.decode()
    )
    r = citizen.post(path, {"solved": "1", "satisfaction": "satisfied", "comment": "谢谢"})
    assert r.status_code == 200 and "感谢您的反馈" in r.content.decode()
    order = refresh(order)
    assert order.status == Status.CLOSED and order.callback_solved and order.closed_at
    assert order.contact_minutes is not None and order.finish_over_minutes == 0
    again = citizen.post(path, {"solved": "0", "satisfaction": "dissatisfied"})
    assert "callback-form" not in again.content.decode() and refresh(order).status == Status.CLOSED
    actions = list(Transition.objects.filter(order=order).values_list("action", flat=True))
    assert actions == ["create", "verify", "assign", "accept", "contact", "feedback", "callback"]
    assert Client().get("/c/forged-token/").status_code == 404


def test_a_dissatisfied_citizen_sends_it_back(cast):
    order = bad_rating(cast, "WO-4")
    act(cast.operator, order, "verify", valid="1", complexity="complex", department=cast.dept_a.pk)
    act(cast.handler_a, order, "contact", method="phone", outcome="联系上")
    act(cast.handler_a, order, "feedback", result="已处理")
    act(cast.operator, order, "callback", solved="0", satisfaction="dissatisfied", comment="问题没解决")
    order = refresh(order)
    assert order.status == Status.HANDLING and order.reopen_count == 1 and order.feedback_at is None
    # a new cycle: the clocks restart now, the department contacts the citizen again
    assert order.cycle == 2 and order.contacted_at is None and order.escalation_level == 0
    assert order.due_at == order.contact_due_at > order.clock_started_at


def test_illegal_moves_get_a_clear_refusal(cast):
    order = bad_rating(cast, "WO-5")
    r = act(cast.handler_a, order, "accept")
    assert r.status_code == 409 and "不能签收" in r.content.decode()
    act(cast.operator, order, "verify", valid="1", department=cast.dept_a.pk)
    r = act(cast.handler_a, refresh(order), "feedback", result="x")
    assert r.status_code == 409 and "不能反馈办理结果" in r.content.decode()
    r = act(cast.operator, refresh(order), "invalidate", reason="malicious", note="恶意")
    assert r.status_code == 409
    r = act(cast.handler_a, refresh(order), "contact", method="fax", outcome="x")
    assert r.status_code == 422 and "联系方式无效" in r.content.decode()
    assert refresh(order).status == Status.PENDING_ACCEPT


def test_two_conflicting_moves_one_wins_the_other_gets_409(cast):
    from haocha.accounts.access import actor_for_user
    from haocha.core.errors import Conflict
    from haocha.workorders.actions import work_order_assign, work_order_invalidate

    order = bad_rating(cast, "WO-6")
    stale = WorkOrder.objects.get(pk=order.pk)
    work_order_invalidate(order=order, actor=actor_for_user(cast.operator), reason="mistaken", note="误评")
    with pytest.raises(Conflict) as exc:
        work_order_assign(order=stale, actor=actor_for_user(cast.supervisor), department=cast.dept_a)
    assert exc.value.status == 409 and exc.value.code == "concurrent_update"
    assert refresh(order).status == Status.INVALID
    assert Transition.objects.filter(order=order).count() == 2


def test_invalid_needs_a_reason(cast):
    order = bad_rating(cast, "WO-7")
    r = act(cast.operator, order, "invalidate", reason="", note="")
    assert r.status_code == 422
    r = act(cast.operator, order, "invalidate", reason="not_government", note="反映的是物业问题")
    order = refresh(order)
    assert order.status == Status.INVALID and order.invalid_reason == "not_government"


def test_on_the_spot_then_confirmed(cast):
    order = bad_rating(cast, "WO-8", window=cast.window_a)
    r = act(cast.clerk, order, "on_the_spot", result="窗口负责人当场道歉并办结")
    assert r.status_code == 302
    order = refresh(order)
    assert order.status == Status.PENDING_CALLBACK and order.on_the_spot
    act(cast.operator, order, "callback", solved="1", satisfaction="satisfied")
    assert refresh(order).status == Status.CLOSED


def test_return_reassign_and_co_handling(cast):
    order = bad_rating(cast, "WO-9")
    act(cast.operator, order, "verify", valid="1", department=cast.dept_a.pk)
    r = act(cast.handler_a, refresh(order), "return", reason="属于社保业务，非本部门职责")
    assert r.status_code == 302 and refresh(order).status == Status.PENDING_VERIFY
    r = staff(cast.operator).post(
        f"/workorders/{order.number}/act/assign/",
        {"department": cast.dept_b.pk, "co_departments": [cast.dept_a.pk]},
    )
    assert r.status_code == 302
    order = refresh(order)
    assert order.department == cast.dept_b and list(order.co_departments.all()) == [cast.dept_a]
    assert (
        staff(cast.handler_a).get(f"/workorders/{order.number}/").status_code == 200
    )  # co-department sees it
    assert act(cast.handler_a, order, "accept").status_code == 403  # but only the lead department acts
    assert act(cast.handler_b, order, "accept").status_code == 302


def _follow_up(cast, case_no, level="very_dissatisfied", comment="追评：问题又出现了"):
    r = Client().post(
        "/api/ratings/follow-up",
        {"case_no": case_no, "channel": "pc", "level": level, "comment": comment},
        content_type="application/json",
        headers={"X-Api-Key": cast.key_city},
    )
    assert r.status_code == 201, r.content
    return r


def test_follow_up_bad_rating_attaches_to_the_open_order(cast):
    order = bad_rating(cast, "WO-10")
    _follow_up(cast, "WO-10")
    assert WorkOrder.objects.count() == 1
    assert list(refresh(order).transitions.values_list("action", flat=True)) == ["create", "follow_up"]


def test_follow_up_bad_rating_reopens_a_closed_order(cast):
    order = bad_rating(cast, "WO-12")
    act(cast.operator, order, "verify", valid="1", department=cast.dept_a.pk)
    act(cast.handler_a, order, "contact", method="phone", outcome="已联系")
    act(cast.handler_a, order, "feedback", result="已处理")
    act(cast.operator, order, "callback", solved="1", satisfaction="satisfied")
    assert refresh(order).status == Status.CLOSED
    _follow_up(cast, "WO-12")
    order = refresh(order)
    # a new cycle from 12345 核实 (test_workorders_reopen.py follows it further)
    assert (
        order.status == Status.PENDING_VERIFY and order.reopen_count == 1 and WorkOrder.objects.count() == 1
    )


def test_follow_up_bad_after_a_good_first_rating_opens_an_order(cast):
    from tests.factories import finished_case

    finished_case(cast, "WO-13", seq=3)
    r = Client().post(
        "/api/ratings",
        {"case_no": "WO-13", "channel": "pc", "level": "satisfied"},
        content_type="application/json",
        headers={"X-Api-Key": cast.key_city},
    )
    assert r.status_code == 201 and not WorkOrder.objects.exists()
    _follow_up(cast, "WO-13")
    order = WorkOrder.objects.get()
    assert order.rating.kind == Rating.Kind.FOLLOW_UP and order.status == Status.PENDING_VERIFY


def test_messages_are_delivered_once_by_the_worker(cast):
    order = bad_rating(cast, "WO-11")
    act(cast.operator, order, "verify", valid="1", department=cast.dept_a.pk)
    call_command("worker", "--once")
    call_command("worker", "--once")
    mine = Message.objects.filter(user=cast.handler_a)
    assert mine.count() == 1 and order.number in mine.get().title
    assert Message.objects.filter(user=cast.operator, title__contains="新差评工单").count() == 1
    assert not OutboxMessage.objects.exclude(status="done").exists()
    page = staff(cast.handler_a).get("/workorders/messages/").content.decode()
    assert order.number in page
    assert Rating.objects.count() == 1


def test_feedback_attachments_are_private_to_the_order(cast, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    from django.core.files.uploadedfile import SimpleUploadedFile

    order = bad_rating(cast, "WO-20")
    act(cast.operator, order, "verify", valid="1", department=cast.dept_a.pk)
    act(cast.handler_a, order, "contact", method="phone", outcome="已联系")
    bad = SimpleUploadedFile("x.exe", b"MZ", content_type="application/octet-stream")
    r = staff(cast.handler_a).post(
        f"/workorders/{order.number}/act/feedback/", {"result": "已处理", "attachments": [bad]}
    )
    assert r.status_code == 422 and "类型不允许" in r.content.decode()
    assert refresh(order).status == Status.HANDLING
    photo = SimpleUploadedFile("整改照片.png", b"\x89PNG\r\n\x1a\nfake", content_type="image/png")
    r = staff(cast.handler_a).post(
        f"/workorders/{order.number}/act/feedback/", {"result": "已处理", "attachments": [photo]}
    )
    assert r.status_code == 302
    step = Transition.objects.get(order=order, action="feedback")
    assert step.attachments[0]["name"] == "整改照片.png"
    url = f"/workorders/{order.number}/files/{step.pk}/0/"
    got = staff(cast.handler_a).get(url)
    assert got.status_code == 200 and b"".join(got.streaming_content).startswith(b"\x89PNG")
    assert staff(cast.handler_b).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # login first
    assert "整改照片.png" in staff(cast.operator).get(f"/workorders/{order.number}/").content.decode()


def test_uploads_from_someone_who_may_not_act_are_refused_before_storing(cast, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    from django.core.files.uploadedfile import SimpleUploadedFile

    from haocha.workorders.attachments import private_storage

    order = bad_rating(cast, "WO-21", window=cast.window_a)
    act(cast.operator, order, "verify", valid="1", department=cast.dept_a.pk)
    folder = f"workorders/{order.number}"
    photo = SimpleUploadedFile("a.png", b"\x89PNG", content_type="image/png")
    r = staff(cast.clerk).post(
        f"/workorders/{order.number}/act/appeal/",
        {"ground": "malicious", "statement": "x", "attachments": [photo]},
    )
    assert r.status_code == 403
    storage = private_storage()
    assert not storage.exists(folder) or storage.listdir(folder)[1] == []


def test_bad_ids_in_forms_are_a_4xx(cast):
    order = bad_rating(cast, "WO-22")
    assert act(cast.operator, order, "assign", department="abc").status_code == 422


def test_an_expired_citizen_link_is_refused(cast):
    import time
    from unittest import mock

    from haocha.workorders.citizen import citizen_link_token

    order = bad_rating(cast, "WO-23")
    token = citizen_link_token(order)
    assert Client().get(f"/c/{token}/").status_code == 200
    with mock.patch("django.core.signing.time.time", return_value=time.time() + 16 * 86400):
        r = Client().get(f"/c/{token}/")
    assert r.status_code == 404 and "有效期" in r.content.decode()


@pytest.mark.parametrize("policy_says", [True, False])
def test_a_bad_indicator_makes_an_order_only_where_the_policy_says_so(cast, policy_says):
    from haocha.workorders.models import WorkOrderPolicy

    WorkOrderPolicy.objects.create(region=cast.city, bad_on_any_indicator=policy_says)
    finished_case(cast, "WO-IND")
    body = {
        "case_no": "WO-IND",
        "channel": "pc",
        "level": "satisfied",
        "indicators": {"efficiency": "very_dissatisfied"},
        "comment": "等了很久",
    }
    r = Client().post(
        "/api/ratings", body, content_type="application/json", headers={"X-Api-Key": cast.key_city}
    )
    assert r.status_code == 201, r.content
    assert WorkOrder.objects.filter(rating__public_id=r.json()["id"]).exists() is policy_says
