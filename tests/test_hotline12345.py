"""An external 12345 platform: a 差评's order is marked with it and pushed; its signed callbacks drive the order
through the machine once each, in its order; forged, replayed and malformed callbacks are refused."""

import pytest

from haocha.core.models import OutboxMessage
from haocha.integrations.hotline12345.models import PlatformEvent, PlatformOrder
from haocha.workorders.models import Status, Transition
from tests.factories import build_cast
from tests.hotline_helpers import event, external_platform, post_events, results, steps_to_close
from tests.workorder_helpers import act, bad_rating, error_code, refresh

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast():
    return build_cast()


def test_a_bad_rating_in_an_external_region_is_marked_and_queued_for_the_platform(cast):
    platform = external_platform(cast)
    order = bad_rating(cast, "HL-1")
    assert order.platform_id == platform.client_id
    push = PlatformOrder.objects.get(order=order)
    assert push.state == PlatformOrder.State.QUEUED and push.version == 1
    assert OutboxMessage.objects.filter(topic="hotline12345.push").count() == 1
    create = Transition.objects.get(order=order, action="create")
    assert "12345平台" in create.note
    # The built-in workbench does not take the platform's steps.
    r = act(cast.operator, order, "verify", note="属实")
    assert error_code(r) == "handled_by_platform"
    assert refresh(order).status == Status.PENDING_VERIFY


def test_a_region_on_the_builtin_workbench_is_untouched(cast):
    order = bad_rating(cast, "HL-2")  # no platform registered
    assert order.platform_id is None
    assert not PlatformOrder.objects.exists()
    assert act(cast.operator, order, "verify", note="属实").status_code == 302


def test_the_platform_callbacks_close_the_order_with_its_callback_result(cast):
    platform = external_platform(cast)
    order = bad_rating(cast, "HL-3")
    events = [
        event(order, i, kind, data) for i, (kind, data) in enumerate(steps_to_close(order, cast.dept_a), 1)
    ]
    got = results(post_events(platform, events))
    assert [r["state"] for r in got] == ["applied"] * len(events), got
    order = refresh(order)
    assert order.status == Status.CLOSED
    assert order.department_id == cast.dept_a.pk
    assert order.platform_number == "12345202612040001"
    assert order.callback_solved is True and order.callback_satisfaction == "satisfied"
    assert order.contacted_at is not None and order.closed_at is not None
    actions = list(order.transitions.values_list("action", flat=True))
    assert actions == [
        "create",
        "acknowledge",
        "verify",
        "assign",
        "accept",
        "contact",
        "feedback",
        "callback",
    ]
    assert set(order.transitions.exclude(action="create").values_list("actor_label", flat=True)) == {
        "12345平台:长沙市12345政务服务便民热线"
    }
    push = PlatformOrder.objects.get(order=order)
    assert push.state == PlatformOrder.State.ACKNOWLEDGED and push.applied_seq == len(events)


def test_a_duplicated_callback_changes_nothing_and_a_reused_event_id_is_refused(cast):
    platform = external_platform(cast)
    order = bad_rating(cast, "HL-4")
    first = event(order, 1, "accept", {"platformNo": "12345X1"})
    assert results(post_events(platform, [first]))[0]["state"] == "applied"
    again = results(post_events(platform, [first]))[0]
    assert again["status"] == "duplicate" and again["state"] == "applied"
    other = {**first, "data": {"platformNo": "12345X2"}}
    assert results(post_events(platform, [other]))[0]["code"] == "event_id_reused"
    taken = event(order, 1, "verify")
    assert results(post_events(platform, [taken]))[0]["code"] == "seq_taken"
    assert order.transitions.filter(action="acknowledge").count() == 1


