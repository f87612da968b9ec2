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
    events = [event(order, i, kind, data) for i, (kind, data) in enumerate(steps_to_close(order, cast.dept_a), 1)]
    got = results(post_events(platform, events))
    assert [r["state"] for r in got] == ["applied"] * len(events), got
    order = refresh(order)
    assert order.status == Status.CLOSED
    assert order.department_id == cast.dept_a.pk
    assert order.platform_number == "12345202612040001"
    assert order.callback_solved is True and order.callback_satisfaction == "satisfied"
    assert order.contacted_at is not None and order.closed_at is not None
    actions = list(order.transitions.values_list("action", flat=True))
    assert actions == ["create", "acknowledge", "verify", "assign", "accept", "contact", "feedback", "callback"]
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
    from tests.factories import make_org, make_region
    from haocha.organisations.models import Organisation, Region

    other = make_region("430200", "株洲市", Region.Level.CITY, cast.province)
    stranger = make_org("株洲市市场监督管理局", Organisation.Kind.DEPARTMENT, other, code_seq=9)
    platform = external_platform(cast)
    order = bad_rating(cast, "HL-7")
    got = results(post_events(platform, [event(order, 1, "dispatch", {"departmentCode": stranger.credit_code})]))
    assert got[0]["code"] == "department_out_of_scope"


def test_forged_stale_and_replayed_callbacks_are_refused(cast):
    from haocha.integrations.docking import signing
    from haocha.integrations.hotline12345.protocol import CALLBACK_PATH
    import orjson

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
    ],
)
def test_malformed_events_are_refused_one_by_one_with_a_code(cast, raw, code):
    platform = external_platform(cast)
    order = bad_rating(cast, "HL-10")
    bad = {**event(order, 1, "verify"), **raw}
    good = event(order, 1, "accept", {"platformNo": "12345OK"})
    got = results(post_events(platform, [bad, good]))
    assert got[0]["status"] == "refused" and got[0]["code"] == code, got[0]
    assert got[1]["state"] == "applied"
