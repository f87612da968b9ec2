"""The 差评 closed loop: guarded transitions of work orders under the 1210 rule, supervision and appeals.

Every write goes through `_move()`: a conditional UPDATE on (status, version) — 0 rows means someone
else got there first and the caller gets a 409 — and a Transition row in the same transaction.
"""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core import signing
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from haocha.accounts.access import Actor
from haocha.accounts.models import Role, RoleAssignment
from haocha.core import clock
from haocha.core.audit import audit_record
from haocha.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from haocha.core.models import AuditLog
from haocha.core.outbox import outbox_enqueue
from haocha.core.rawrows import insert_new
from haocha.evaluations.levels import BAD_LEVELS
from haocha.evaluations.models import Rating, RatingFlag
from haocha.organisations.models import Organisation, Region
from haocha.workcalendar.services import workdays
from haocha.workorders.models import (
    DEPARTMENT_STATUSES,
    OPEN_STATUSES,
    Appeal,
    Complexity,
    ContactRecord,
    Extension,
    InvalidReason,
    RepeatFlag,
    Status,
    Supervision,
    Transition,
    WorkOrder,
    WorkOrderPolicy,
)

OPERATOR_ROLES = (Role.OPERATOR_12345,)
DEPARTMENT_ROLES = (Role.HANDLER, Role.DEPARTMENT_ADMIN)
SUPERVISOR_ROLES = (Role.SUPERVISOR,)
CALLBACK_CHOICES = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}
CITIZEN_SALT = "haocha.workorder.citizen"


# ---------------------------------------------------------------- policy


@dataclass(frozen=True)
class OrderPolicy:
    contact_days: int = 1
    simple_days: int = 2
    complex_days: int = 10
    bad_on_any_indicator: bool = False
    second_escalation_days: int = 2
    appeal_days: int = 5
    repeat_window_days: int = 30
    repeat_threshold: int = 3
    callback_link_days: int = 15


_policy_cache: dict[int, tuple[float, OrderPolicy]] = {}


def order_policy(region: Region) -> OrderPolicy:
    now = time.monotonic()
    hit = _policy_cache.get(region.pk)
    if hit and now - hit[0] < 30:
        return hit[1]
    codes = [c for c in region.path.strip("/").split("/") if c]
    found = {
        p.region.code: p
        for p in WorkOrderPolicy.objects.filter(region__code__in=codes).select_related("region")
    }
    policy = OrderPolicy()
    for code in reversed(codes):
        p = found.get(code)
        if p is not None:
            policy = OrderPolicy(
                contact_days=p.contact_days,
                simple_days=p.simple_days,
                complex_days=p.complex_days,
                bad_on_any_indicator=p.bad_on_any_indicator,
                second_escalation_days=p.second_escalation_days,
                appeal_days=p.appeal_days,
                repeat_window_days=p.repeat_window_days,
                repeat_threshold=p.repeat_threshold,
                callback_link_days=p.callback_link_days,
            )
            break
    _policy_cache[region.pk] = (now, policy)
    return policy


def clear_order_policy_cache() -> None:
    _policy_cache.clear()
    _users_cache.clear()


# ---------------------------------------------------------------- clocks


def _finish_days(policy: OrderPolicy, complexity: str) -> int:
    return policy.complex_days if complexity == Complexity.COMPLEX else policy.simple_days


def _clocks(order: WorkOrder, policy: OrderPolicy) -> dict:
    """Deadlines from the start of the current cycle; due = the earliest clock still running."""
    start = order.clock_started_at or order.assigned_at
    if start is None:
        return {"contact_due_at": None, "finish_due_at": None, "due_at": None}
    contact_due = workdays.due(start, policy.contact_days)
    finish_due = workdays.due(start, _finish_days(policy, order.complexity) + order.extension_days)
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
        "next_escalation_at": _next_escalation(order.escalation_level, due_at, policy),
    }


def _next_escalation(level: int, due_at: datetime | None, policy: OrderPolicy) -> datetime | None:
    """Level 1 falls due with the running clock, level 2 a few working days after the day it fell due."""
    if due_at is None or level >= 2:
        return None
    if level == 0:
        return due_at
    return workdays.due(due_at - timedelta(microseconds=1), policy.second_escalation_days)


