"""The platform's own steps on open orders: the overdue sweep (督办 level 1 at the deadline, level 2 after
a further delay; nearing-deadline notices) and recomputing deadlines when the calendar changes."""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from haocha.accounts.access import Actor
from haocha.accounts.models import Role
from haocha.core import clock
from haocha.core.errors import Conflict
from haocha.workcalendar.services import workdays
from haocha.workorders import machine
from haocha.workorders.clocks import clocks, next_escalation
from haocha.workorders.models import DEPARTMENT_STATUSES, OPEN_STATUSES, Supervision, WorkOrder
from haocha.workorders.notifications import notify
from haocha.workorders.policy import order_policy

DEPARTMENT_ROLES = (Role.HANDLER, Role.DEPARTMENT_ADMIN)


def _escalate(order: WorkOrder, level: int, now: datetime, system: Actor) -> bool:
    """One automatic 督办 of a late order, with its notification in the same (nested) transaction;
    False when the order moved on or a concurrent sweep came first."""
    try:
        with transaction.atomic():
            Supervision.objects.create(
                order=order,
                kind=Supervision.Kind.AUTO,
                level=level,
                cycle=order.cycle,
                department_id=order.department_id,
                note=f"逾期自动{level}级督办",
                created_at=now,
            )
            machine.move(
                order,
                "escalate",
                actor=system,
                now=now,
                note=f"已超过期限（{timezone.localtime(order.due_at):%Y-%m-%d %H:%M}），自动{level}级督办",
                data={"level": level},
                changes={"escalation_level": level, "overdue": True},
            )
            notify(
                order,
                key=f"overdue-{level}",
                title=f"{level}级督办：工单 {order.number} 已逾期",
                body="请立即办理并反馈",
                org_ids=[order.department_id],
                roles=(*DEPARTMENT_ROLES, Role.SUPERVISOR),
            )
    except (Conflict, IntegrityError):
        return False
    return True


def work_orders_sweep(*, now: datetime | None = None, batch: int = 500) -> dict:
    """The overdue sweep: 督办 level 1 at the deadline, level 2 after a further delay; nearing-deadline notices."""
    now = now or clock.now()
    counts = {"level1": 0, "level2": 0, "nearing": 0}
    system = Actor(label="系统")
    late_ids = list(
        WorkOrder.objects.filter(
            status__in=DEPARTMENT_STATUSES, next_escalation_at__lte=now, handled_by__isnull=True
        )
        .order_by("next_escalation_at")
        .values_list("pk", flat=True)
    )
    # One transaction per chunk (a savepoint per order): a commit per order would cost a disk flush each.
    for start in range(0, len(late_ids), batch):
        with transaction.atomic():
            chunk = WorkOrder.objects.filter(pk__in=late_ids[start : start + batch]).select_related("region")
            for order in chunk:
                policy = order_policy(order.region)
                second = workdays.due(order.due_at - timedelta(microseconds=1), policy.second_escalation_days)
                target = 2 if now >= second else 1
                if target <= order.escalation_level:  # nothing due yet: remember when it will be
                    WorkOrder.objects.filter(pk=order.pk, version=order.version).update(
                        next_escalation_at=next_escalation(order.escalation_level, order.due_at, policy)
                    )
                    continue
                for level in range(order.escalation_level + 1, target + 1):
                    if not _escalate(order, level, now, system):
                        break
                    counts[f"level{level}"] += 1
    soon = WorkOrder.objects.filter(
        status__in=DEPARTMENT_STATUSES,
        due_at__gt=now,
        due_at__lte=now + timedelta(hours=4),
        handled_by__isnull=True,  # a lower-level system's order: its own sweep reminds its handlers
    )
    for order in soon.iterator(chunk_size=batch):
        notify(
            order,
            key=f"nearing-{order.due_at:%Y%m%d%H%M}",
            title=f"工单 {order.number} 即将到期",
            body=f"期限 {timezone.localtime(order.due_at):%Y-%m-%d %H:%M}",
            org_ids=[order.department_id],
            roles=DEPARTMENT_ROLES,
        )
        counts["nearing"] += 1
    return counts


def work_orders_recompute_deadlines(years=None) -> int:
    """After a calendar year is entered or corrected: recompute the clocks of open orders."""
    system = Actor(label="系统")
    changed = 0
    qs = WorkOrder.objects.filter(
        status__in=OPEN_STATUSES, assigned_at__isnull=False, handled_by__isnull=True
    ).select_related("region")
    for order in qs.iterator(chunk_size=1000):
        fresh = clocks(order, order_policy(order.region))
        if (fresh["contact_due_at"], fresh["finish_due_at"], fresh["due_at"]) == (
            order.contact_due_at,
            order.finish_due_at,
            order.due_at,
        ):
            continue
        try:
            machine.move(
                order,
                "recompute",
                actor=system,
                note="工作日历变更，重算期限",
                data={"years": sorted(years or [])},
            )
            changed += 1
        except Conflict:
            continue
    return changed
