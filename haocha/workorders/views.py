"""Workbenches (server-rendered, htmx): the 12345 queue, the department queue, the supervisor board, the order
page with its timeline, and the citizen's signed progress / 回访 page."""

from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from haocha.accounts.access import actor_for_user
from haocha.accounts.models import Role
from haocha.core.errors import DomainError, InvalidInput, NotFound
from haocha.core.models import Message
from haocha.evaluations.models import ReasonOption
from haocha.organisations.models import Organisation
from haocha.workorders import services as svc
from haocha.workorders.attachments import private_storage, save_attachments
from haocha.workorders.models import (
    DEPARTMENT_STATUSES,
    OPEN_STATUSES,
    Appeal,
    ContactRecord,
    Extension,
    RepeatFlag,
    Status,
    WorkOrder,
)

PAGE = 30


def time_left(order: WorkOrder, now: datetime) -> dict | None:
    """Remaining time on the running clock, coloured as it runs out."""
    if order.due_at is None or order.status not in DEPARTMENT_STATUSES:
        return None
    seconds = (order.due_at - now).total_seconds()
    if seconds <= 0:
        hours = int(-seconds // 3600)
        text = (
            f"已超时 {hours // 24}天{hours % 24}小时"
            if hours >= 24
            else f"已超时 {hours}小时{int(-seconds % 3600 // 60)}分"
        )
        return {"text": text, "css": "late", "seconds": seconds}
    hours = int(seconds // 3600)
    text = (
        f"剩余 {hours // 24}天{hours % 24}小时"
        if hours >= 24
        else f"剩余 {hours}小时{int(seconds % 3600 // 60)}分"
    )
    css = "danger" if seconds < 4 * 3600 else "warn" if seconds < 24 * 3600 else "ok"
    return {"text": text, "css": css, "seconds": seconds}


def _decorate(orders, now):
    for order in orders:
        order.left = time_left(order, now)
    return orders


def _list(request, qs, template, extra=None):
    now = timezone.now()
    page = Paginator(qs, PAGE).get_page(request.GET.get("page"))
    _decorate(page.object_list, now)
    context = {"page": page, "orders": page.object_list, "now": now, **(extra or {})}
    return render(request, template, context)


def _base_qs(actor):
    return svc.work_orders_visible_to(actor).select_related("department", "rating", "rating__item", "case")


@login_required
def home(request):
    actor = actor_for_user(request.user)
    if actor.has_role(Role.SUPERVISOR):
        return redirect("workorders:board")
    if actor.has_role(Role.OPERATOR_12345):
        return redirect("workorders:operator")
    return redirect("workorders:department")


@login_required
def operator_queue(request):
    actor = actor_for_user(request.user)
    qs = (
        _base_qs(actor)
        .filter(status__in=[Status.PENDING_VERIFY, Status.PENDING_CALLBACK])
        .order_by("received_at")
    )
    departments = (
        Organisation.objects.filter(kind=Organisation.Kind.DEPARTMENT)
        .filter(actor.org_filter("pk"))
        .order_by("region__code", "name")
    )
    return _list(
        request,
        qs,
        "workorders/operator_queue.html",
        {"departments": departments, "title": "12345 工单核实交办"},
    )


@login_required
def department_queue(request):
    actor = actor_for_user(request.user)
    qs = _base_qs(actor).filter(status__in=[*DEPARTMENT_STATUSES, Status.PENDING_CALLBACK])
    qs = (
        qs.filter(Q(department_id__in=actor.org_ids) | Q(co_departments__in=actor.org_ids))
        if not actor.all_access
        else qs
    )
    return _list(
        request,
        qs.order_by("due_at", "received_at"),
        "workorders/department_queue.html",
        {"title": "部门差评工单"},
    )


@login_required
def supervisor_board(request):
    actor = actor_for_user(request.user)
    now = timezone.now()
    base = _base_qs(actor)
    sections = [
        ("late", "已逾期", base.filter(status__in=DEPARTMENT_STATUSES, due_at__lte=now).order_by("due_at")),
        (
            "escalated",
            "督办中",
            base.filter(status__in=OPEN_STATUSES, escalation_level__gt=0).order_by("-escalation_level"),
        ),
        (
            "reopened",
            "重办",
            base.filter(status__in=OPEN_STATUSES, reopen_count__gt=0).order_by("-reopen_count"),
        ),
        (
            "flagged",
            "重复差评",
            base.filter(repeat_flag=True, status__in=OPEN_STATUSES).order_by("received_at"),
        ),
        ("appeals", "待复核申诉", base.filter(appeals__status=Appeal.Status.PENDING).order_by("received_at")),
        (
            "extensions",
            "待审批延期",
            base.filter(extensions__status=Extension.Status.PENDING).order_by("received_at"),
        ),
    ]
    rendered = []
    for key, label, qs in sections:
        items = _decorate(list(qs[:50]), now)
        rendered.append({"key": key, "label": label, "orders": items, "count": qs.count()})
    flags = RepeatFlag.objects.filter(orders__in=base).distinct().order_by("-flagged_at")[:20]
    counts = {
        "open": base.filter(status__in=OPEN_STATUSES).count(),
        "closed": base.filter(status=Status.CLOSED).count(),
        "invalid": base.filter(status=Status.INVALID).count(),
    }
    return render(
        request,
        "workorders/board.html",
        {"sections": rendered, "flags": flags, "counts": counts, "title": "差评处置监管看板"},
    )


def _order_context(request, order, actor, error=None):
    now = timezone.now()
    order.left = time_left(order, now)
    reasons = dict(
        ReasonOption.objects.filter(code__in=order.rating.reason_codes).values_list("code", "text")
    )
    departments = Organisation.objects.filter(kind=Organisation.Kind.DEPARTMENT).filter(
        actor.org_filter("pk")
    )
    return {
        "order": order,
        "rating": order.rating,
        "reasons": [reasons.get(c, c) for c in order.rating.reason_codes],
        "transitions": _labelled(order.transitions.order_by("at", "id")),
        "contacts": order.contacts.all(),
        "supervisions": order.supervisions.all(),
        "appeals": order.appeals.all(),
        "extensions": order.extensions.all(),
        "co_departments": order.co_departments.all(),
        "can": _abilities(actor, order),
        "departments": departments.order_by("name")
        if actor.has_role(Role.OPERATOR_12345, Role.SUPERVISOR)
        else [],
        "contact_methods": ContactRecord.Method.choices,
        "error": error,
        "now": now,
        "citizen_link": request.build_absolute_uri(f"/c/{svc.citizen_link_token(order)}/")
        if actor.has_role(Role.OPERATOR_12345, Role.SUPERVISOR)
        else None,
        "title": f"工单 {order.number}",
    }


STATUS_LABELS = dict(Status.choices)


def _labelled(transitions):
    rows = list(transitions)
    for t in rows:
        t.from_label = STATUS_LABELS.get(t.from_status, "—")
        t.to_label = STATUS_LABELS.get(t.to_status, t.to_status)
    return rows


def _abilities(actor, order) -> dict:
    dept = (
        actor.client is None
        and actor.has_role(Role.HANDLER, Role.DEPARTMENT_ADMIN)
        and actor.can_see_org(order.department_id)
    )
    operator = actor.has_role(Role.OPERATOR_12345, Role.SUPERVISOR)
    supervisor = actor.has_role(Role.SUPERVISOR)
    s = order.status
    return {
        "verify": operator and s == Status.PENDING_VERIFY,
        "assign": operator and s in (Status.PENDING_VERIFY, Status.PENDING_ACCEPT, Status.ACCEPTED),
        "accept": dept and s == Status.PENDING_ACCEPT,
        "return": dept and s in (Status.PENDING_ACCEPT, Status.ACCEPTED),
        "contact": dept and s in (Status.PENDING_ACCEPT, Status.ACCEPTED, Status.HANDLING),
        "feedback": dept and s == Status.HANDLING and order.contacted_at is not None,
        "on_the_spot": (dept or actor.has_role(Role.WINDOW_CLERK))
        and s in (Status.PENDING_VERIFY, Status.PENDING_ACCEPT, Status.ACCEPTED),
        "extension": dept and s in (Status.ACCEPTED, Status.HANDLING),
        "decide_extension": operator and order.extensions.filter(status=Extension.Status.PENDING).exists(),
        "appeal": dept and order.is_open and not order.appeals.filter(status=Appeal.Status.PENDING).exists(),
        "review_appeal": supervisor and order.appeals.filter(status=Appeal.Status.PENDING).exists(),
        "callback": operator and s == Status.PENDING_CALLBACK,
        "supervise": supervisor and order.is_open,
        "merge": operator and order.is_open,
        "complexity": operator and order.is_open,
    }


@login_required
def order_page(request, number):
    actor = actor_for_user(request.user)
    order = svc.get_work_order_for_actor(actor, number)
    return render(request, "workorders/order.html", _order_context(request, order, actor))


def _aware(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("时间格式不正确", code="invalid_time") from exc
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _int(value) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("编号应为整数", code="invalid_id") from exc
    if not 0 < number < 2**62:
        raise InvalidInput("编号超出范围", code="invalid_id")
    return number


def _uploads(actor, order, files, stored: list) -> list | None:
    """Store attachments only for someone allowed to act (checked first); `stored` lets the caller remove
    them again when the action is then refused."""
    if not files:
        return None
    svc.check_department(actor, order)
    saved = save_attachments(order.number, files)
    stored.extend(meta["path"] for meta in saved)
    return saved


def _do(action: str, order: WorkOrder, actor, post, files=(), stored=None) -> None:
    stored = [] if stored is None else stored
    p = post.get
    if action == "verify":
        valid = p("valid", "1") == "1"
        svc.work_order_verify(
            order=order,
            actor=actor,
            valid=valid,
            complexity=p("complexity", ""),
            reason=p("reason", ""),
            note=p("note", ""),
        )
        if valid and p("department"):
            order.refresh_from_db()
            _do("assign", order, actor, post)
    elif action == "assign":
        dept = Organisation.objects.filter(pk=_int(p("department"))).first() if p("department") else None
        co = list(Organisation.objects.filter(pk__in=[_int(v) for v in post.getlist("co_departments")]))
        svc.work_order_assign(
            order=order,
            actor=actor,
            department=dept,
            complexity=p("complexity", ""),
            co_departments=co,
            note=p("note", ""),
        )
    elif action == "accept":
        svc.work_order_accept(order=order, actor=actor)
    elif action == "return":
        svc.work_order_return(order=order, actor=actor, reason=p("reason", ""))
    elif action == "contact":
        svc.work_order_contact(
            order=order,
            actor=actor,
            contacted_at=_aware(p("contacted_at") or timezone.now().isoformat()),
            method=p("method", ""),
            outcome=p("outcome", ""),
            reached=p("reached", "1") == "1",
        )
    elif action == "feedback":
        svc.work_order_feedback(
            order=order,
            actor=actor,
            result=p("result", ""),
            measures=p("measures", ""),
            attachments=_uploads(actor, order, files, stored),
        )
    elif action == "on_the_spot":
        svc.work_order_on_the_spot(order=order, actor=actor, result=p("result", ""))
    elif action == "extension":
        try:
            days = int(p("days", "0"))
        except ValueError as exc:
            raise InvalidInput("延期天数应为整数", code="invalid_days") from exc
        svc.work_order_request_extension(order=order, actor=actor, days=days, reason=p("reason", ""))
    elif action == "decide_extension":
        svc.work_order_decide_extension(
            order=order, actor=actor, approve=p("approve") == "1", note=p("note", "")
        )
    elif action == "appeal":
        svc.work_order_appeal(
            order=order,
            actor=actor,
            ground=p("ground", ""),
            statement=p("statement", ""),
            evidence=_uploads(actor, order, files, stored),
        )
    elif action == "review_appeal":
        svc.work_order_review_appeal(order=order, actor=actor, uphold=p("uphold") == "1", note=p("note", ""))
    elif action == "callback":
        svc.work_order_callback(
            order=order,
            actor=actor,
            solved=p("solved") == "1",
            satisfaction=p("satisfaction", ""),
            comment=p("comment", ""),
        )
    elif action == "supervise":
        deadline = _aware(p("deadline")) if p("deadline") else None
        svc.work_order_supervise(order=order, actor=actor, note=p("note", ""), deadline=deadline)
    elif action == "merge":
        into = svc.get_work_order_for_actor(actor, p("into", ""))
        svc.work_order_merge(order=order, into=into, actor=actor, note=p("note", ""))
    elif action == "complexity":
        svc.work_order_set_complexity(
            order=order, actor=actor, complexity=p("complexity", ""), reason=p("reason", "")
        )
    else:
        raise InvalidInput("未知操作", code="unknown_action")


@login_required
@require_POST
def order_action(request, number, action):
    actor = actor_for_user(request.user)
    order = svc.get_work_order_for_actor(actor, number)
    error, status, stored = None, 200, []
    try:
        _do(action, order, actor, request.POST, request.FILES.getlist("attachments"), stored)
    except DomainError as exc:
        error, status = exc.message, exc.status
        for path in stored:  # the step was refused: its files are not kept
            private_storage().delete(path)
    order = svc.get_work_order_for_actor(actor, number)
    context = _order_context(request, order, actor, error=error)
    if request.headers.get("HX-Request"):
        return render(request, "workorders/_order_panel.html", context, status=status)
    if error:
        return render(request, "workorders/order.html", context, status=status)
    return redirect("workorders:order", number=number)


@login_required
def attachment(request, number, transition_id, index):
    """An attachment of one step, for people who may see the order only."""
    actor = actor_for_user(request.user)
    order = svc.get_work_order_for_actor(actor, number)
    step = order.transitions.filter(pk=transition_id).first()
    files = list(step.attachments) if step else []
    if index >= len(files):
        raise NotFound("附件不存在", code="attachment_not_found")
    meta = files[index]
    handle = private_storage().open(meta["path"], "rb")
    return FileResponse(handle, as_attachment=True, filename=meta["name"])


@login_required
def messages_page(request):
    items = Message.objects.filter(user=request.user).order_by("-created_at")[:100]
    if request.method == "POST":
        Message.objects.filter(user=request.user, read_at__isnull=True).update(read_at=timezone.now())
        return redirect("workorders:messages")
    return render(request, "workorders/messages.html", {"items": items, "title": "站内消息"})


def citizen_page(request, token):
    """The citizen's view through a signed link: progress, and the single-use 回访 question."""
    try:
        order = svc.order_from_citizen_token(token)
    except DomainError as exc:
        return render(request, "workorders/citizen.html", {"error": exc.message}, status=404)
    error, done = None, False
    if request.method == "POST":
        from haocha.accounts.access import Actor

        try:
            svc.work_order_callback(
                order=order,
                actor=Actor(label="办事群众（回访链接）"),
                solved=request.POST.get("solved") == "1",
                satisfaction=request.POST.get("satisfaction", ""),
                comment=request.POST.get("comment", ""),
                via_link=True,
            )
            done = True
        except DomainError as exc:
            error = exc.message
        order = svc.order_from_citizen_token(token)
    steps = order.transitions.exclude(
        action__in=["recompute", "supervise", "appeal", "appeal_review", "extension_request", "complexity"]
    ).order_by("at", "id")
    response = render(
        request,
        "workorders/citizen.html",
        {
            "order": order,
            "steps": steps,
            "error": error,
            "done": done,
            "can_answer": order.status == Status.PENDING_CALLBACK and not order.callback_token_used,
        },
    )
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"  # the signed token never leaks to another site
    return response


def unread_count(request) -> dict:
    """Context processor: unread in-app messages for the top bar."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    actor = actor_for_user(user)
    return {
        "unread_messages": Message.objects.filter(user=user, read_at__isnull=True).count(),
        "nav_operator": actor.has_role(Role.OPERATOR_12345, Role.SUPERVISOR),
        "nav_department": actor.has_role(Role.HANDLER, Role.DEPARTMENT_ADMIN, Role.WINDOW_CLERK),
        "nav_board": actor.has_role(Role.SUPERVISOR),
    }