def test_a_callback_that_arrives_early_waits_for_the_one_before_it(cast):
    platform = external_platform(cast)
    order = bad_rating(cast, "HL-5")
    accept = event(order, 1, "accept", {"platformNo": "12345X3"})
    verify = event(order, 2, "verify", {"complexity": "simple"})
    dispatch = event(order, 3, "dispatch", {"departmentCode": cast.dept_b.credit_code})
    assert results(post_events(platform, [accept]))[0]["state"] == "applied"
    early = results(post_events(platform, [dispatch]))[0]
    assert early["status"] == "received" and early["state"] == "waiting", early
    assert refresh(order).status == Status.PENDING_VERIFY
    assert results(post_events(platform, [verify]))[0]["state"] == "applied"
    assert PlatformEvent.objects.get(event_id=dispatch["eventId"]).state == "applied"
    order = refresh(order)
    assert order.status == Status.PENDING_ACCEPT and order.department_id == cast.dept_b.pk


def test_a_step_the_machine_refuses_is_recorded_as_failed_and_the_next_ones_go_on(cast):
    platform = external_platform(cast)
    order = bad_rating(cast, "HL-6")
    got = results(
        post_events(
            platform,
            [
                event(order, 1, "result", {"result": "solved", "text": "已办"}),  # before any 派单
                event(order, 2, "dispatch", {"departmentCode": "91430100XXXXXXXXXX"}),  # no such department
                event(order, 3, "dispatch", {"departmentCode": cast.dept_yuelu.credit_code}),
            ],
        )
    )
    assert [(r["state"], r["code"]) for r in got] == [
        ("failed", "illegal_transition"),
        ("failed", "unknown_department"),
        ("applied", ""),
    ]
    assert refresh(order).department_id == cast.dept_yuelu.pk


def test_an_assignment_outside_the_platforms_region_is_refused(cast):
    from haocha.organisations.models import Organisation, Region
    from tests.factories import make_org, make_region

    other = make_region("430200", "株洲市", Region.Level.CITY, cast.province)
    stranger = make_org("株洲市市场监督管理局", Organisation.Kind.DEPARTMENT, other, code_seq=9)
    platform = external_platform(cast)
    order = bad_rating(cast, "HL-7")
    got = results(
        post_events(platform, [event(order, 1, "dispatch", {"departmentCode": stranger.credit_code})])
    )
    assert got[0]["code"] == "department_out_of_scope"


def test_forged_stale_and_replayed_callbacks_are_refused(cast):
    import orjson

    from haocha.integrations.docking import signing
    from haocha.integrations.hotline12345.protocol import CALLBACK_PATH

    platform = external_platform(cast)
    order = bad_rating(cast, "HL-8")
    body_events = [event(order, 1, "accept", {"platformNo": "12345X9"})]
    forged = post_events(platform, body_events, secret="not-the-secret")
    assert forged.status_code == 403 and forged.json()["code"] == "signature_invalid"
    body = orjson.dumps({"events": body_events})
    headers = signing.signed_headers(platform.app_id, platform.raw_secret, "POST", CALLBACK_PATH, body)
    assert post_events(platform, body_events, headers=headers).status_code == 200
    replay = post_events(platform, body_events, headers=headers)
    assert replay.status_code == 409 and replay.json()["code"] == "replayed"
    stale = dict(headers, **{"X-Hc-Timestamp": "1000000000"})
    assert post_events(platform, body_events, headers=stale).json()["code"] == "signature_expired"
    unsigned = post_events(platform, body_events, headers={"X-Hc-App": platform.app_id})
    assert unsigned.status_code == 401
    assert order.transitions.filter(action="acknowledge").count() == 1


