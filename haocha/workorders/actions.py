"""The steps people take on a work order (12345 operators, departments, supervisors), each one action of the
machine (haocha/workorders/machine.py): who may take it, what it takes, what a repeat of it looks like."""

from datetime import datetime

from django.db import IntegrityError, transaction

from haocha.accounts.access import Actor
from haocha.accounts.models import Role
from haocha.core import clock
from haocha.core.errors import Conflict, Forbidden, InvalidInput
from haocha.evaluations.models import RatingFlag
from haocha.evaluations.rules import RuleError
from haocha.evaluations.services import rating_flag
from haocha.organisations.models import Organisation
from haocha.workorders import machine
from haocha.workorders.access import order_org
from haocha.workorders.clocks import closing_minutes, counted_time, new_cycle
from haocha.workorders.inputs import checked_text
from haocha.workorders.models import (
    Appeal,
    Complexity,
    ContactRecord,
    Extension,
    InvalidReason,
    Status,
    Supervision,
    Transition,
    WorkOrder,
)
from haocha.workorders.notifications import excerpt, notify
from haocha.workorders.policy import order_policy

OPERATOR_ROLES = (Role.OPERATOR_12345,)
DEPARTMENT_ROLES = (Role.HANDLER, Role.DEPARTMENT_ADMIN)
SUPERVISOR_ROLES = (Role.SUPERVISOR,)
NOTE = (Transition, "note")
ASSIGNED = (Status.PENDING_ACCEPT, Status.ACCEPTED)


def _complexity(value: str) -> str:
    if value and value not in Complexity.values:
        raise InvalidInput("问题类型应为 simple 或 complex", code="invalid_complexity")
    return value


# ---------------------------------------------------------------- 12345 operator


def _assign_repeat(order: WorkOrder, department: Organisation, complexity: str, co_departments) -> str | None:
    """A 交办 asking for what the order already has: the same department, the same particulars."""
    if order.status not in ASSIGNED or order.department_id != department.pk:
        return None
    if complexity and complexity != order.complexity:
        return None
    if co_departments and {c.pk for c in co_departments} != set(
        order.co_departments.values_list("pk", flat=True)
    ):
        return None
    return f"已交办给{department.name}，无需重复"


@transaction.atomic
def work_order_verify(
    *,
    order: WorkOrder,
    actor: Actor,
    complexity: str = "",
    note: str = "",
    department: Organisation | None = None,
    co_departments=(),
) -> WorkOrder:
    """核实: the 差评 is found to be true, with the problem's complexity. With a department it is also
    交办 in the same transaction: both steps are written, or neither."""
    machine.authorize(actor, order, "verify")
    complexity = _complexity(complexity)
    note = checked_text(note, NOTE, label="核实说明")

    def repeat(o: WorkOrder) -> str | None:
        if o.status == Status.PENDING_VERIFY:
            return "已核实，无需重复" if o.verified_at is not None and department is None else None
        if department is None:
            return "已核实，无需重复"
        return _assign_repeat(o, department, complexity, co_departments)

    already_verified = order.status == Status.PENDING_VERIFY and order.verified_at is not None
    if not (already_verified and department is not None):  # verified before: only the 交办 is left
        machine.ensure(order, "verify", repeat=repeat)
        order = machine.move(
            order,
            "verify",
            actor=actor,
            repeat=repeat,
            note=note or "核实属实",
            changes={"verified_at": clock.now(), "complexity": complexity or order.complexity},
        )
    if department is not None:
        order = work_order_assign(
            order=order,
            actor=actor,
            department=department,
            complexity=complexity,
            co_departments=co_departments,
        )
    return order


@transaction.atomic
def work_order_invalidate(*, order: WorkOrder, actor: Actor, reason: str, note: str) -> WorkOrder:
    """核实为无效: mistaken, malicious, or not a government matter; the order closes as invalid."""
    machine.authorize(actor, order, "invalidate")
    if reason not in InvalidReason.values:
        raise InvalidInput(
            "核实为无效须选择原因：mistaken、malicious 或 not_government", code="invalid_reason_required"
        )
    note = checked_text(
        note,
        (WorkOrder, "invalid_note"),
        NOTE,
        label="无效理由",
        required=("核实为无效须说明理由", "note_required"),
    )

    def repeat(o: WorkOrder) -> str | None:
        return "已核实为无效，无需重复" if o.status == Status.INVALID and o.invalid_reason == reason else None

    machine.ensure(order, "invalidate", repeat=repeat)
    now = clock.now()
    return machine.move(
        order,
        "invalidate",
        actor=actor,
        to=Status.INVALID,
        repeat=repeat,
        now=now,
        note=note,
        changes={"verified_at": now, "invalid_reason": reason, "invalid_note": note, "closed_at": now},
    )


