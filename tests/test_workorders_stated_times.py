"""A step recorded with a stated time (联系时间): the time said is kept, but timeliness counts it only within the
policy's window before recording, never before the previous step, never in the future."""

from datetime import datetime

import pytest

from haocha.workcalendar.arithmetic import SHANGHAI
from haocha.workcalendar.services import workdays
from haocha.workorders.models import ContactRecord, WorkOrderPolicy
from haocha.workorders.sweep import work_orders_sweep
from tests.workorder_helpers import act, bad_rating, error_code, frozen, refresh, staff

pytestmark = pytest.mark.django_db


def sh(*args):
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def fresh_calendar():
    workdays.refresh()
    workdays.invalidate()
    yield
    workdays.refresh()
    workdays.invalidate()


def assigned(cast, case_no):
    """Assigned Monday 2026-11-02 09:00: the contact clock runs out at 11-04 00:00."""
    with frozen(sh(2026, 11, 2, 9, 0)):
        order = bad_rating(cast, case_no)
        assert act(cast.operator, order, "verify", valid="1", department=cast.dept_a.pk).status_code == 302
    order = refresh(order)
    assert order.contact_due_at == sh(2026, 11, 4)
    return order


def close(cast, order, at):
    with frozen(at):
        assert act(cast.handler_a, order, "feedback", result="已处理").status_code == 302
        assert act(cast.operator, order, "callback", solved="1", satisfaction="satisfied").status_code == 302
    return refresh(order)


def test_a_contact_back_dated_before_a_missed_deadline_counts_from_its_recording(cast):
    order = assigned(cast, "ST-1")
    with frozen(sh(2026, 11, 4, 9, 0)):  # nine hours late; says it called the evening before
        r = act(
            cast.handler_a,
            order,
            "contact",
            method="phone",
            outcome="已联系",
            contacted_at="2026-11-03T23:00",
        )
        assert r.status_code == 302
    order = close(cast, order, sh(2026, 11, 4, 10, 0))
    assert order.contact_over_minutes == 9 * 60
    assert order.contact_minutes == 48 * 60  # 11-02 09:00 to the recording at 11-04 09:00
    record = ContactRecord.objects.get(order=order)
    assert record.contacted_at == sh(2026, 11, 3, 23, 0) and record.recorded_at == sh(2026, 11, 4, 9, 0)
    page = staff(cast.operator).get(f"/workorders/{order.number}/").content.decode()
    assert "2026-11-03 23:00" in page  # the time as stated stays on the timeline


def test_a_stated_time_within_the_window_counts_as_stated(cast):
    order = assigned(cast, "ST-2")
    with frozen(sh(2026, 11, 4, 1, 0)):
        r = act(
            cast.handler_a,
            order,
            "contact",
            method="phone",
            outcome="已联系",
            contacted_at="2026-11-03T23:30",
        )
        assert r.status_code == 302
    order = close(cast, order, sh(2026, 11, 4, 10, 0))
    assert order.contact_over_minutes == 0 and order.contacted_at == sh(2026, 11, 3, 23, 30)


def test_the_window_is_the_region_policy(cast):
    WorkOrderPolicy.objects.create(region=cast.city, stated_time_window_hours=12)
    order = assigned(cast, "ST-3")
    with frozen(sh(2026, 11, 4, 9, 0)):
        act(
            cast.handler_a,
            order,
            "contact",
            method="phone",
            outcome="已联系",
            contacted_at="2026-11-03T23:00",
        )
    assert close(cast, order, sh(2026, 11, 4, 10, 0)).contact_over_minutes == 0


def test_a_stated_time_before_the_previous_step_is_refused(cast):
    order = assigned(cast, "ST-4")
    assert work_orders_sweep(now=sh(2026, 11, 4, 0, 0))["level1"] == 1  # the deadline passed: 督办 at 00:00
    with frozen(sh(2026, 11, 4, 0, 30)):
        r = act(
            cast.handler_a,
            order,
            "contact",
            method="phone",
            outcome="已联系",
            contacted_at="2026-11-03T23:50",
        )
    assert r.status_code == 422 and error_code(r) == "stated_time_before_previous_step"
    assert "不能早于" in r.content.decode()
    assert refresh(order).contacted_at is None and not ContactRecord.objects.exists()


def test_a_stated_time_in_the_future_is_refused(cast):
    order = assigned(cast, "ST-5")
    with frozen(sh(2026, 11, 3, 9, 0)):
        r = act(
            cast.handler_a,
            order,
            "contact",
            method="phone",
            outcome="已联系",
            contacted_at="2026-11-03T09:02",
        )
    assert r.status_code == 422 and error_code(r) == "stated_time_in_future"
    assert "晚于当前时间" in r.content.decode()
    assert not ContactRecord.objects.exists()