def test_sm3_signed_callbacks_are_checked_with_sm3(cast):
    from haocha.integrations.docking import signing

    platform = external_platform(cast, signing_name="hmac-sm3")
    order = bad_rating(cast, "HL-9")
    ev = [event(order, 1, "accept", {"platformNo": "12345S1"})]
    sha = post_events(platform, ev, using=signing.HMAC_SHA256)
    assert sha.status_code == 403
    assert results(post_events(platform, ev))[0]["state"] == "applied"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ({"type": "fly"}, "unknown_type"),
        ({"seq": 0}, "invalid_seq"),
        ({"seq": True}, "invalid_seq"),
        ({"time": "2099-01-01 00:00:00"}, "time_in_future"),
        ({"time": "yesterday"}, "invalid_time"),
        ({"type": "invalid", "data": {"reason": "bored", "note": "x"}}, "invalid_code"),
        ({"type": "invalid", "data": {"reason": "mistaken"}}, "field_required"),
        ({"type": "verify", "data": {"colour": "red"}}, "unknown_field"),
        ({"type": "contact", "data": {"method": "phone", "outcome": "x" * 501}}, "text_too_long"),
        ({"type": "extension", "data": {"days": "3", "reason": "r", "approved": True}}, "invalid_field"),
        ({"orderNo": "HCP-NOT-OURS"}, "unknown_order"),
        ({"eventId": ""}, "invalid_eventId"),
        ({"type": ["verify"]}, "unknown_type"),
        ({"type": "invalid", "data": {"reason": {"x": 1}, "note": "x"}}, "invalid_code"),
        ({"time": "0001-01-01 00:00:00"}, "invalid_time"),
        ({"time": ["2026-12-01 00:00:00"]}, "invalid_time"),
    ],
)
def test_malformed_events_are_refused_one_by_one_with_a_code(cast, raw, code):
    platform = external_platform(cast)
    order = bad_rating(cast, "HL-10")
    bad = {**event(order, 1, "verify"), **raw}
    good = event(order, 2, "accept", {"platformNo": "12345OK"})
    got = results(post_events(platform, [bad, good]))
    assert got[0]["status"] == "refused" and got[0]["code"] == code, got[0]
    placed = code not in ("invalid_seq", "unknown_order", "invalid_eventId")
    # A malformed event that names its order and place keeps its seq (as failed): the next one is not held up.
    assert got[1]["state"] == ("applied" if placed else "waiting"), got[1]
    if placed:
        assert PlatformEvent.objects.get(order=order, seq=1).state == "failed"


def test_the_12345_page_lists_stuck_pushes_and_requeues_them_in_scope(cast):
    from haocha.accounts.models import Role
    from tests.factories import make_user
    from tests.workorder_helpers import staff

    external_platform(cast)
    order = bad_rating(cast, "HL-P1")
    PlatformOrder.objects.filter(order=order).update(
        state=PlatformOrder.State.STUCK, last_error="HTTP 400 字段缺失"
    )
    page = staff(cast.supervisor).get("/hotline12345/")
    assert page.status_code == 200
    text = page.content.decode()
    assert order.number in text and "HTTP 400 字段缺失" in text and "长沙市12345政务服务便民热线" in text
    # Another region's supervisor sees the page but not this city's order, and cannot requeue it.
    outsider = staff(cast.outsider)
    assert order.number not in outsider.get("/hotline12345/").content.decode()
    push = PlatformOrder.objects.get(order=order)
    outsider.post("/hotline12345/requeue/", {"id": push.pk})
    assert PlatformOrder.objects.get(pk=push.pk).state == PlatformOrder.State.STUCK
    # A handler has no such page.
    assert staff(cast.handler_a).get("/hotline12345/").status_code == 403
    anonymous = staff(make_user("nobody", Role.WINDOW_CLERK, organisation=cast.hall))
    assert anonymous.get("/hotline12345/").status_code == 403
    r = staff(cast.supervisor).post("/hotline12345/requeue/", {"id": push.pk})
    assert r.status_code == 302
    assert PlatformOrder.objects.get(pk=push.pk).state == PlatformOrder.State.QUEUED


def test_the_order_page_shows_the_platform_and_its_number_and_offers_no_12345_steps(cast):
    from tests.workorder_helpers import staff

    platform = external_platform(cast)
    order = bad_rating(cast, "HL-P2")
    results(post_events(platform, [event(order, 1, "accept", {"platformNo": "12345ABC"})]))
    text = staff(cast.operator).get(f"/workorders/{order.number}/").content.decode()
    assert 'id="handled-by-platform"' in text and "12345ABC" in text
    assert "/act/verify/" not in text and "/act/invalidate/" not in text
    assert "/act/supervise/" in staff(cast.supervisor).get(f"/workorders/{order.number}/").content.decode()


