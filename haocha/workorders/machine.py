"""The 差评 work order as a state machine: the table of actions, who may take each, and the guarded move.

Each action has one English name, used for its workbench URL (/workorders/<number>/act/<name>/), its service
function (work_order_<name>) and its rows in the transition log. A row of the table says the statuses the
action leaves from, the statuses it may reach (STAY: it stays where it is), the roles that may take it and
over which organisation, where a repeat of it is recognised, and what must hold before it can be taken.

Every change goes through `move()`: a conditional UPDATE on (status, version) — 0 rows means someone else got
there first — and a Transition row in the same transaction. A step asked for again when it is already done
(the second of two clicks, or of twenty operators at once) changes nothing and says so (`AlreadyDone`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.db import transaction
from django.db.models import F

from haocha.accounts.access import Actor, Permission
from haocha.accounts.models import ApiClient, Role
from haocha.core import clock
from haocha.core.errors import Conflict, DomainError, Forbidden
from haocha.workcalendar.services import workdays
from haocha.workorders.access import order_org
from haocha.workorders.clocks import clocks
from haocha.workorders.models import (
    DEPARTMENT_STATUSES,
    OPEN_STATUSES,
    Appeal,
    Extension,
    Status,
    Transition,
    WorkOrder,
)
from haocha.workorders.policy import order_policy

STAY = None  # a target: the order stays in the status it was in


class AlreadyDone(DomainError):
    """The step asked for is already done: nothing was changed, and the answer says so."""

    status = 200
    code = "already_done"


class Over(StrEnum):
    """The organisation a role must be held over to take an action on an order."""

    ORDER = "order"  # the order's department, else the rating's department or hall
    DEPARTMENT = "department"  # the department the order is assigned to
    HALL = "hall"  # the hall where the rating was made
    LINK = "link"  # no role: the citizen holding the order's signed link
    SYSTEM = "system"  # no role: the platform itself (intake, sweep, calendar changes)
    PLATFORM = "platform"  # no role: the external 12345 platform of the order, by its signed callbacks


class OnPlatform(StrEnum):
    """Who takes an action on an order an external 12345 platform verifies and dispatches (order.platform)."""

    HERE = "here"  # as on any order (督办, the sweeps, a 追评)
    THERE = "there"  # only the platform, by its callbacks: its operators, the departments, its call-back team
    NOT = "not"  # not taken on such an order (the platform has no such step)


@dataclass(frozen=True)
class Grant:
    roles: tuple[str, ...]
    over: Over


OPERATORS = Grant((Role.OPERATOR_12345, Role.SUPERVISOR), Over.ORDER)
SUPERVISORS = Grant((Role.SUPERVISOR,), Over.ORDER)
DEPARTMENT = Grant((Role.HANDLER, Role.DEPARTMENT_ADMIN), Over.DEPARTMENT)
HALL_CLERKS = Grant((Role.WINDOW_CLERK,), Over.HALL)
CITIZEN = Grant((), Over.LINK)
SYSTEM = Grant((), Over.SYSTEM)
PLATFORM = Grant((), Over.PLATFORM)
# The departments an order may be assigned (交办, 协办) to: those the operators' roles are held over.
# An external 12345 platform assigns its own orders within its region (its ApiClient holds the scope).
ASSIGN = Permission("交办", OPERATORS.roles, client_scope=ApiClient.Scope.WORKORDERS_PLATFORM)


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    sources: frozenset
    targets: tuple
    grants: tuple[Grant, ...]
    # Statuses outside `sources` where the action asked for again is recognised as a repeat (answered as a
    # no-op when the order already shows what was asked; refused as illegal otherwise).
    repeat_at: frozenset = frozenset()
    # What must hold besides the status (a Conflict to raise, or None); also hides the workbench form.
    ready: Callable[[WorkOrder], Conflict | None] | None = None
    workbench: bool = True
    citizen_sees: bool = True
    platform: OnPlatform = OnPlatform.HERE


# ---------------------------------------------------------------- what must hold besides the status


def _pending_extension(order: WorkOrder) -> bool:
    return order.extensions.filter(status=Extension.Status.PENDING).exists()


def _pending_appeal(order: WorkOrder) -> bool:
    return order.appeals.filter(status=Appeal.Status.PENDING).exists()


def _contacted(order: WorkOrder) -> Conflict | None:
    if order.contacted_at is None:
        return Conflict("请先联系群众并记录联系情况", code="contact_required")
    return None


def _no_pending_extension(order: WorkOrder) -> Conflict | None:
    return Conflict("已有待审批的延期申请", code="extension_pending") if _pending_extension(order) else None


def _a_pending_extension(order: WorkOrder) -> Conflict | None:
    return (
        None if _pending_extension(order) else Conflict("没有待审批的延期申请", code="no_pending_extension")
    )


def appeal_deadline(order: WorkOrder) -> datetime:
    return workdays.due(order.assigned_at or order.received_at, order_policy(order.region).appeal_days)


def _may_appeal(order: WorkOrder) -> Conflict | None:
    if _pending_appeal(order):
        return Conflict("已有待复核的申诉", code="appeal_pending")
    if clock.now() >= appeal_deadline(order):
        days = order_policy(order.region).appeal_days
        return Conflict(f"已超过交办后{days}个工作日的申诉期限", code="appeal_period_over")
    return None


def _a_pending_appeal(order: WorkOrder) -> Conflict | None:
    return None if _pending_appeal(order) else Conflict("没有待复核的申诉", code="no_pending_appeal")


# ---------------------------------------------------------------- the table

S = Status
THERE, NOT = OnPlatform.THERE, OnPlatform.NOT
OPEN = frozenset(OPEN_STATUSES)
# While an extension request can be pending: the department's hands, after 签收 and before 反馈.
EXTENSION_STATUSES = frozenset({S.ACCEPTED, S.HANDLING})

TABLE: tuple[Action, ...] = (
    Action("create", "生成工单", frozenset(), (S.PENDING_VERIFY,), (SYSTEM,), workbench=False),
    Action("acknowledge", "12345受理", OPEN, (STAY,), (PLATFORM,), workbench=False, platform=THERE),
    Action("verify", "核实", frozenset({S.PENDING_VERIFY}), (STAY,), (OPERATORS,),
           repeat_at=frozenset({S.PENDING_ACCEPT, S.ACCEPTED}), platform=THERE),
    Action("invalidate", "核实为无效", frozenset({S.PENDING_VERIFY}), (S.INVALID,), (OPERATORS,),
           repeat_at=frozenset({S.INVALID}), platform=THERE),
    Action("assign", "交办", frozenset({S.PENDING_VERIFY, S.PENDING_ACCEPT, S.ACCEPTED}), (S.PENDING_ACCEPT,),
           (OPERATORS,), platform=THERE),
    Action("set_complexity", "调整问题类型", OPEN, (STAY,), (OPERATORS,), citizen_sees=False, platform=THERE),
    Action("merge", "并单", OPEN, (S.MERGED, STAY), (OPERATORS,), repeat_at=frozenset({S.MERGED}), platform=NOT),
    Action("decide_extension", "审批延期", EXTENSION_STATUSES, (STAY,), (OPERATORS,), ready=_a_pending_extension,
           platform=THERE),
    Action("accept", "签收", frozenset({S.PENDING_ACCEPT}), (S.ACCEPTED,), (DEPARTMENT,),
           repeat_at=frozenset({S.ACCEPTED}), platform=THERE),
    Action("return", "退单", frozenset({S.PENDING_ACCEPT, S.ACCEPTED}), (S.PENDING_VERIFY,), (DEPARTMENT,),
           platform=THERE),
    Action("contact", "联系群众", frozenset({S.PENDING_ACCEPT, S.ACCEPTED, S.HANDLING}), (S.HANDLING, STAY),
           (DEPARTMENT,), platform=THERE),
    Action("request_extension", "申请延期", EXTENSION_STATUSES, (STAY,), (DEPARTMENT,),
           ready=_no_pending_extension, citizen_sees=False, platform=THERE),
    Action("feedback", "反馈办理结果", frozenset({S.HANDLING}), (S.PENDING_CALLBACK,), (DEPARTMENT,),
           repeat_at=frozenset({S.PENDING_CALLBACK}), ready=_contacted, platform=THERE),
    Action("on_the_spot", "当场处置", frozenset({S.PENDING_VERIFY, S.PENDING_ACCEPT, S.ACCEPTED}),
           (S.PENDING_CALLBACK,), (DEPARTMENT, HALL_CLERKS), repeat_at=frozenset({S.PENDING_CALLBACK}),
           platform=NOT),
    Action("appeal", "申诉", frozenset({S.PENDING_ACCEPT, S.ACCEPTED, S.HANDLING, S.PENDING_CALLBACK}), (STAY,),
           (DEPARTMENT,), ready=_may_appeal, citizen_sees=False, platform=NOT),
    Action("review_appeal", "申诉复核", OPEN | {S.CLOSED}, (S.INVALID, STAY), (SUPERVISORS,),
           repeat_at=frozenset({S.INVALID}), ready=_a_pending_appeal, citizen_sees=False),
    Action("supervise", "督办", OPEN, (STAY,), (SUPERVISORS,), citizen_sees=False),
    Action("callback", "回访", frozenset({S.PENDING_CALLBACK}), (S.CLOSED, S.HANDLING), (OPERATORS, CITIZEN),
           repeat_at=frozenset({S.CLOSED}), platform=THERE),
    Action("callback_failed", "回访未成功", frozenset({S.PENDING_CALLBACK}), (STAY,), (PLATFORM,),
           workbench=False, platform=THERE),
    Action("close", "12345办结", frozenset({S.PENDING_CALLBACK}), (S.CLOSED,), (PLATFORM,),
           repeat_at=frozenset({S.CLOSED}), workbench=False, platform=THERE),
    Action("follow_up", "追评补充", OPEN, (STAY,), (SYSTEM,), workbench=False),
    Action("reopen", "追评重办", frozenset({S.CLOSED, S.INVALID}), (S.PENDING_VERIFY,), (SYSTEM,),
           workbench=False),
    Action("escalate", "逾期督办", frozenset(DEPARTMENT_STATUSES), (STAY,), (SYSTEM,), workbench=False,
           citizen_sees=False),
    Action("recompute", "重算期限", OPEN, (STAY,), (SYSTEM,), workbench=False, citizen_sees=False),
)  # fmt: skip

ACTIONS: dict[str, Action] = {a.name: a for a in TABLE}
WORKBENCH_ACTIONS = tuple(a.name for a in TABLE if a.workbench)
HIDDEN_FROM_CITIZEN = tuple(a.name for a in TABLE if not a.citizen_sees)
STATUS_LABELS = dict(Status.choices)


def label(name: str) -> str:
    action = ACTIONS.get(name)
    return action.label if action else name


def step_label(step: Transition) -> str:
    """A log row's label on the timeline: a 交办 to another department after the first is a 改派."""
    if (step.data or {}).get("remote"):  # a lower-level system's step, under the label it gave
        return step.data.get("label") or step.action
    if step.action == "assign" and (step.data or {}).get("reassign"):
        return "改派"
    return label(step.action)


