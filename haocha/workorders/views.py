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

from haocha.accounts.access import Actor, actor_for_user
from haocha.accounts.menu import page_view, role_scopes, workorder_tabs_for
from haocha.core.errors import DomainError, NotFound
from haocha.core.models import Message
from haocha.evaluations.models import ReasonOption
from haocha.organisations.models import Organisation
from haocha.workorders import forms, machine
from haocha.workorders.access import (
    DEPARTMENT_QUEUE,
    ON_THE_SPOT,
    department_queue_filter,
    get_work_order_for_actor,
    work_orders_visible_to,
)
from haocha.workorders.attachments import private_storage
from haocha.workorders.citizen import (
    CALLBACK_CHOICES,
    citizen_link_token,
    citizen_steps,
    order_from_citizen_token,
    parse_solved,
    work_order_callback,
)
from haocha.workorders.contact_details import may_see_contact_details, work_order_contact_details
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
    return work_orders_visible_to(actor).select_related("department", "rating", "rating__item", "case")


@page_view("workorders")
def home(request):
    """The workbench's first tab this user has (the board, the 12345 queue, the department queue)."""
    tabs = workorder_tabs_for(request.user)
    return redirect(tabs[0].url)


@page_view("wo_operator")
def operator_queue(request):
    actor = actor_for_user(request.user)
    qs = (
        _base_qs(actor)
        .filter(status__in=[Status.PENDING_VERIFY, Status.PENDING_CALLBACK])
        .order_by("received_at")
    )
    departments = assignable_departments(actor).order_by("region__code", "name")
    return _list(
        request,
        qs,
        "workorders/operator_queue.html",
        {"departments": departments, "title": "12345 工单核实交办"},
    )


@page_view("wo_department")
def department_queue(request):
    actor = actor_for_user(request.user)
    statuses = [*DEPARTMENT_STATUSES, Status.PENDING_CALLBACK]
    mine = Q(status__in=statuses) & department_queue_filter(actor)
    if actor.holds(
        ON_THE_SPOT
    ):  # window staff settle their hall's 差评 on the spot (当场处置) while not yet handled
        mine |= Q(status__in=machine.ACTIONS["on_the_spot"].sources) & actor.filter_for(
            ON_THE_SPOT, "rating__hall_id"
        )
    qs = _base_qs(actor).filter(mine)
    clerk_only = not actor.holds(DEPARTMENT_QUEUE)  # holds() is true for all-access accounts
    return _list(
        request,
        qs.order_by("due_at", "received_at"),
        "workorders/department_queue.html",
        {
            "title": "本大厅差评工单" if clerk_only else "部门差评工单",
            "clerk_only": clerk_only,
        },
    )


@page_view("wo_board")
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


def _order_context(request, order, actor, error=None, contact_details=None):
    now = timezone.now()
    order.left = time_left(order, now)
    reasons = dict(
        ReasonOption.objects.filter(code__in=order.rating.reason_codes).values_list("code", "text")
    )
    can = _abilities(actor, order)
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
        "can": can,
        "can_contact_details": may_see_contact_details(actor, order),
        "contact_details": contact_details,
        "departments": assignable_departments(actor).order_by("name")
        if can["assign"] or can["verify"]
        else [],
        "contact_methods": ContactRecord.Method.choices,
        "error": error if error is None or error.status >= 400 else None,
        "notice": error.message if error is not None and error.status < 400 else "",
        "now": now,
        # the citizen's own 回访 link: only for whoever may take the 回访 on this order
        "citizen_link": request.build_absolute_uri(f"/c/{citizen_link_token(order)}/")
        if machine.may(actor, order, "callback")
        else None,
        "title": f"工单 {order.number}",
    }


def assignable_departments(actor):
    """The departments the actor may 交办 an order to (actions.work_order_assign checks the same)."""
    return Organisation.objects.filter(kind=Organisation.Kind.DEPARTMENT).filter(
        actor.filter_for(machine.ASSIGN, "pk")
    )


def _labelled(transitions):
    rows = list(transitions.select_related("actor", "actor__organisation"))
    people: dict[int, str] = {}
    for t in rows:
        t.label = machine.step_label(t)
        t.from_label = machine.STATUS_LABELS.get(t.from_status, "—")
        t.to_label = machine.STATUS_LABELS.get(t.to_status, t.to_status)
        t.stated = _stated(t)
        t.who = _who(t, people)
        t.detail = _detail(t)
    return rows


def _who(step, people: dict) -> str:
    """Who took a step, as staff know each other: the person, their role and unit ("陈静 · 12345话务员（长沙市）"),
    not the login name; the system, the citizen and other systems by the label they were recorded with."""
    user = step.actor
    if user is None:
        return step.actor_label
    if user.pk not in people:
        name = user.display_name or user.get_username()
        held = role_scopes(user)
        if not held and user.organisation_id:
            held = user.organisation.name
        people[user.pk] = f"{name} · {held}" if held else name
    return people[user.pk]