@transaction.atomic
def work_order_assign(
    *,
    order: WorkOrder,
    actor: Actor,
    department: Organisation | None = None,
    complexity: str = "",
    co_departments=(),
    note: str = "",
) -> WorkOrder:
    """交办 to the responsible department (the case's by default); to another department after the first,
    a 改派: the new department's clocks start in a new cycle."""
    machine.authorize(actor, order, "assign")
    department = department or order.department
    if department is None:
        raise InvalidInput("请选择承办部门", code="department_required")
    if not actor.allows(machine.ASSIGN, department.pk):
        raise Forbidden("不能交办到辖区以外的部门", code="department_out_of_scope")
    for co in co_departments:
        if not actor.allows(machine.ASSIGN, co.pk):
            raise Forbidden(f"不能请辖区以外的{co.name}协办", code="department_out_of_scope")
    asked = _complexity(complexity)
    note = checked_text(note, NOTE, label="交办说明")

    def repeat(o: WorkOrder) -> str | None:
        return _assign_repeat(o, department, asked, co_departments)

    machine.ensure(order, "assign", repeat=repeat)
    if order.status in ASSIGNED and order.department_id == department.pk:
        raise Conflict(
            f"工单已交办给{department.name}；调整问题类型请用“调整问题类型”，更换协办部门请改派",
            code="already_assigned",
        )
    complexity = asked or order.complexity or Complexity.SIMPLE
    reassign = order.assigned_at is not None
    now = clock.now()
    changes = {
        "department_id": department.pk,
        "complexity": complexity,
        "accepted_at": None,
        "assigned_at": now,
    }
    changes["verified_at"] = order.verified_at or now
    if reassign:  # 改派: the new department's clocks start now, in a new cycle
        changes.update(new_cycle(order, start=now))
    else:
        changes["clock_started_at"] = now
    data = {"department": department.name, "complexity": complexity}
    if reassign:
        data.update(reassign=True, from_department=order.department.name if order.department else "")
    order = machine.move(
        order,
        "assign",
        actor=actor,
        to=Status.PENDING_ACCEPT,
        repeat=repeat,
        now=now,
        note=note,
        data=data,
        changes=changes,
    )
    if co_departments:
        order.co_departments.set(co_departments)
    notify(
        order,
        key=f"assign-{order.version}",
        title=f"新交办差评工单 {order.number}",
        body=f"请在{order_policy(order.region).contact_days}个工作日内联系群众",
        org_ids=[department.pk],
        roles=DEPARTMENT_ROLES,
    )
    return order


@transaction.atomic
def work_order_set_complexity(*, order: WorkOrder, actor: Actor, complexity: str, reason: str) -> WorkOrder:
    machine.authorize(actor, order, "set_complexity")
    if complexity not in Complexity.values:
        raise InvalidInput("问题类型应为 simple 或 complex", code="invalid_complexity")
    reason = checked_text(
        reason, NOTE, label="调整理由", required=("调整问题类型须说明理由", "note_required")
    )

    def repeat(o: WorkOrder) -> str | None:
        return (
            f"问题类型已是“{Complexity(complexity).label}”，无需重复" if o.complexity == complexity else None
        )

    machine.ensure(order, "set_complexity", repeat=repeat)
    return machine.move(
        order,
        "set_complexity",
        actor=actor,
        repeat=repeat,
        note=reason,
        data={"from": order.complexity, "to": complexity},
        changes={"complexity": complexity},
    )