def _minutes(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, int((end - start).total_seconds() // 60))


def new_cycle(order: WorkOrder, now: datetime) -> dict:
    """Field changes that restart the clocks (改派, or reopened after the citizen's 回访 or a 追评 差评)."""
    return {"clock_started_at": now, "contacted_at": None, "escalation_level": 0, "cycle": order.cycle + 1}


# ---------------------------------------------------------------- the guarded move


def _move(
    order: WorkOrder,
    *,
    action: str,
    allowed: tuple,
    to: str | None,
    actor: Actor,
    now=None,
    note="",
    attachments=None,
    data=None,
    changes=None,
) -> WorkOrder:
    """Apply one transition if the order is still in an allowed status and unchanged since it was read."""
    now = now or clock.now()
    if order.status not in allowed:
        raise Conflict(
            f"工单当前为“{order.get_status_display()}”，不能{ACTION_NAMES.get(action, action)}",
            code="illegal_transition",
        )
    to = to or order.status
    changes = dict(changes or {})
    for name, value in changes.items():
        setattr(order, name, value)
    from_status = order.status
    order.status = to
    changes.update(_clocks(order, order_policy(order.region)))
    with transaction.atomic():
        updated = WorkOrder.objects.filter(pk=order.pk, status=from_status, version=order.version).update(
            status=to, version=F("version") + 1, updated_at=now, **changes
        )
        if not updated:
            raise Conflict("工单已被他人处理，请刷新后重试", code="concurrent_update")
        Transition.objects.create(
            order=order,
            action=action,
            from_status=from_status,
            to_status=to,
            actor=actor.user,
            actor_label=actor.label,
            at=now,
            note=note,
            attachments=attachments or [],
            data=data or {},
        )
    order.refresh_from_db()
    return order


ACTION_NAMES = {
    "create": "生成工单",
    "verify": "核实",
    "invalidate": "核实为无效",
    "assign": "交办",
    "reassign": "改派",
    "return": "退单",
    "accept": "签收",
    "contact": "联系群众",
    "feedback": "反馈办理结果",
    "on_the_spot": "当场处置",
    "callback": "回访",
    "reopen": "重新办理",
    "follow_up": "追评补充",
    "extension_request": "申请延期",
    "extension_decide": "审批延期",
    "merge": "并单",
    "supervise": "督办",
    "appeal": "申诉",
    "appeal_review": "申诉复核",
    "complexity": "调整问题类型",
    "recompute": "重算期限",
}


# ---------------------------------------------------------------- who may act


def _order_org(order: WorkOrder) -> int | None:
    return order.department_id or order.rating.department_id or order.rating.hall_id


def _require(actor: Actor, order: WorkOrder, roles: tuple, message: str) -> None:
    """The actor holds one of `roles` over this order's department (one role's scope never lends to another)."""
    if actor.client is not None or not actor.can_act(roles, _order_org(order)):
        raise Forbidden(message, code="role_not_allowed")


def check_department(actor: Actor, order: WorkOrder) -> None:
    """Public form of the department check, for callers that must refuse before doing work (uploads)."""
    _require_department(actor, order)


def _require_department(actor: Actor, order: WorkOrder) -> None:
    if actor.client is not None or not actor.has_role(*DEPARTMENT_ROLES):
        raise Forbidden("只有承办部门的处理人员可以办理", code="role_not_allowed")
    if not actor.can_act(DEPARTMENT_ROLES, order.department_id):
        raise Forbidden("只有承办部门可以办理该工单", code="not_your_department")


def order_visible_to(actor: Actor, order: WorkOrder) -> bool:
    if actor.all_access or actor.can_see_org(order.department_id):
        return True
    if any(actor.can_see_org(pk) for pk in order.co_departments.values_list("pk", flat=True)):
        return True
    if actor.can_see_org(order.rating.hall_id):  # hall staff see the orders of ratings made at their hall
        return True
    return bool(
        actor.roles.intersection(OPERATOR_ROLES + SUPERVISOR_ROLES)
        and actor.can_see_org(order.rating.department_id)
    )


def get_work_order_for_actor(actor: Actor, number: str) -> WorkOrder:
    order = (
        WorkOrder.objects.select_related(
            "rating", "case", "department", "region", "rating__item", "rating__window"
        )
        .filter(number=number)
        .first()
    )
    if order is None or not order_visible_to(actor, order):
        raise NotFound(f"工单 {number} 不存在或无权访问", code="work_order_not_found")
    return order


def work_orders_visible_to(actor: Actor):
    qs = WorkOrder.objects.all()
    if actor.all_access:
        return qs
    q = (
        Q(department_id__in=actor.org_ids)
        | Q(co_departments__in=actor.org_ids)
        | Q(rating__hall_id__in=actor.org_ids)
    )
    if actor.roles.intersection(OPERATOR_ROLES + SUPERVISOR_ROLES):
        q |= Q(rating__department_id__in=actor.org_ids) | Q(rating__hall_id__in=actor.org_ids)
    return qs.filter(q).distinct()


# ---------------------------------------------------------------- notifications


_users_cache: dict[tuple, tuple[float, list[int]]] = {}


def _users_of(org_ids, roles) -> list[int]:
    """Users holding one of `roles` over these organisations (cached briefly: assignments change rarely)."""
    key = (tuple(sorted(org_ids)), tuple(sorted(roles)))
    hit = _users_cache.get(key)
    if hit and time.monotonic() - hit[0] < 30:
        return hit[1]
    users = _users_of_uncached(org_ids, roles)
    _users_cache[key] = (time.monotonic(), users)
    return users


def _users_of_uncached(org_ids, roles) -> list[int]:
    orgs = Organisation.objects.filter(pk__in=org_ids).only("path", "region__path").select_related("region")
    q = Q(pk__in=[])
    for org in orgs:
        # a role over the organisation itself, an ancestor organisation, or a region containing it
        ancestors = [int(p) for p in org.path.strip("/").split("/") if p]
        q |= Q(organisation_id__in=ancestors)
        codes = [c for c in org.region.path.strip("/").split("/") if c]
        q |= Q(region__code__in=codes)
    return sorted(set(RoleAssignment.objects.filter(q, role__in=roles).values_list("user_id", flat=True)))


def _notify(order: WorkOrder, *, key: str, title: str, body: str, org_ids, roles) -> None:
    users = _users_of([o for o in org_ids if o], roles)
    if users:
        outbox_enqueue(
            topic="staff.notify",
            key=f"wo:{order.number}:{key}",
            payload={
                "user_ids": users,
                "key": f"wo:{order.number}:{key}",
                "title": title,
                "body": body,
                "link": f"/workorders/{order.number}/",
            },
        )


# ---------------------------------------------------------------- creation from a rating


def _order_number(rating: Rating, now: datetime) -> str:
    return f"HCP{timezone.localtime(now):%Y%m%d}{rating.pk:09d}"


def wants_work_order(rating: Rating, policy: OrderPolicy) -> bool:
    if rating.level in BAD_LEVELS:
        return True
    return policy.bad_on_any_indicator and any(
        v in BAD_LEVELS for v in (rating.indicator_levels or {}).values()
    )


def work_order_for_rating(*, rating: Rating, actor: Actor) -> WorkOrder | None:
    """Called by the rating intake inside its transaction: a 差评 becomes (or reopens) a work order."""
    policy = order_policy(rating.region)
    if not wants_work_order(rating, policy):
        return None
    now = rating.received_at or clock.now()
    system = Actor(label="系统")
    if rating.kind == Rating.Kind.FOLLOW_UP and rating.case_id:
        existing = (
            WorkOrder.objects.filter(case_id=rating.case_id)
            .exclude(status=Status.MERGED)
            .order_by("-pk")
            .first()
        )
        if existing is not None:
            note = f"追评差评：{rating.comment or '（无文字）'}"
            if existing.is_open:
                return _move(
                    existing,
                    action="follow_up",
                    allowed=OPEN_STATUSES,
                    to=None,
                    actor=system,
                    now=now,
                    note=note,
                    data={"rating": str(rating.public_id)},
                )
            back_to = (
                Status.HANDLING if existing.department_id and existing.assigned_at else Status.PENDING_VERIFY
            )
            order = _move(
                existing,
                action="reopen",
                allowed=(Status.CLOSED, Status.INVALID),
                to=back_to,
                actor=system,
                now=now,
                note=note,
                data={"rating": str(rating.public_id)},
                changes={
                    "reopen_count": existing.reopen_count + 1,
                    "feedback_at": None,
                    "closed_at": None,
                    "callback_token_used": False,
                    **(new_cycle(existing, now) if back_to == Status.HANDLING else {}),
                },
            )
            _notify(
                order,
                key=f"reopen{order.reopen_count}",
                title=f"工单 {order.number} 因追评差评重新办理",
                body=note,
                org_ids=[order.department_id],
                roles=DEPARTMENT_ROLES,
            )
            return order
    department_id = rating.department_id or rating.hall_id
    # Written with insert_new (core/rawrows.py): this runs inside the intake's write transaction, and
    # the ORM's statement compiling was most of the time a 差评 held the database's write lock.
    order = WorkOrder(
        number=_order_number(rating, now),
        rating=rating,
        case_id=rating.case_id,
        region_id=rating.case.region_id
        if rating.case_id
        else rating.region_id,  # deadlines of the case's region
        department_id=department_id,
        status=Status.PENDING_VERIFY,
        received_at=now,
        summary=(rating.comment or "")[:500],
    )
    insert_new(order)
    transition = Transition(
        order=order,
        action="create",
        from_status="",
        to_status=Status.PENDING_VERIFY,
        actor_label="系统",
        at=now,
        note="差评自动生成工单，推送12345",
        data={"rating": str(rating.public_id), "level": rating.level},
    )
    insert_new(transition)
    _notify(
        order,
        key="new",
        title=f"新差评工单 {order.number} 待核实",
        body=order.summary,
        org_ids=[department_id],
        roles=OPERATOR_ROLES,
    )
    _check_repeats(order, rating, policy, now)
    return order


def _join_repeat_flags(order: WorkOrder, subjects: list, since: datetime) -> set:
    """Add the order to the flags its subjects already have in this period; return those subjects.

    Once a subject is flagged, every later 差评 of the period joins the flag and adds one to its count, so
    the count is the number of 差评 the flag has gathered; an order merged or a rating found invalid later
    is not subtracted (the spot check looks at each linked order). Constant work per 差评 however many
    orders a flag holds (a busy item can have thousands), in four hand-written statements: this runs inside
    the intake's write transaction.
    """
    qn = connection.ops.quote_name
    through = RepeatFlag.orders.through
    flags, links, orders = (qn(m._meta.db_table) for m in (RepeatFlag, through, WorkOrder))
    f_id, f_subject, f_subject_id, f_at, f_count = (
        qn(RepeatFlag._meta.get_field(n).column)
        for n in ("id", "subject", "subject_id", "flagged_at", "count")
    )
    l_flag, l_order = (qn(through._meta.get_field(n).column) for n in ("repeatflag", "workorder"))
    o_id, o_flag = (qn(WorkOrder._meta.get_field(n).column) for n in ("id", "repeat_flag"))
    match = " OR ".join([f"({f_subject} = %s AND {f_subject_id} = %s)"] * len(subjects))
    params = [connection.ops.adapt_datetimefield_value(since)]
    for subject, subject_id, _field in subjects:
        params += [str(subject), subject_id]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {f_id}, {f_subject}, {f_subject_id} FROM {flags} "
            f"WHERE {f_at} >= %s AND ({match}) ORDER BY {f_at} DESC",
            params,
        )
        found: dict = {}
        for pk, subject, subject_id in cursor.fetchall():
            found.setdefault((subject, subject_id), pk)  # the latest flag of each subject
        if not found:
            return set()
        ids = list(found.values())
        marks = ", ".join(["%s"] * len(ids))
        cursor.execute(f"UPDATE {flags} SET {f_count} = {f_count} + 1 WHERE {f_id} IN ({marks})", ids)
        values = ", ".join(["(%s, %s)"] * len(ids))
        cursor.execute(
            f"INSERT INTO {links} ({l_flag}, {l_order}) VALUES {values} ON CONFLICT DO NOTHING",
            [v for pk in ids for v in (pk, order.pk)],
        )
        cursor.execute(f"UPDATE {orders} SET {o_flag} = %s WHERE {o_id} = %s", [True, order.pk])
    return set(found)


def _check_repeats(order: WorkOrder, rating: Rating, policy: OrderPolicy, now: datetime) -> None:
    """重复差评: flag a window, staff member or item whose 差评 reach the threshold within the period."""
    since = now - timedelta(days=policy.repeat_window_days)
    subjects = [
        (subject, subject_id, field)
        for subject, subject_id, field in (
            (RepeatFlag.Subject.WINDOW, rating.window_id, "window_id"),
            (RepeatFlag.Subject.STAFF, rating.staff_id, "staff_id"),
            (RepeatFlag.Subject.ITEM, rating.item_id, "item_id"),
        )
        if subject_id is not None
    ]
    if not subjects:
        return
    flagged = _join_repeat_flags(order, subjects, since)
    for subject, subject_id, field in subjects:
        if (subject, subject_id) in flagged:
            continue
        orders = list(
            WorkOrder.objects.filter(
                **{f"rating__{field}": subject_id}, received_at__gte=since, rating__is_valid=True
            )
            .exclude(status=Status.MERGED)
            .values_list("pk", flat=True)
        )
        if len(orders) < policy.repeat_threshold:
            continue
        label = str(getattr(rating, subject))
        flag = RepeatFlag.objects.create(
            subject=subject,
            subject_id=subject_id,
            subject_label=label[:200],
            count=len(orders),
            window_start=since,
            flagged_at=now,
        )
        _notify(
            order,
            key=f"repeat-{subject}-{subject_id}",
            title=f"重复差评：{flag}",
            body="请组织抽查",
            org_ids=[order.department_id],
            roles=SUPERVISOR_ROLES,
        )
        flag.orders.add(*orders)
        WorkOrder.objects.filter(pk__in=orders).update(repeat_flag=True)


# ---------------------------------------------------------------- 12345 operator


@transaction.atomic
def work_order_verify(
    *, order: WorkOrder, actor: Actor, valid: bool, complexity: str = "", reason: str = "", note: str = ""
) -> WorkOrder:
    """核实: valid (with the problem's complexity) or invalid (mistaken / malicious / not a government matter)."""
    _require(actor, order, OPERATOR_ROLES + SUPERVISOR_ROLES, "只有12345话务员或监管人员可以核实工单")
    if valid:
        if complexity and complexity not in Complexity.values:
            raise InvalidInput("问题类型应为 simple 或 complex", code="invalid_complexity")
        return _move(
            order,
            action="verify",
            allowed=(Status.PENDING_VERIFY,),
            to=Status.PENDING_VERIFY,
            actor=actor,
            note=note or "核实属实",
            changes={"verified_at": clock.now(), "complexity": complexity or order.complexity},
        )
    if reason not in InvalidReason.values:
        raise InvalidInput(
            "核实为无效须选择原因：mistaken、malicious 或 not_government", code="invalid_reason_required"
        )
    if not note.strip():
        raise InvalidInput("核实为无效须说明理由", code="note_required")
    now = clock.now()
    return _move(
        order,
        action="invalidate",
        allowed=(Status.PENDING_VERIFY,),
        to=Status.INVALID,
        actor=actor,
        now=now,
        note=note,
        changes={"verified_at": now, "invalid_reason": reason, "invalid_note": note[:500], "closed_at": now},
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
    """交办 (or 改派 when already assigned): to the responsible department, the case's by default."""
    _require(actor, order, OPERATOR_ROLES + SUPERVISOR_ROLES, "只有12345话务员或监管人员可以交办")
    department = department or order.department
    if department is None:
        raise InvalidInput("请选择承办部门", code="department_required")
    if not actor.can_act(OPERATOR_ROLES + SUPERVISOR_ROLES, department.pk):
        raise Forbidden("不能交办到辖区以外的部门", code="department_out_of_scope")
    for co in co_departments:
        if not actor.can_act(OPERATOR_ROLES + SUPERVISOR_ROLES, co.pk):
            raise Forbidden(f"不能请辖区以外的{co.name}协办", code="department_out_of_scope")
    complexity = complexity or order.complexity or Complexity.SIMPLE
    if complexity not in Complexity.values:
        raise InvalidInput("问题类型应为 simple 或 complex", code="invalid_complexity")
    reassign = order.assigned_at is not None
    now = clock.now()
    changes = {
        "department_id": department.pk,
        "complexity": complexity,
        "accepted_at": None,
        "verified_at": order.verified_at or now,
    }
    if reassign:  # 改派: the new department's clocks start now, in a new cycle
        changes.update(new_cycle(order, now))
    else:
        changes.update({"assigned_at": now, "clock_started_at": now})
    order = _move(
        order,
        action="reassign" if reassign else "assign",
        allowed=(Status.PENDING_VERIFY, Status.PENDING_ACCEPT, Status.ACCEPTED),
        to=Status.PENDING_ACCEPT,
        actor=actor,
        now=now,
        note=note,
        data={"department": department.name, "complexity": complexity},
        changes=changes,
    )
    if co_departments:
        order.co_departments.set(co_departments)
    _notify(
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
    _require(actor, order, OPERATOR_ROLES + SUPERVISOR_ROLES, "只有12345话务员或监管人员可以调整问题类型")
    if complexity not in Complexity.values:
        raise InvalidInput("问题类型应为 simple 或 complex", code="invalid_complexity")
    if not reason.strip():
        raise InvalidInput("调整问题类型须说明理由", code="note_required")
    return _move(
        order,
        action="complexity",
        allowed=OPEN_STATUSES,
        to=None,
        actor=actor,
        note=reason,
        data={"from": order.complexity, "to": complexity},
        changes={"complexity": complexity},
    )


@transaction.atomic
def work_order_merge(*, order: WorkOrder, into: WorkOrder, actor: Actor, note: str = "") -> WorkOrder:
    """并单: a duplicate is merged into the order that carries on."""
    _require(actor, order, OPERATOR_ROLES + SUPERVISOR_ROLES, "只有12345话务员或监管人员可以并单")
    if into.pk == order.pk or not into.is_open:
        raise Conflict("只能并入另一张未办结的工单", code="merge_target_invalid")
    now = clock.now()
    _move(
        into,
        action="merge",
        allowed=OPEN_STATUSES,
        to=None,
        actor=actor,
        now=now,
        note=f"并入工单 {order.number}",
    )
    return _move(
        order,
        action="merge",
        allowed=OPEN_STATUSES,
        to=Status.MERGED,
        actor=actor,
        now=now,
        note=note or f"重复诉求，并入 {into.number}",
        changes={"merged_into_id": into.pk, "closed_at": now},
    )


@transaction.atomic
def work_order_decide_extension(
    *, order: WorkOrder, actor: Actor, approve: bool, note: str = ""
) -> WorkOrder:
    _require(actor, order, OPERATOR_ROLES + SUPERVISOR_ROLES, "只有12345话务员或监管人员可以审批延期")
    ext = order.extensions.filter(status=Extension.Status.PENDING).first()
    if ext is None:
        raise Conflict("没有待审批的延期申请", code="no_pending_extension")
    now = clock.now()
    with transaction.atomic():
        done = Extension.objects.filter(pk=ext.pk, status=Extension.Status.PENDING).update(
            status=Extension.Status.APPROVED if approve else Extension.Status.REJECTED,
            decided_at=now,
            decided_by_label=actor.label,
            decision_note=note[:500],
        )
        if not done:
            raise Conflict("延期申请已被处理", code="concurrent_update")
        changes = {"extension_days": order.extension_days + ext.days} if approve else {}
        return _move(
            order,
            action="extension_decide",
            allowed=OPEN_STATUSES,
            to=None,
            actor=actor,
            now=now,
            note=note or ("同意延期" if approve else "不同意延期"),
            data={"approved": approve, "days": ext.days},
            changes=changes,
        )


# ---------------------------------------------------------------- the department


@transaction.atomic
def work_order_accept(*, order: WorkOrder, actor: Actor) -> WorkOrder:
    _require_department(actor, order)
    return _move(
        order,
        action="accept",
        allowed=(Status.PENDING_ACCEPT,),
        to=Status.ACCEPTED,
        actor=actor,
        changes={"accepted_at": clock.now()},
    )


@transaction.atomic
def work_order_return(*, order: WorkOrder, actor: Actor, reason: str) -> WorkOrder:
    """退单: not this department's matter; back to the 12345 operator for 改派."""
    _require_department(actor, order)
    if not reason.strip():
        raise InvalidInput("退单须说明理由", code="note_required")
    order = _move(
        order,
        action="return",
        allowed=(Status.PENDING_ACCEPT, Status.ACCEPTED),
        to=Status.PENDING_VERIFY,
        actor=actor,
        note=reason,
    )
    _notify(
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
    *, order: WorkOrder, actor: Actor, contacted_at: datetime, method: str, outcome: str, reached: bool = True
) -> WorkOrder:
    """Record a contact with the citizen; the first one that reaches them stops the contact clock."""
    _require_department(actor, order)
    if method not in ContactRecord.Method.values:
        raise InvalidInput("联系方式无效", code="invalid_method")
    if not outcome.strip():
        raise InvalidInput("请填写联系结果", code="outcome_required")
    now = clock.now()
    if contacted_at > now + timedelta(minutes=5) or (order.assigned_at and contacted_at < order.assigned_at):
        raise InvalidInput("联系时间应在交办之后、当前时间之前", code="invalid_contact_time")
    if order.status == Status.PENDING_ACCEPT:
        order = work_order_accept(order=order, actor=actor)
    first = reached and order.contacted_at is None
    to = Status.HANDLING if reached else order.status
    order = _move(
        order,
        action="contact",
        allowed=(Status.ACCEPTED, Status.HANDLING),
        to=to,
        actor=actor,
        now=now,
        note=outcome,
        data={"method": method, "reached": reached, "at": contacted_at.isoformat()},
        changes={"contacted_at": contacted_at} if first else {},
    )
    ContactRecord.objects.create(
        order=order,
        contacted_at=contacted_at,
        method=method,
        outcome=outcome[:500],
        reached=reached,
        actor_label=actor.label,
    )
    return order


@transaction.atomic
def work_order_feedback(
    *, order: WorkOrder, actor: Actor, result: str, measures: str = "", attachments=None
) -> WorkOrder:
    """反馈: the result and rectification measures; the order waits for the citizen's 回访."""
    _require_department(actor, order)
    if not result.strip():
        raise InvalidInput("请填写处理结果", code="result_required")
    if order.status == Status.HANDLING and order.contacted_at is None:
        raise Conflict("请先联系群众并记录联系情况", code="contact_required")
    order = _move(
        order,
        action="feedback",
        allowed=(Status.HANDLING,),
        to=Status.PENDING_CALLBACK,
        actor=actor,
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
    _notify(
        order,
        key=f"callback-{order.version}",
        title=f"工单 {order.number} 已反馈，待回访",
        body=result[:200],
        org_ids=[order.department_id],
        roles=OPERATOR_ROLES,
    )
    return order


@transaction.atomic
def work_order_on_the_spot(*, order: WorkOrder, actor: Actor, result: str) -> WorkOrder:
    """当场处置: settled at the window at once; the citizen still confirms it."""
    if actor.client is not None or not (
        actor.can_act(DEPARTMENT_ROLES, order.department_id)
        or actor.can_act((Role.WINDOW_CLERK,), order.rating.hall_id)
    ):
        raise Forbidden("只有承办部门或窗口人员可以登记当场处置", code="role_not_allowed")
    if not (actor.can_see_org(order.department_id) or actor.can_see_org(order.rating.hall_id)):
        raise Forbidden("只能处置本部门或本大厅的工单", code="not_your_department")
    if not result.strip():
        raise InvalidInput("请填写当场处置情况", code="result_required")
    now = clock.now()
    return _move(
        order,
        action="on_the_spot",
        allowed=(Status.PENDING_VERIFY, Status.PENDING_ACCEPT, Status.ACCEPTED),
        to=Status.PENDING_CALLBACK,
        actor=actor,
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
    _require_department(actor, order)
    if not 1 <= days <= 30:
        raise InvalidInput("延期天数应为1至30个工作日", code="invalid_days")
    if not reason.strip():
        raise InvalidInput("请说明延期理由", code="note_required")
    if order.status not in (Status.ACCEPTED, Status.HANDLING):
        raise Conflict("签收后、反馈前才能申请延期", code="illegal_transition")
    try:
        with transaction.atomic():
            ext = Extension.objects.create(
                order=order,
                days=days,
                reason=reason[:500],
                requested_by_label=actor.label,
                requested_at=clock.now(),
            )
            _move(
                order,
                action="extension_request",
                allowed=(Status.ACCEPTED, Status.HANDLING),
                to=None,
                actor=actor,
                note=reason,
                data={"days": days},
            )
    except IntegrityError as exc:
        raise Conflict("已有待审批的延期申请", code="extension_pending") from exc
    return ext


@transaction.atomic
def work_order_appeal(
    *, order: WorkOrder, actor: Actor, ground: str, statement: str, evidence=None
) -> Appeal:
    """申诉: within the policy time limit, the department says the 差评 is mistaken or malicious."""
    _require_department(actor, order)
    if ground not in (InvalidReason.MISTAKEN, InvalidReason.MALICIOUS):
        raise InvalidInput("申诉理由应为误评（mistaken）或恶意差评（malicious）", code="invalid_ground")
    if not statement.strip():
        raise InvalidInput("请填写申诉说明", code="note_required")
    policy = order_policy(order.region)
    start = order.assigned_at or order.received_at
    if clock.now() >= workdays.due(start, policy.appeal_days):
        raise Conflict(f"已超过交办后{policy.appeal_days}个工作日的申诉期限", code="appeal_period_over")
    try:
        with transaction.atomic():
            appeal = Appeal.objects.create(
                order=order,
                ground=ground,
                statement=statement,
                evidence=evidence or [],
                filed_by_label=actor.label,
                filed_at=clock.now(),
            )
            _move(
                order,
                action="appeal",
                allowed=OPEN_STATUSES,
                to=None,
                actor=actor,
                note=statement,
                attachments=evidence or [],
                data={"ground": ground},
            )
    except IntegrityError as exc:
        raise Conflict("已有待复核的申诉", code="appeal_pending") from exc
    _notify(
        order,
        key=f"appeal-{appeal.pk}",
        title=f"工单 {order.number} 收到申诉，待复核",
        body=statement[:200],
        org_ids=[order.department_id],
        roles=SUPERVISOR_ROLES,
    )
    return appeal


@transaction.atomic
def work_order_review_appeal(*, order: WorkOrder, actor: Actor, uphold: bool, note: str) -> WorkOrder:
    """复核: upheld → the rating is marked invalid (never deleted) and the order closes as invalid."""
    _require(actor, order, SUPERVISOR_ROLES, "只有监管人员可以复核申诉")
    if not note.strip():
        raise InvalidInput("请填写复核意见", code="note_required")
    appeal = order.appeals.filter(status=Appeal.Status.PENDING).first()
    if appeal is None:
        raise Conflict("没有待复核的申诉", code="no_pending_appeal")
    now = clock.now()
    with transaction.atomic():
        done = Appeal.objects.filter(pk=appeal.pk, status=Appeal.Status.PENDING).update(
            status=Appeal.Status.UPHELD if uphold else Appeal.Status.REJECTED,
            reviewed_by_label=actor.label,
            reviewed_at=now,
            review_note=note[:500],
        )
        if not done:
            raise Conflict("申诉已被复核", code="concurrent_update")
        if not uphold:
            return _move(
                order,
                action="appeal_review",
                allowed=(*OPEN_STATUSES, Status.CLOSED),
                to=None,
                actor=actor,
                now=now,
                note=note,
                data={"upheld": False},
            )
        reason = f"申诉成立（{appeal.get_ground_display()}）：{note}"
        Rating.objects.filter(pk=order.rating_id).update(is_valid=False, invalid_reason=reason[:255])
        RatingFlag.objects.create(
            rating_id=order.rating_id,
            kind=RatingFlag.Kind.INVALID,
            reason=reason[:500],
            actor=actor.user,
            actor_label=actor.label,
        )
        audit_record(
            action=AuditLog.Action.RATING_FLAG,
            actor=actor.user,
            actor_label=actor.label,
            object_type="evaluations.rating",
            object_id=str(order.rating_id),
            summary=reason[:500],
        )
        allowed = (*OPEN_STATUSES, Status.CLOSED)
        return _move(
            order,
            action="appeal_review",
            allowed=allowed,
            to=Status.INVALID,
            actor=actor,
            now=now,
            note=note,
            data={"upheld": True},
            changes={
                "invalid_reason": appeal.ground,
                "invalid_note": note[:500],
                "closed_at": order.closed_at or now,
            },
        )


# ---------------------------------------------------------------- the citizen's 回访


def citizen_link_token(order: WorkOrder) -> str:
    return signing.dumps({"o": str(order.citizen_token)}, salt=CITIZEN_SALT, compress=True)


def order_from_citizen_token(token: str) -> WorkOrder:
    """The order a signed citizen link points at, while the link is younger than the region's policy allows."""
    try:
        data = signing.loads(token, salt=CITIZEN_SALT)
    except (signing.BadSignature, ValueError) as exc:
        raise NotFound("链接无效或已过期", code="link_invalid") from exc
    order = (
        WorkOrder.objects.select_related("rating", "department", "case__item", "region")
        .filter(citizen_token=data.get("o"))
        .first()
    )
    if order is None:
        raise NotFound("链接无效或已过期", code="link_invalid")
    days = order_policy(order.region).callback_link_days
    try:
        signing.loads(token, salt=CITIZEN_SALT, max_age=timedelta(days=days))
    except signing.SignatureExpired as exc:
        raise NotFound(f"链接已超过{days}天有效期，请联系12345热线", code="link_expired") from exc
    return order


@transaction.atomic
def work_order_callback(
    *,
    order: WorkOrder,
    actor: Actor,
    solved: bool,
    satisfaction: str,
    comment: str = "",
    via_link: bool = False,
) -> WorkOrder:
    """回访: solved and not dissatisfied → 办结; otherwise back to the department (重办)."""
    if not via_link:
        _require(actor, order, OPERATOR_ROLES + SUPERVISOR_ROLES, "只有12345话务员可以登记电话回访")
    if satisfaction not in CALLBACK_CHOICES:
        raise InvalidInput(
            "满意度应为 satisfied、basically_satisfied 或 dissatisfied", code="invalid_satisfaction"
        )
    if via_link and order.callback_token_used:
        raise Conflict("您已答复过本次回访，感谢您的反馈", code="link_used")
    now = clock.now()
    common = {
        "callback_solved": solved,
        "callback_satisfaction": satisfaction,
        "callback_comment": comment[:500],
        "callback_token_used": True,
    }
    data = {"solved": solved, "satisfaction": satisfaction, "via": "link" if via_link else "phone"}
    note = f"{'已解决' if solved else '未解决'}，{CALLBACK_CHOICES[satisfaction]}" + (
        f"：{comment}" if comment else ""
    )
    if solved and satisfaction != "dissatisfied":
        changes = {**common, "closed_at": now, **_closing_minutes(order, now)}
        order = _move(
            order,
            action="callback",
            allowed=(Status.PENDING_CALLBACK,),
            to=Status.CLOSED,
            actor=actor,
            now=now,
            note=note,
            data=data,
            changes=changes,
        )
        Supervision.objects.filter(order=order, resolved_at__isnull=True).update(resolved_at=now)
        return order
    changes = {**common, "reopen_count": order.reopen_count + 1, "feedback_at": None, **new_cycle(order, now)}
    if order.on_the_spot:
        changes["on_the_spot"] = False
    order = _move(
        order,
        action="reopen",
        allowed=(Status.PENDING_CALLBACK,),
        to=Status.HANDLING,
        actor=actor,
        now=now,
        note=note,
        data=data,
        changes=changes,
    )
    _notify(
        order,
        key=f"reopen-{order.version}",
        title=f"工单 {order.number} 回访不满意，请重新办理",
        body=note,
        org_ids=[order.department_id],
        roles=DEPARTMENT_ROLES,
    )
    return order


def _closing_minutes(order: WorkOrder, now: datetime) -> dict:
    out = {}
    start = order.clock_started_at or order.assigned_at
    if order.contact_due_at and order.contacted_at:
        out["contact_minutes"] = _minutes(start, order.contacted_at)
        out["contact_over_minutes"] = _minutes(
            order.contact_due_at, max(order.contacted_at, order.contact_due_at)
        )
    if order.finish_due_at and order.feedback_at:
        out["finish_minutes"] = _minutes(start, order.feedback_at)
        out["finish_over_minutes"] = _minutes(
            order.finish_due_at, max(order.feedback_at, order.finish_due_at)
        )
    return out


# ---------------------------------------------------------------- supervision


@transaction.atomic
def work_order_supervise(
    *, order: WorkOrder, actor: Actor, note: str, deadline: datetime | None
) -> Supervision:
    """A supervisor's 督办 by hand, with a deadline."""
    _require(actor, order, SUPERVISOR_ROLES, "只有监管人员可以督办")
    if not order.is_open:
        raise Conflict("工单已办结，不能督办", code="illegal_transition")
    if not note.strip():
        raise InvalidInput("请填写督办意见", code="note_required")
    now = clock.now()
    if deadline is not None and deadline <= now:
        raise InvalidInput("督办期限应晚于当前时间", code="invalid_deadline")
    level = max(order.escalation_level, 1)
    with transaction.atomic():
        sup = Supervision.objects.create(
            order=order,
            kind=Supervision.Kind.MANUAL,
            level=level,
            department_id=order.department_id,
            issued_by=actor.user,
            note=note[:500],
            deadline=deadline,
            created_at=now,
        )
        _move(
            order,
            action="supervise",
            allowed=OPEN_STATUSES,
            to=None,
            actor=actor,
            now=now,
            note=note,
            data={"kind": "manual", "deadline": deadline.isoformat() if deadline else None},
        )
    _notify(
        order,
        key=f"supervise-{sup.pk}",
        title=f"督办：工单 {order.number}",
        body=note,
        org_ids=[order.department_id],
        roles=DEPARTMENT_ROLES,
    )
    return sup


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
            _move(
                order,
                action="supervise",
                allowed=DEPARTMENT_STATUSES,
                to=None,
                actor=system,
                now=now,
                note=f"已超过期限（{timezone.localtime(order.due_at):%Y-%m-%d %H:%M}），自动{level}级督办",
                data={"kind": "auto", "level": level},
                changes={"escalation_level": level, "overdue": True},
            )
            _notify(
                order,
                key=f"overdue-{level}",
                title=f"{level}级督办：工单 {order.number} 已逾期",
                body="请立即办理并反馈",
                org_ids=[order.department_id],
                roles=DEPARTMENT_ROLES + SUPERVISOR_ROLES,
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
        WorkOrder.objects.filter(status__in=DEPARTMENT_STATUSES, next_escalation_at__lte=now)
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
                        next_escalation_at=_next_escalation(order.escalation_level, order.due_at, policy)
                    )
                    continue
                for level in range(order.escalation_level + 1, target + 1):
                    if not _escalate(order, level, now, system):
                        break
                    counts[f"level{level}"] += 1
    soon = WorkOrder.objects.filter(
        status__in=DEPARTMENT_STATUSES, due_at__gt=now, due_at__lte=now + timedelta(hours=4)
    )
    for order in soon.iterator(chunk_size=batch):
        _notify(
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
    qs = WorkOrder.objects.filter(status__in=OPEN_STATUSES, assigned_at__isnull=False).select_related(
        "region"
    )
    for order in qs.iterator(chunk_size=1000):
        clocks = _clocks(order, order_policy(order.region))
        if (clocks["contact_due_at"], clocks["finish_due_at"], clocks["due_at"]) == (
            order.contact_due_at,
            order.finish_due_at,
            order.due_at,
        ):
            continue
        try:
            _move(
                order,
                action="recompute",
                allowed=OPEN_STATUSES,
                to=None,
                actor=system,
                note="工作日历变更，重算期限",
                data={"years": sorted(years or [])},
            )
            changed += 1
        except Conflict:
            continue
    return changed