def step_actor(step: Transition) -> str:
    """Who took a step, as it goes to another system: a staff member by the role the action was taken in
    (a login name is this system's business), a system, a citizen's channel or a child system as logged."""
    if step.actor_id is None:
        return step.actor_label
    held = {a.role for a in step.actor.roles.all()}
    if step.actor.is_superuser:
        held.add(Role.SYSTEM_ADMIN)
    action = ACTIONS.get(step.action)
    granted = [r for g in action.grants for r in g.roles] if action else []
    role = next((r for r in granted if r in held), None) or next(iter(sorted(held)), None)
    return Role(role).label if role else "工作人员"


# ---------------------------------------------------------------- who may take an action


def _org_over(over: Over, order: WorkOrder) -> int | None:
    if over == Over.ORDER:
        return order_org(order)
    if over == Over.DEPARTMENT:
        return order.department_id
    if over == Over.HALL:
        return order.rating.hall_id
    return None


def may(actor: Actor, order: WorkOrder, name: str, *, via_link: bool = False) -> bool:
    """The actor holds a role of the action's grants over the organisation each grant names."""
    action = ACTIONS[name]
    if order.platform_id and action.platform != OnPlatform.HERE:
        # On an external 12345 platform's order its steps are its own, taken by its signed callbacks.
        return (
            action.platform == OnPlatform.THERE
            and not via_link
            and actor.client is not None
            and actor.client.pk == order.platform_id
        )
    if via_link:
        return any(g.over == Over.LINK for g in action.grants)
    if actor.client is not None:
        return False
    return any(g.roles and actor.can_act(g.roles, _org_over(g.over, order)) for g in action.grants)