def test_a_step_reported_late_counts_at_the_time_it_happened_on_the_platform(cast):
    from datetime import timedelta

    from django.utils import timezone

    from haocha.workorders.sweep import work_orders_sweep
    from tests.workorder_helpers import frozen

    platform = external_platform(cast)
    start = (timezone.now() - timedelta(days=10)).replace(microsecond=0)
    with frozen(start - timedelta(minutes=1)):
        order = bad_rating(cast, "HL-T1")
    steps = [
        event(order, 1, "accept", {"platformNo": "12345T1"}, at=start),
        event(
            order, 2, "dispatch", {"departmentCode": cast.dept_a.credit_code}, at=start + timedelta(minutes=5)
        ),
    ]
    results(post_events(platform, steps))
    order = refresh(order)
    assert order.assigned_at == start + timedelta(minutes=5)  # the clocks start when 12345 dispatched
    contact_due = order.contact_due_at
    # The platform's callback of its contact is late; meanwhile the sweep has escalated the order.
    assert work_orders_sweep(now=contact_due + timedelta(hours=1))["level1"] == 1
    contacted = contact_due - timedelta(hours=2)
    got = results(post_events(platform, [event(order, 3, "contact", {"method": "phone", "outcome": "已联系"},
                                               at=contacted)]))  # fmt: skip
    assert got[0]["state"] == "applied", got
    order = refresh(order)
    assert order.contacted_at == contacted < order.contact_due_at  # in time, though reported after 督办


def hotline_rating(
    cast, platform, case_no, *, seq, hotline_no, kind="", level="very_dissatisfied", channel=None
):
    from django.test import Client

    from tests.factories import finished_case

    if not kind:
        finished_case(cast, case_no, seq=seq)
    body = {
        "case_no": case_no,
        "channel": channel or "hotline_12345",
        "level": level,
        "comment": "打了三次电话才办成",
        "hotline_order_no": hotline_no,
    }
    path = "/api/ratings/follow-up" if kind == "follow_up" else "/api/ratings"
    return Client().post(path, body, content_type="application/json", headers={"X-Api-Key": platform.raw_key})


def test_a_hotline_rating_on_a_new_12345_order_makes_that_order_here_without_a_push(cast):
    from haocha.workorders.models import WorkOrder

    platform = external_platform(cast)
    r = hotline_rating(cast, platform, "HL-H1", seq=31, hotline_no="12345H0001")
    assert r.status_code == 201, r.content
    order = WorkOrder.objects.get(rating__public_id=r.json()["id"])
    assert order.platform_id == platform.client_id and order.platform_number == "12345H0001"
    assert PlatformOrder.objects.get(order=order).state == PlatformOrder.State.ACKNOWLEDGED
    assert not OutboxMessage.objects.filter(topic="hotline12345.push").exists()
    # The platform calls back under its own number.
    ev = event(order, 1, "dispatch", {"departmentCode": cast.dept_a.credit_code})
    ev["orderNo"] = "12345H0001"
    assert results(post_events(platform, [ev]))[0]["state"] == "applied"
    assert refresh(order).status == Status.PENDING_ACCEPT


def test_the_call_back_satisfaction_on_the_same_12345_order_makes_no_second_order(cast):
    from haocha.workorders.models import WorkOrder

    platform = external_platform(cast)
    order = bad_rating(cast, "HL-H2")
    results(post_events(platform, [event(order, 1, "accept", {"platformNo": "12345H0002"})]))
    r = hotline_rating(cast, platform, "HL-H2", seq=0, hotline_no="12345H0002", kind="follow_up")
    assert r.status_code == 201, r.content
    assert WorkOrder.objects.count() == 1
    follow = order.transitions.get(action="follow_up")
    assert "12345H0002" in follow.note and follow.data["hotline_order_no"] == "12345H0002"
    # A hotline rating about another case naming the same 12345 order: still the same matter.
    r = hotline_rating(cast, platform, "HL-H3", seq=32, hotline_no="12345H0002")
    assert r.status_code == 201, r.content
    assert WorkOrder.objects.count() == 1