@transaction.atomic
def work_order_merge(*, order: WorkOrder, into: WorkOrder, actor: Actor, note: str = "") -> WorkOrder:
    """并单: a duplicate is merged into the order that carries on."""
    machine.authorize(actor, order, "merge")
    note = checked_text(note, NOTE, label="并单说明")

    def repeat(o: WorkOrder) -> str | None:
        return f"已并入工单 {into.number}，无需重复" if o.merged_into_id == into.pk else None

    machine.ensure(order, "merge", repeat=repeat)
    if into.pk == order.pk or not into.is_open:
        raise Conflict("只能并入另一张未办结的工单", code="merge_target_invalid")
    machine.authorize(actor, into, "merge")
    now = clock.now()
    machine.move(into, "merge", actor=actor, now=now, note=f"并入工单 {order.number}")
    return machine.move(
        order,
        "merge",
        actor=actor,
        to=Status.MERGED,
        repeat=repeat,
        now=now,
        note=note or f"重复诉求，并入 {into.number}",
        changes={"merged_into_id": into.pk, "closed_at": now},
    )


@transaction.atomic
def work_order_decide_extension(
    *, order: WorkOrder, actor: Actor, approve: bool, note: str = ""
) -> WorkOrder:
    machine.authorize(actor, order, "decide_extension")
    note = checked_text(note, (Extension, "decision_note"), NOTE, label="审批意见")
    decided = Extension.Status.APPROVED if approve else Extension.Status.REJECTED

    def repeat(o: WorkOrder) -> str | None:
        extensions = o.extensions.filter(cycle=o.cycle)
        if extensions.filter(status=Extension.Status.PENDING).exists():
            return None
        last = extensions.exclude(decided_at=None).order_by("-decided_at").first()
        if last is not None and last.status == decided:
            return f"该延期申请已{last.get_status_display()}，无需重复"
        return None

    machine.ensure(order, "decide_extension", repeat=repeat)
    ext = order.extensions.get(status=Extension.Status.PENDING)
    now = clock.now()
    done = Extension.objects.filter(pk=ext.pk, status=Extension.Status.PENDING).update(
        status=decided, decided_at=now, decided_by_label=actor.label, decision_note=note
    )
    if not done:
        raise Conflict("延期申请已被处理", code="concurrent_update")
    return machine.move(
        order,
        "decide_extension",
        actor=actor,
        repeat=repeat,
        now=now,
        note=note or ("同意延期" if approve else "不同意延期"),
        data={"approved": approve, "days": ext.days},
        changes={"extension_days": order.extension_days + ext.days} if approve else {},
    )


# ---------------------------------------------------------------- the department


@transaction.atomic
def work_order_accept(*, order: WorkOrder, actor: Actor) -> WorkOrder:
    machine.authorize(actor, order, "accept")

    def repeat(o: WorkOrder) -> str | None:
        return "已签收，无需重复" if o.status == Status.ACCEPTED else None

    machine.ensure(order, "accept", repeat=repeat)
    return machine.move(
        order, "accept", actor=actor, to=Status.ACCEPTED, repeat=repeat, changes={"accepted_at": clock.now()}
    )


@transaction.atomic
def work_order_return(*, order: WorkOrder, actor: Actor, reason: str) -> WorkOrder:
    """退单: not this department's matter; back to the 12345 operator for 改派."""
    machine.authorize(actor, order, "return")
    reason = checked_text(reason, NOTE, label="退单理由", required=("退单须说明理由", "note_required"))
    machine.ensure(order, "return")
    order = machine.move(order, "return", actor=actor, to=Status.PENDING_VERIFY, note=reason)
    notify(
        order,
        key=f"return-{order.version}",
        title=f"工单 {order.number} 被退回，请改派",
        body=reason,
        org_ids=[order.department_id],
        roles=OPERATOR_ROLES,
    )
    return order