def authorize(actor: Actor, order: WorkOrder, name: str, *, via_link: bool = False) -> None:
    if may(actor, order, name, via_link=via_link):
        return
    action = ACTIONS[name]
    if order.platform_id and action.platform == OnPlatform.THERE:
        raise Forbidden(
            f"该工单由12345平台核实交办，“{action.label}”在12345平台办理，办理进度由平台回传",
            code="handled_by_platform",
        )
    if order.platform_id and action.platform == OnPlatform.NOT:
        raise Forbidden(f"由12345平台办理的工单不能{action.label}", code="not_for_platform_orders")
    roles = [r for g in action.grants for r in g.roles]
    if actor.client is None and actor.has_role(*roles):
        raise Forbidden(f"该工单不在您的办理范围，不能{action.label}", code="not_your_department")
    who = "或".join(dict.fromkeys(Role(r).label for r in roles))
    raise Forbidden(f"只有{who}可以{action.label}", code="role_not_allowed")


def _handled_elsewhere() -> Conflict:
    return Conflict("该工单由下级系统办理，本级只读（办理进度由下级系统上报）", code="handled_elsewhere")


def _illegal(order: WorkOrder, action: Action) -> Conflict:
    return Conflict(
        f"工单当前为“{STATUS_LABELS.get(order.status, order.status)}”，不能{action.label}",
        code="illegal_transition",
    )