def test_a_12345_order_number_belongs_to_the_hotline_channel_only(cast):
    platform = external_platform(cast)
    r = hotline_rating(cast, platform, "HL-H4", seq=33, hotline_no="12345H0004", channel="pc")
    assert r.status_code == 422 and r.json()["code"] == "hotline_order_no_not_allowed"
    r = hotline_rating(cast, platform, "HL-H5", seq=34, hotline_no="12345 H/0005")
    assert r.status_code == 422 and r.json()["code"] == "invalid_hotline_order_no"
    from haocha.evaluations.models import Rating

    assert not Rating.objects.exists()


def test_on_the_builtin_workbench_a_hotline_rating_naming_an_order_joins_it(cast):
    from haocha.workorders.models import WorkOrder

    order = bad_rating(cast, "HL-H6")  # no external platform: haocha's own 12345 workbench
    from tests.factories import make_client

    _client, key = make_client("12345热线系统", regions=[cast.city])
    from django.test import Client

    from tests.factories import finished_case

    finished_case(cast, "HL-H7", seq=35)
    r = Client().post(
        "/api/ratings",
        {"case_no": "HL-H7", "channel": "hotline_12345", "level": "dissatisfied", "comment": "还是没解决",
         "hotline_order_no": order.number},
        content_type="application/json",
        headers={"X-Api-Key": key},
    )  # fmt: skip
    assert r.status_code == 201, r.content
    assert WorkOrder.objects.count() == 1
    assert order.transitions.filter(action="follow_up").exists()


def test_docs_interface_keeps_up_with_the_12345_protocol():
    """Every event type, field, code table value and refusal code of the protocol is in docs/interface.md."""
    import re
    from pathlib import Path

    from haocha.integrations.hotline12345 import callbacks, protocol

    root = Path(__file__).resolve().parent.parent
    doc = (root / "docs" / "interface.md").read_text().split("## 7.", 1)[1]
    names = set(protocol.KINDS)
    names |= {f.name for k in protocol.KINDS.values() for f in k.fields}
    for table in (protocol.COMPLEXITY, protocol.INVALID_REASONS, protocol.CONTACT_METHODS, protocol.RESULTS,
                  protocol.SATISFACTION):  # fmt: skip
        names |= set(table)
    sources = [Path(m.__file__).read_text() for m in (protocol, callbacks)]
    codes = {c for text in sources for c in re.findall(r'code="([a-z_]+)"', text)}
    codes |= {c for text in sources for c in re.findall(r'"refused", "([a-z_]+)"', text)}
    codes |= {"invalid_eventId", "invalid_orderNo"}
    assert {"unknown_order", "event_id_reused", "seq_taken", "time_in_future", "unknown_department"} <= codes
    missing = sorted(n for n in names | codes if f"`{n}`" not in doc)
    assert not missing, f"not in docs/interface.md section 7: {missing}"