@transaction.atomic
def work_order_contact(
    *,
    order: WorkOrder,
    actor: Actor,
    method: str,
    outcome: str,
    reached: bool = True,
    contacted_at: datetime | None = None,
) -> WorkOrder:
    """Record a contact with the citizen, at the time it is said to have happened (`contacted_at`; now when
    not given). The first that reaches them stops the contact clock at the time it counts for."""
    machine.authorize(actor, order, "contact")
    if method not in ContactRecord.Method.values:
        raise InvalidInput("联系方式无效", code="invalid_method")
    outcome = checked_text(
        outcome, (ContactRecord, "outcome"), NOTE, required=("请填写联系结果", "outcome_required")
    )

    def repeat(o: WorkOrder) -> str | None:
        same = ContactRecord.objects.filter(
            order=o, contacted_at=contacted_at, method=method, outcome=outcome, reached=reached
        )
        return "该联系记录已登记，无需重复" if contacted_at is not None and same.exists() else None

    machine.ensure(order, "contact", repeat=repeat)
    previous = machine.previous_step_at(order)
    if order.status == Status.PENDING_ACCEPT:  # contacting the citizen is taking the order on
        order = work_order_accept(order=order, actor=actor)
    now = clock.now()
    counted = counted_time(
        contacted_at, now=now, previous=previous, policy=order_policy(order.region), label="联系时间"
    )
    first = reached and order.contacted_at is None
    order = machine.move(
        order,
        "contact",
        actor=actor,
        to=Status.HANDLING if reached else machine.STAY,
        repeat=repeat,
        now=now,
        stated_at=contacted_at,
        note=outcome,
        data={"method": method, "reached": reached, "counted_at": counted.isoformat()},
        changes={"contacted_at": counted} if first else {},
    )
    ContactRecord.objects.create(
        order=order,
        contacted_at=contacted_at or now,
        recorded_at=now,
        method=method,
        outcome=outcome,
        reached=reached,
        actor_label=actor.label,
    )
    return order


@transaction.atomic
def work_order_feedback(
    *, order: WorkOrder, actor: Actor, result: str, measures: str = "", attachments=None
) -> WorkOrder:
    """反馈: the result and rectification measures; the order waits for the citizen's 回访."""
    machine.authorize(actor, order, "feedback")
    result = checked_text(result, (WorkOrder, "result"), NOTE, required=("请填写处理结果", "result_required"))
    measures = checked_text(measures, (WorkOrder, "measures"))

    def repeat(o: WorkOrder) -> str | None:
        done = o.status == Status.PENDING_CALLBACK and (o.result, o.measures) == (result, measures)
        return "已反馈办理结果，无需重复" if done else None

    machine.ensure(order, "feedback", repeat=repeat)
    order = machine.move(
        order,
        "feedback",
        actor=actor,
        to=Status.PENDING_CALLBACK,
        repeat=repeat,
        note=result,
        attachments=attachments,
        data={"measures": measures},
        changes={
            "feedback_at": clock.now(),
            "result": result,
            "measures": measures,
            "callback_token_used": False,
        },
    )
    notify(
        order,
        key=f"callback-{order.version}",
        title=f"工单 {order.number} 已反馈，待回访",
        body=excerpt(result),
        org_ids=[order.department_id],
        roles=OPERATOR_ROLES,
    )
    return order


@transaction.atomic
def work_order_on_the_spot(*, order: WorkOrder, actor: Actor, result: str) -> WorkOrder:
    """当场处置: settled at the window at once; the citizen still confirms it."""
    machine.authorize(actor, order, "on_the_spot")
    result = checked_text(
        result,
        (WorkOrder, "result"),
        NOTE,
        label="处置情况",
        required=("请填写当场处置情况", "result_required"),
    )

    def repeat(o: WorkOrder) -> str | None:
        done = o.status == Status.PENDING_CALLBACK and o.on_the_spot and o.result == result
        return "已登记当场处置，无需重复" if done else None

    machine.ensure(order, "on_the_spot", repeat=repeat)
    now = clock.now()
    return machine.move(
        order,
        "on_the_spot",
        actor=actor,
        to=Status.PENDING_CALLBACK,
        repeat=repeat,
        now=now,
        note=result,
        changes={
            "on_the_spot": True,
            "result": result,
            "feedback_at": now,
            "contacted_at": order.contacted_at or now,
            "verified_at": order.verified_at or now,
            "assigned_at": order.assigned_at or now,
            "complexity": order.complexity or Complexity.SIMPLE,
            "callback_token_used": False,
        },
    )


@transaction.atomic
def work_order_request_extension(*, order: WorkOrder, actor: Actor, days: int, reason: str) -> Extension:
    machine.authorize(actor, order, "request_extension")
    if not 1 <= days <= 30:
        raise InvalidInput("延期天数应为1至30个工作日", code="invalid_days")
    reason = checked_text(reason, (Extension, "reason"), NOTE, required=("请说明延期理由", "note_required"))

    def repeat(o: WorkOrder) -> str | None:
        same = o.extensions.filter(status=Extension.Status.PENDING, days=days, reason=reason)
        return "已申请延期，待审批，无需重复" if same.exists() else None

    machine.ensure(order, "request_extension", repeat=repeat)
    now = clock.now()
    machine.move(
        order, "request_extension", actor=actor, repeat=repeat, now=now, note=reason, data={"days": days}
    )
    try:
        with transaction.atomic():
            return Extension.objects.create(
                order=order,
                cycle=order.cycle,
                days=days,
                reason=reason,
                requested_by_label=actor.label,
                requested_at=now,
            )
    except IntegrityError as exc:
        raise Conflict("已有待审批的延期申请", code="extension_pending") from exc


