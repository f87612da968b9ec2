"""The clocks of a work order: deadlines from the start of the current cycle, 督办 times, minutes used and
over target, new cycles, and when a step recorded with a stated time counts."""

from datetime import datetime, timedelta

from django.utils import timezone

from haocha.core.errors import InvalidInput
from haocha.workcalendar.services import workdays
from haocha.workorders.models import DEPARTMENT_STATUSES, Complexity, WorkOrder
from haocha.workorders.policy import OrderPolicy


def finish_days(policy: OrderPolicy, complexity: str) -> int:
    return policy.complex_days if complexity == Complexity.COMPLEX else policy.simple_days


def clocks(order: WorkOrder, policy: OrderPolicy) -> dict:
    """Deadlines from the start of the current cycle; due = the earliest clock still running."""
    start = order.clock_started_at or order.assigned_at
    if start is None:
        return {"contact_due_at": None, "finish_due_at": None, "due_at": None, "next_escalation_at": None}
    contact_due = workdays.due(start, policy.contact_days)
    finish_due = workdays.due(start, finish_days(policy, order.complexity) + order.extension_days)
    running = []
    if order.status in DEPARTMENT_STATUSES:
        if order.contacted_at is None:
            running.append(contact_due)
        if order.feedback_at is None:
            running.append(finish_due)
    due_at = min(running) if running else None
    return {
        "contact_due_at": contact_due,
        "finish_due_at": finish_due,
        "due_at": due_at,
        "next_escalation_at": next_escalation(order.escalation_level, due_at, policy),
    }


def next_escalation(level: int, due_at: datetime | None, policy: OrderPolicy) -> datetime | None:
    """Level 1 falls due with the running clock, level 2 a few working days after the day it fell due."""
    if due_at is None or level >= 2:
        return None
    if level == 0:
        return due_at
    return workdays.due(due_at - timedelta(microseconds=1), policy.second_escalation_days)


def minutes(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, int((end - start).total_seconds() // 60))


def closing_minutes(order: WorkOrder) -> dict:
    """Minutes used and over target per clock, kept when the order closes."""
    out = {}
    start = order.clock_started_at or order.assigned_at
    if order.contact_due_at and order.contacted_at:
        out["contact_minutes"] = minutes(start, order.contacted_at)
        out["contact_over_minutes"] = minutes(
            order.contact_due_at, max(order.contacted_at, order.contact_due_at)
        )
    if order.finish_due_at and order.feedback_at:
        out["finish_minutes"] = minutes(start, order.feedback_at)
        out["finish_over_minutes"] = minutes(order.finish_due_at, max(order.feedback_at, order.finish_due_at))
    return out


def new_cycle(order: WorkOrder, *, start: datetime | None) -> dict:
    """Field changes that begin a new cycle (改派, 回访不满意, 追评重办): the clocks restart at `start` (None:
    when the order is next assigned), with fresh 督办 levels and no extension days of the old cycle."""
    return {
        "cycle": order.cycle + 1,
        "clock_started_at": start,
        "contacted_at": None,
        "feedback_at": None,
        "escalation_level": 0,
        "extension_days": 0,
    }


def counted_time(
    stated: datetime | None, *, now: datetime, previous: datetime | None, policy: OrderPolicy, label: str
) -> datetime:
    """When a step said to have happened at `stated` and recorded `now` counts for the clocks.

    The stated time may not lie in the future nor before the previous step; it counts only when recorded
    within the policy's window after it, otherwise the step counts from its recording (a call entered a
    day late does not stop a clock that ran out meanwhile).
    """
    if stated is None:
        return now
    if stated > now:
        raise InvalidInput(f"{label}不能晚于当前时间", code="stated_time_in_future")
    if previous is not None and stated < previous:
        raise InvalidInput(
            f"{label}不能早于上一步的时间（{timezone.localtime(previous):%Y-%m-%d %H:%M}）",
            code="stated_time_before_previous_step",
        )
    if now - stated <= timedelta(hours=policy.stated_time_window_hours):
        return stated
    return now