Repeat = Callable[[WorkOrder], str | None]

# Called after each step on an order an external 12345 platform handles, in the step's transaction
# (hotline12345 registers one that tells the platform of a 督办): fn(order, action name, transition).
_PLATFORM_STEP_HOOKS: list[Callable] = []


def on_platform_step(fn: Callable) -> None:
    if fn not in _PLATFORM_STEP_HOOKS:
        _PLATFORM_STEP_HOOKS.append(fn)


def ensure(order: WorkOrder, name: str, *, repeat: Repeat | None = None) -> None:
    """Before an action's writes: a repeat of a done step is answered as done; the status must be one the
    action leaves from, and what the action needs besides must hold."""
    action = ACTIONS[name]
    if order.handled_by_id:
        raise _handled_elsewhere()
    if repeat is not None and order.status in action.sources | action.repeat_at:
        message = repeat(order)
        if message:
            raise AlreadyDone(message)
    if order.status not in action.sources:
        raise _illegal(order, action)
    if action.ready is not None:
        refusal = action.ready(order)
        if refusal is not None:
            raise refusal


def allowed(actor: Actor, order: WorkOrder, name: str) -> bool:
    """What the workbench offers: the actor may take the action, and it can be taken now."""
    action = ACTIONS[name]
    if order.handled_by_id or not may(actor, order, name) or order.status not in action.sources:
        return False
    return action.ready is None or action.ready(order) is None


# The clock's own rows (逾期督办, 重算期限): not steps anyone took.
CLOCK_ACTIONS = ("escalate", "recompute")


def previous_step_at(order: WorkOrder, *, clock_steps: bool = True) -> datetime | None:
    """When the order's latest recorded step says it happened (without `clock_steps`, the clock's own rows
    aside: what a partner system's step, reported late at the time it happened there, may precede)."""
    rows = order.transitions.all() if clock_steps else order.transitions.exclude(action__in=CLOCK_ACTIONS)
    row = rows.order_by("-at", "-id").values_list("stated_at", "at").first()
    return (row[0] or row[1]) if row else None


# ---------------------------------------------------------------- the guarded move


def move(
    order: WorkOrder,
    name: str,
    *,
    actor: Actor,
    to: str | None = STAY,
    repeat: Repeat | None = None,
    now: datetime | None = None,
    stated_at: datetime | None = None,
    note: str = "",
    attachments=None,
    data=None,
    changes=None,
) -> WorkOrder:
    """Apply one action if the order is still in a status it leaves from and unchanged since it was read.

    When another writer got there first, the order is read again: if it now shows the step done (`repeat`),
    the answer is AlreadyDone; otherwise a 409. An extension request still pending lapses when the order
    leaves the department's hands.
    """
    action = ACTIONS[name]
    if to not in action.targets:
        raise ValueError(f"action {name} cannot reach {to}")
    if order.handled_by_id:
        raise _handled_elsewhere()
    if order.status not in action.sources:
        raise _illegal(order, action)
    now = now or clock.now()
    from_status = order.status
    target = from_status if to is STAY else to
    changes = dict(changes or {})
    for key, value in changes.items():
        setattr(order, key, value)
    order.status = target
    changes.update(clocks(order, order_policy(order.region)))
    with transaction.atomic():
        updated = WorkOrder.objects.filter(pk=order.pk, status=from_status, version=order.version).update(
            status=target, version=F("version") + 1, updated_at=now, **changes
        )
        if not updated:
            fresh = WorkOrder.objects.select_related("rating", "department", "region").get(pk=order.pk)
            message = None
            if repeat is not None and fresh.status in action.sources | action.repeat_at:
                message = repeat(fresh)
            if message:
                raise AlreadyDone(message)
            raise Conflict("工单已被他人处理，请刷新后重试", code="concurrent_update")
        step = Transition.objects.create(
            order=order,
            action=name,
            from_status=from_status,
            to_status=target,
            actor=actor.user,
            actor_label=actor.label,
            at=now,
            stated_at=stated_at,
            note=note,
            attachments=attachments or [],
            data=data or {},
        )
        if from_status in EXTENSION_STATUSES and target not in EXTENSION_STATUSES:
            Extension.objects.filter(order=order, status=Extension.Status.PENDING).update(
                status=Extension.Status.LAPSED,
                decided_at=now,
                decided_by_label="系统",
                decision_note=f"工单已{action.label}，延期申请失效",
            )
        if order.platform_id:
            for fn in _PLATFORM_STEP_HOOKS:
                fn(order, name, step)
    order.refresh_from_db()
    return order