@transaction.atomic
def work_order_appeal(
    *, order: WorkOrder, actor: Actor, ground: str, statement: str, evidence=None
) -> Appeal:
    """申诉: within the policy time limit, the department says the 差评 is mistaken or malicious."""
    machine.authorize(actor, order, "appeal")
    if ground not in (InvalidReason.MISTAKEN, InvalidReason.MALICIOUS):
        raise InvalidInput("申诉理由应为误评（mistaken）或恶意差评（malicious）", code="invalid_ground")
    statement = checked_text(
        statement, (Appeal, "statement"), NOTE, required=("请填写申诉说明", "note_required")
    )

    def repeat(o: WorkOrder) -> str | None:
        same = o.appeals.filter(status=Appeal.Status.PENDING, ground=ground, statement=statement)
        return "已提交申诉，待复核，无需重复" if same.exists() else None

    machine.ensure(order, "appeal", repeat=repeat)
    now = clock.now()
    machine.move(
        order,
        "appeal",
        actor=actor,
        repeat=repeat,
        now=now,
        note=statement,
        attachments=evidence or [],
        data={"ground": ground},
    )
    try:
        with transaction.atomic():
            appeal = Appeal.objects.create(
                order=order,
                ground=ground,
                statement=statement,
                evidence=evidence or [],
                filed_by_label=actor.label,
                filed_at=now,
            )
    except IntegrityError as exc:
        raise Conflict("已有待复核的申诉", code="appeal_pending") from exc
    notify(
        order,
        key=f"appeal-{appeal.pk}",
        title=f"工单 {order.number} 收到申诉，待复核",
        body=excerpt(statement),
        org_ids=[order.department_id],
        roles=SUPERVISOR_ROLES,
    )
    return appeal


# ---------------------------------------------------------------- supervisors


@transaction.atomic
def work_order_review_appeal(*, order: WorkOrder, actor: Actor, uphold: bool, note: str) -> WorkOrder:
    """复核: upheld → the rating is flagged invalid (by the rating rules: never deleted, audited) and the
    order closes as invalid."""
    machine.authorize(actor, order, "review_appeal")
    note = checked_text(
        note, (Appeal, "review_note"), NOTE, label="复核意见", required=("请填写复核意见", "note_required")
    )
    decided = Appeal.Status.UPHELD if uphold else Appeal.Status.REJECTED

    def repeat(o: WorkOrder) -> str | None:
        if o.appeals.filter(status=Appeal.Status.PENDING).exists():
            return None
        last = o.appeals.exclude(reviewed_at=None).order_by("-reviewed_at").first()
        if last is not None and last.status == decided:
            return f"申诉已复核（{last.get_status_display()}），无需重复"
        return None

    machine.ensure(order, "review_appeal", repeat=repeat)
    appeal = order.appeals.get(status=Appeal.Status.PENDING)
    now = clock.now()
    done = Appeal.objects.filter(pk=appeal.pk, status=Appeal.Status.PENDING).update(
        status=decided, reviewed_by_label=actor.label, reviewed_at=now, review_note=note
    )
    if not done:
        raise Conflict("申诉已被复核", code="concurrent_update")
    if not uphold:
        return machine.move(
            order, "review_appeal", actor=actor, repeat=repeat, now=now, note=note, data={"upheld": False}
        )
    try:
        rating_flag(
            actor=actor,
            rating=order.rating,
            kind=RatingFlag.Kind.INVALID,
            reason=f"申诉成立（{appeal.get_ground_display()}）：{note}",
        )
    except RuleError as exc:  # found invalid before (a supervisor's own flag): the order closes all the same
        if exc.code != "already_invalid":
            raise
    return machine.move(
        order,
        "review_appeal",
        actor=actor,
        to=Status.INVALID,
        repeat=repeat,
        now=now,
        note=note,
        data={"upheld": True},
        changes={"invalid_reason": appeal.ground, "invalid_note": note, "closed_at": order.closed_at or now},
    )


