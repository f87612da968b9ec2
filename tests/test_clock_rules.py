"""The clock rules one by one, at their boundaries (workorders/clocks.py): when a stated time counts, the
second 督办, minutes used and over target, what a new cycle resets. The flows through HTTP are in
test_workorders_clocks.py and test_workorders_stated_times.py; these pin the edges a mutation run found loose."""

from datetime import datetime, timedelta

import pytest

from haocha.core.errors import InvalidInput
from haocha.workcalendar.arithmetic import SHANGHAI
from haocha.workcalendar.services import workdays
from haocha.workorders import clocks
from haocha.workorders.models import WorkOrder
from haocha.workorders.policy import DEFAULT, OrderPolicy

pytestmark = pytest.mark.django_db


def sh(*args):
    return datetime(*args, tzinfo=SHANGHAI)


NOW = sh(2026, 12, 3, 10, 0)


def counted(stated, previous=None, policy=DEFAULT):
    return clocks.counted_time(stated, now=NOW, previous=previous, policy=policy, label="联系时间")


def test_a_stated_time_counts_up_to_now_and_from_the_previous_step_on():
    assert counted(None) == NOW
    assert counted(NOW) == NOW  # said to have happened as it was recorded
    with pytest.raises(InvalidInput) as err:
        counted(NOW + timedelta(microseconds=1))
    assert err.value.code == "stated_time_in_future"
    previous = NOW - timedelta(minutes=30)
    assert counted(previous, previous=previous) == previous  # the same moment as the previous step is allowed
    with pytest.raises(InvalidInput) as err:
        counted(previous - timedelta(seconds=1), previous=previous)
    assert err.value.code == "stated_time_before_previous_step"
    assert "2026-12-03 09:30" in str(err.value)  # the message names the previous step's time


def test_a_stated_time_counts_within_the_window_and_at_its_edge_only():
    policy = OrderPolicy(stated_time_window_hours=2)
    edge = NOW - timedelta(hours=2)
    assert counted(edge, policy=policy) == edge
    assert counted(edge - timedelta(seconds=1), policy=policy) == NOW  # outside: counts from its recording
    assert counted(
        NOW - timedelta(hours=3), policy=OrderPolicy(stated_time_window_hours=3)
    ) == NOW - timedelta(hours=3)


def test_the_second_escalation_comes_working_days_after_the_first_and_there_is_no_third():
    workdays.refresh()
    due = sh(2026, 12, 3, 17, 30)  # a Thursday
    policy = OrderPolicy(second_escalation_days=2)
    assert clocks.next_escalation(0, due, policy) == due
    assert clocks.next_escalation(1, due, policy) == workdays.due(due - timedelta(microseconds=1), 2)
    assert clocks.next_escalation(1, due, policy) > due
    assert clocks.next_escalation(2, due, policy) is None
    assert clocks.next_escalation(3, due, policy) is None
    assert clocks.next_escalation(0, None, policy) is None


def test_minutes_need_both_ends_and_never_go_below_zero():
    start = sh(2026, 12, 3, 9, 0)
    assert clocks.minutes(start, None) is None
    assert clocks.minutes(None, start) is None
    assert clocks.minutes(start, start + timedelta(minutes=90, seconds=59)) == 90
    assert clocks.minutes(start, start - timedelta(minutes=5)) == 0


def order(**fields):
    return WorkOrder(**fields)


def test_closing_minutes_per_clock_from_the_start_of_the_cycle():
    assigned = sh(2026, 12, 1, 9, 0)
    restarted = sh(2026, 12, 2, 9, 0)
    done = order(
        assigned_at=assigned,
        clock_started_at=restarted,
        contact_due_at=restarted + timedelta(hours=2),
        contacted_at=restarted + timedelta(hours=3),
        finish_due_at=restarted + timedelta(days=1),
        feedback_at=restarted + timedelta(hours=20),
    )
    assert clocks.closing_minutes(done) == {
        "contact_minutes": 180,
        "contact_over_minutes": 60,
        "finish_minutes": 1200,
        "finish_over_minutes": 0,
    }
    # No restart: the cycle began at the assignment.
    first = order(
        assigned_at=assigned,
        contact_due_at=assigned + timedelta(hours=2),
        contacted_at=assigned + timedelta(hours=1),
        finish_due_at=assigned + timedelta(hours=10),
        feedback_at=assigned + timedelta(hours=12),
    )
    assert clocks.closing_minutes(first) == {
        "contact_minutes": 60,
        "contact_over_minutes": 0,
        "finish_minutes": 720,
        "finish_over_minutes": 120,
    }
    # A clock without its step (or without its due time) gives no figure, not a zero.
    assert clocks.closing_minutes(order(assigned_at=assigned, contact_due_at=assigned)) == {}
    assert (
        clocks.closing_minutes(order(assigned_at=assigned, contacted_at=assigned, feedback_at=assigned)) == {}
    )


def test_a_new_cycle_resets_every_clock_and_the_old_extension():
    old = order(
        cycle=2,
        clock_started_at=sh(2026, 12, 1, 9, 0),
        contacted_at=sh(2026, 12, 1, 10, 0),
        feedback_at=sh(2026, 12, 2, 10, 0),
        escalation_level=2,
        extension_days=5,
    )
    start = sh(2026, 12, 3, 9, 0)
    assert clocks.new_cycle(old, start=start) == {
        "cycle": 3,
        "clock_started_at": start,
        "contacted_at": None,
        "feedback_at": None,
        "escalation_level": 0,
        "extension_days": 0,
    }