def _detail(step) -> str:
    """What a step was about where the log row says more than its label: the department of a 交办 or 改派."""
    data = step.data or {}
    if step.action == "assign" and data.get("department"):
        if data.get("reassign") and data.get("from_department"):
            return f"由 {data['from_department']} 改派给 {data['department']}"
        return f"交办给 {data['department']}"
    return ""


def _stated(step) -> str:
    """A step recorded later than it is said to have happened: both times, and which one the clocks use."""
    if step.stated_at is None:
        return ""
    text = f"所述时间 {timezone.localtime(step.stated_at):%Y-%m-%d %H:%M}"
    counted = (step.data or {}).get("counted_at")
    if counted and datetime.fromisoformat(counted) != step.stated_at:
        text += "（补录超出认可期，计时按登记时间）"
    return text


def _abilities(actor, order) -> dict:
    """What the workbench offers this actor on this order: read from the machine's table."""
    can = {name: machine.allowed(actor, order, name) for name in machine.WORKBENCH_ACTIONS}
    can["any"] = any(can.values())
    return can


@login_required
def order_page(request, number):
    actor = actor_for_user(request.user)
    order = get_work_order_for_actor(actor, number)
    return render(request, "workorders/order.html", _order_context(request, order, actor))


@login_required
@require_POST
def order_action(request, number, action):
    actor = actor_for_user(request.user)
    order = get_work_order_for_actor(actor, number)
    if action not in forms.PARSERS:
        raise NotFound("未知操作", code="unknown_action")
    form = forms.Form(order, actor, request.POST, request.FILES.getlist("attachments"))
    answer, status = None, 200
    try:
        forms.take(action, form)
    except DomainError as exc:
        answer, status = exc, exc.status
        for path in form.stored:  # the step was not taken: its files are not kept
            private_storage().delete(path)
    order = get_work_order_for_actor(actor, number)
    context = _order_context(request, order, actor, error=answer)
    if request.headers.get("HX-Request"):
        return render(request, "workorders/_order_panel.html", context, status=status)
    if answer is not None:
        return render(request, "workorders/order.html", context, status=status)
    return redirect("workorders:order", number=number)


@login_required
@require_POST
def contact_details(request, number):
    """查看联系方式: the rater's name and phone shown once on the panel (audited, counted against the quota)."""
    actor = actor_for_user(request.user)
    order = get_work_order_for_actor(actor, number)
    details, answer, status = None, None, 200
    try:
        details = work_order_contact_details(
            actor=actor, order=order, purpose=request.POST.get("purpose", ""), request=request
        )
    except DomainError as exc:
        answer, status = exc, exc.status
    context = _order_context(request, order, actor, error=answer, contact_details=details)
    template = (
        "workorders/_order_panel.html" if request.headers.get("HX-Request") else "workorders/order.html"
    )
    response = render(request, template, context, status=status)
    response["Cache-Control"] = "no-store"
    if answer is not None:
        for name, value in answer.headers.items():
            response[name] = value
    return response


@login_required
def attachment(request, number, transition_id, index):
    """An attachment of one step, for people who may see the order only."""
    actor = actor_for_user(request.user)
    order = get_work_order_for_actor(actor, number)
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
        order = order_from_citizen_token(token)
    except DomainError as exc:
        return render(request, "workorders/citizen.html", {"error": exc.message}, status=404)
    error, done, status = None, False, 200
    if request.method == "POST":
        try:
            work_order_callback(
                order=order,
                actor=Actor(label="办事群众（回访链接）"),
                solved=parse_solved(request.POST.get("solved")),
                satisfaction=request.POST.get("satisfaction", ""),
                comment=request.POST.get("comment", ""),
                via_link=True,
            )
            done = True
        except DomainError as exc:
            error, status = exc.message, exc.status
        order = order_from_citizen_token(token)
    response = render(
        request,
        "workorders/citizen.html",
        {
            "order": order,
            "steps": citizen_steps(order),
            "error": error,
            "done": done,
            "answers": request.POST if error else {},  # a refused answer keeps what was chosen
            "choices": CALLBACK_CHOICES,
            "can_answer": order.status == Status.PENDING_CALLBACK
            and not order.callback_token_used
            and machine.may(Actor(label="群众"), order, "callback", via_link=True),
        },
        status=status,
    )
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"  # the signed token never leaks to another site
    return response


def unread_count(request) -> dict:
    """Context processor: unread in-app messages for the top bar."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_messages": Message.objects.filter(user=user, read_at__isnull=True).count()}