@transaction.atomic
def work_order_supervise(
    *, order: WorkOrder, actor: Actor, note: str, deadline: datetime | None
) -> Supervision:
    """A supervisor's 督办 by hand, with a deadline."""
    machine.authorize(actor, order, "supervise")
    note = checked_text(
        note, (Supervision, "note"), NOTE, label="督办意见", required=("请填写督办意见", "note_required")
    )
    now = clock.now()
    if deadline is not None and deadline <= now:
        raise InvalidInput("督办期限应晚于当前时间", code="invalid_deadline")

    def repeat(o: WorkOrder) -> str | None:
        same = o.supervisions.filter(
            kind=Supervision.Kind.MANUAL, cycle=o.cycle, note=note, deadline=deadline, resolved_at=None
        )
        return "已发出同样的督办，无需重复" if same.exists() else None

    machine.ensure(order, "supervise", repeat=repeat)
    machine.move(
        order,
        "supervise",
        actor=actor,
        repeat=repeat,
        now=now,
        note=note,
        data={"deadline": deadline.isoformat() if deadline else None},
    )
    sup = Supervision.objects.create(
        order=order,
        kind=Supervision.Kind.MANUAL,
        level=max(order.escalation_level, 1),
        cycle=order.cycle,
        department_id=order.department_id,
        issued_by=actor.user,
        note=note,
        deadline=deadline,
        created_at=now,
    )
    notify(
        order,
        key=f"supervise-{sup.pk}",
        title=f"督办：工单 {order.number}",
        body=note,
        org_ids=[order.department_id or order_org(order)],
        roles=DEPARTMENT_ROLES,
    )
    return sup


# ---------------------------------------------------------------- an external 12345 platform's own steps


@transaction.atomic
def work_order_acknowledge(
    *, order: WorkOrder, actor: Actor, platform_number: str, note: str = ""
) -> WorkOrder:
    """受理: the external 12345 platform has taken the order in under its own number."""
    machine.authorize(actor, order, "acknowledge")
    platform_number = checked_text(
        platform_number,
        (WorkOrder, "platform_number"),
        label="12345工单编号",
        required=("缺少12345工单编号", "platform_number_required"),
    )
    note = checked_text(note, NOTE, label="受理说明")

    def repeat(o: WorkOrder) -> str | None:
        last = o.transitions.filter(action__in=("acknowledge", "reopen")).order_by("-at", "-id").first()
        done = (
            last is not None
            and last.action == "acknowledge"
            and last.data.get("platform_number") == platform_number
        )
        return "12345平台已受理，无需重复" if done else None

    machine.ensure(order, "acknowledge", repeat=repeat)
    return machine.move(
        order,
        "acknowledge",
        actor=actor,
        repeat=repeat,
        note=note or f"12345平台已受理，工单编号 {platform_number}",
        data={"platform_number": platform_number},
        changes={"platform_number": platform_number},
    )


@transaction.atomic
def work_order_callback_failed(*, order: WorkOrder, actor: Actor, note: str) -> WorkOrder:
    """回访未成功: the platform's call-back team could not reach the citizen; the order waits for another try."""
    machine.authorize(actor, order, "callback_failed")
    note = checked_text(note, NOTE, label="回访情况", required=("请说明回访未成功的情况", "note_required"))
    machine.ensure(order, "callback_failed")
    return machine.move(order, "callback_failed", actor=actor, note=note)


@transaction.atomic
def work_order_close(*, order: WorkOrder, actor: Actor, note: str) -> WorkOrder:
    """办结 by the platform without a successful 回访 (the citizen could not be reached in its time)."""
    machine.authorize(actor, order, "close")
    note = checked_text(note, NOTE, label="办结说明", required=("请填写办结说明", "note_required"))

    def repeat(o: WorkOrder) -> str | None:
        return "工单已办结，无需重复" if o.status == Status.CLOSED else None

    machine.ensure(order, "close", repeat=repeat)
    now = clock.now()
    order = machine.move(
        order,
        "close",
        actor=actor,
        to=Status.CLOSED,
        repeat=repeat,
        now=now,
        note=note,
        changes={"closed_at": now, **closing_minutes(order)},
    )
    Supervision.objects.filter(order=order, resolved_at__isnull=True).update(resolved_at=now)
    return order