def test_a_supervision_here_is_pushed_to_the_platform(cast, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from haocha.core.outbox import outbox_process
    from haocha.integrations.hotline12345.client import PlatformClient
    from haocha.workorders.sweep import work_orders_sweep
    from tests.workorder_helpers import act

    sent = []
    monkeypatch.setattr(
        PlatformClient, "push", lambda self, payload: sent.append(payload) or {"platformNo": "P1"}
    )
    platform = external_platform(cast)
    order = bad_rating(cast, "HL-S1")
    outbox_process()
    results(post_events(platform, [event(order, 1, "dispatch", {"departmentCode": cast.dept_a.credit_code})]))
    r = act(cast.supervisor, order, "supervise", note="请于今日联系群众", deadline="")
    assert r.status_code == 302, r.content
    outbox_process()
    assert [p["reason"] for p in sent] == ["new", "supervise"]
    assert sent[1]["supervision"]["kind"] == "督办" and sent[1]["supervision"]["note"] == "请于今日联系群众"
    assert sent[1]["version"] == 2
    # The sweep's 逾期督办 goes the same way.
    order = refresh(order)
    work_orders_sweep(now=order.contact_due_at + timedelta(minutes=1))
    outbox_process(now=timezone.now() + timedelta(minutes=1))
    assert sent[-1]["reason"] == "supervise" and sent[-1]["supervision"]["kind"] == "逾期督办"
    assert PlatformOrder.objects.get(order=order).state == PlatformOrder.State.SENT


def test_only_the_platform_may_name_its_12345_order(cast):
    from django.test import Client

    from haocha.workorders.models import WorkOrder
    from tests.factories import finished_case

    platform = external_platform(cast)
    order = bad_rating(cast, "HL-N1")
    results(post_events(platform, [event(order, 1, "accept", {"platformNo": "12345N1"})]))
    finished_case(cast, "HL-N2", seq=36)
    body = {"case_no": "HL-N2", "channel": "hotline_12345", "level": "dissatisfied", "comment": "差",
            "hotline_order_no": "12345N1"}  # fmt: skip
    r = Client().post(
        "/api/ratings", body, content_type="application/json", headers={"X-Api-Key": cast.key_city}
    )
    assert r.status_code == 201, r.content
    other = WorkOrder.objects.get(rating__public_id=r.json()["id"])  # not taken as the platform's order
    assert (
        other.pk != order.pk
        and other.platform_number == ""
        and not order.transitions.filter(action="follow_up")
    )


def test_reconciliation_repushes_what_the_platform_never_acknowledged_then_marks_it_stuck(cast, monkeypatch):
    from haocha.core.outbox import outbox_process
    from haocha.integrations.hotline12345.client import PlatformClient
    from haocha.integrations.hotline12345.models import HotlinePlatform
    from haocha.integrations.hotline12345.push import MAX_REPUSHES, reconcile

    pushed = []
    monkeypatch.setattr(
        PlatformClient, "push", lambda self, payload: pushed.append(payload) or {"platformNo": "Q1"}
    )
    monkeypatch.setattr(PlatformClient, "fetch", lambda self, number: None)  # the platform has lost it
    platform = external_platform(cast)
    HotlinePlatform.objects.filter(pk=platform.pk).update(quiet_hours=0)
    order = bad_rating(cast, "HL-R1")
    outbox_process()
    assert PlatformOrder.objects.get(order=order).state == PlatformOrder.State.SENT
    for round_ in range(MAX_REPUSHES):
        PlatformOrder.objects.filter(order=order).update(checked_at=None)
        assert "重推 1 单" in reconcile()
        outbox_process()
        assert len(pushed) == round_ + 2
    PlatformOrder.objects.filter(order=order).update(checked_at=None)
    assert "推送失败 1 单" in reconcile()
    push = PlatformOrder.objects.get(order=order)
    assert push.state == PlatformOrder.State.STUCK and "仍未受理" in push.last_error


def test_a_fault_of_ours_applying_a_callback_is_recorded_and_the_order_goes_on(cast, monkeypatch):
    from haocha.integrations.hotline12345 import callbacks

    def broken(order, actor, data):
        raise RuntimeError("a bug")

    monkeypatch.setitem(callbacks.APPLY, "verify", broken)
    platform = external_platform(cast)
    order = bad_rating(cast, "HL-F1")
    got = results(
        post_events(
            platform,
            [
                event(order, 1, "verify"),
                event(order, 2, "dispatch", {"departmentCode": cast.dept_a.credit_code}),
            ],
        )
    )
    assert [(r["state"], r["code"]) for r in got] == [("failed", "internal_error"), ("applied", "")]
    assert refresh(order).status == Status.PENDING_ACCEPT


def test_a_passing_conflict_leaves_the_event_waiting_and_reconciliation_applies_it(cast, monkeypatch):
    from haocha.core.errors import Conflict
    from haocha.integrations.hotline12345 import callbacks
    from haocha.integrations.hotline12345.models import HotlinePlatform
    from haocha.integrations.hotline12345.push import reconcile

    real = callbacks.APPLY["verify"]
    calls = []

    def busy_once(order, actor, data):
        calls.append(1)
        if len(calls) == 1:
            raise Conflict("工单已被他人处理，请刷新后重试", code="concurrent_update")
        return real(order, actor, data)

    monkeypatch.setitem(callbacks.APPLY, "verify", busy_once)
    platform = external_platform(cast)
    HotlinePlatform.objects.filter(pk=platform.pk).update(quiet_hours=0)
    order = bad_rating(cast, "HL-C1")
    got = results(post_events(platform, [event(order, 1, "verify")]))
    assert [r["state"] for r in got] == ["waiting"]
    assert PlatformOrder.objects.get(order=order).applied_seq == 0  # not used up by a passing failure
    reconcile()
    assert PlatformEvent.objects.get(order=order, seq=1).state == "applied"
    assert refresh(order).verified_at is not None


def test_another_citys_platform_using_the_same_number_is_another_matter(cast):
    from django.test import Client

    from haocha.organisations.models import Organisation, Region
    from haocha.workorders.models import WorkOrder
    from tests.factories import finished_case, make_org, make_region

    platform = external_platform(cast)
    order = bad_rating(cast, "HL-M1")
    results(post_events(platform, [event(order, 1, "accept", {"platformNo": "12345SAME"})]))
    other_city = make_region("430200", "株洲市", Region.Level.CITY, cast.province)
    make_org("株洲市市场监督管理局", Organisation.Kind.DEPARTMENT, other_city, code_seq=8)
    from haocha.integrations.hotline12345.services import platform_register

    other, _secret, key = platform_register(region_code="430200", name="株洲市12345热线")
    other.client.regions.add(cast.city)  # it may rate this case too (a caller about a 长沙 service)
    from haocha.accounts.access import clear_actor_cache

    clear_actor_cache()
    finished_case(cast, "HL-M2", seq=37)
    body = {"case_no": "HL-M2", "channel": "hotline_12345", "level": "dissatisfied", "comment": "差",
            "hotline_order_no": "12345SAME"}  # fmt: skip
    r = Client().post("/api/ratings", body, content_type="application/json", headers={"X-Api-Key": key})
    assert r.status_code == 201, r.content
    assert WorkOrder.objects.count() == 2 and not order.transitions.filter(action="follow_up").exists()


def test_a_region_switched_back_to_the_workbench_still_hears_about_its_pushed_orders(cast):
    from haocha.integrations.hotline12345.services import platform_set_mode

    platform = external_platform(cast)
    order = bad_rating(cast, "HL-B1")
    platform_set_mode(region_code=cast.city.code, mode="builtin")
    assert bad_rating(cast, "HL-B2").platform_id is None  # new 差评 stay here
    got = results(post_events(platform, [event(order, 1, "accept", {"platformNo": "12345B1"})]))
    assert got[0]["state"] == "applied"


def test_a_repush_says_what_the_version_said(cast, monkeypatch):
    from haocha.core.outbox import outbox_process
    from haocha.integrations.hotline12345.client import PlatformClient, PlatformDown
    from haocha.integrations.hotline12345.push import requeue
    from tests.workorder_helpers import act

    sent = []
    down = [True]

    def push(self, payload):
        if down[0]:
            raise PlatformDown("HTTP 503")
        sent.append(payload)
        return {"platformNo": "P9"}

    monkeypatch.setattr(PlatformClient, "push", push)
    platform = external_platform(cast)
    order = bad_rating(cast, "HL-Q1")
    results(post_events(platform, [event(order, 1, "accept", {"platformNo": "P9"})]))
    act(cast.supervisor, order, "supervise", note="今日内联系", deadline="")
    outbox_process()  # both fail
    down[0] = False
    requeue(PlatformOrder.objects.get(order=order))
    from datetime import timedelta

    from django.utils import timezone

    outbox_process(now=timezone.now() + timedelta(minutes=1))
    reasons = [p["reason"] for p in sent]
    assert "supervise" in reasons and all(p["version"] == 2 for p in sent if p["reason"] == "supervise")
    assert any(p.get("supervision", {}).get("note") == "今日内联系" for p in sent)
    push_row = PlatformOrder.objects.get(order=order)
    assert push_row.state == PlatformOrder.State.ACKNOWLEDGED  # never set back by a re-push
