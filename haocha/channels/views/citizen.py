"""What a citizen opens: the signed case link (QR code, SMS, 我的办件, 办结通知), the embeddable snippet and the
window's QR page."""

import uuid

from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt

from haocha.accounts.access import Actor
from haocha.channels import citizen, duty, links, lookup, visit
from haocha.channels.views import client_ip
from haocha.core.errors import DomainError, NotFound
from haocha.evaluations.channels import Channel
from haocha.evaluations.levels import BAD_LEVELS, Level
from haocha.workorders import machine
from haocha.workorders.citizen import citizen_link_token
from haocha.workorders.machine import HIDDEN_FROM_CITIZEN
from haocha.workorders.models import Status

LINK_LABEL = "办事群众（评价链接）"
HIDDEN_STEPS = HIDDEN_FROM_CITIZEN  # the steps of an order a citizen does not see


def _private(response):
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"  # the signed token never leaks to another site
    return response


def _error_page(request, exc: DomainError):
    return _private(
        render(
            request,
            "channels/mobile_error.html",
            {"message": exc.message, "code": exc.code},
            status=exc.status,
        )
    )


def _target(token):
    target = links.target_from_token(token)
    if target.channel not in citizen.CITIZEN_CHANNELS:
        raise NotFound("评价链接无效", code="link_invalid")
    return target


def _orders(state) -> list:
    rows = []
    for order in state.orders:
        steps = order.transitions.exclude(action__in=HIDDEN_STEPS).order_by("at", "id")
        rows.append(
            {
                "order": order,
                "steps": steps,
                "link": f"/c/{citizen_link_token(order)}/",
                # (an external 12345's order is called back by its own team, not through this page)
                "callback_open": order.status == Status.PENDING_CALLBACK
                and not order.callback_token_used
                and machine.may(Actor(label="群众"), order, "callback", via_link=True),
            }
        )
    return rows


def _fresh_values(level: str = "") -> dict:
    return {"level": level, "indicators": {}, "reasons": [], "comment": "", "key": str(uuid.uuid4())}


def _rating_view(rating, spec):
    if rating is None:
        return None
    names = dict(spec.indicators)
    return {
        "rating": rating,
        "reasons": citizen.reason_texts(rating),
        "indicators": [
            (names[code], Level(value).label)
            for code, value in rating.indicator_levels.items()
            if code in names
        ],
        "reply": getattr(rating, "reply", None),
    }


@never_cache
def rating_page(request, token):
    """The mobile page of one case: rate, then later see the rating, the reply, the 追评 and a 差评's progress."""
    try:
        target = _target(token)
    except DomainError as exc:
        return _error_page(request, exc)
    case = target.case
    spec = citizen.form_spec(target.channel)
    error, status, values, follow_values, follow_error = None, 200, None, None, False
    if request.method == "POST":
        action = request.POST.get("action", "rate")
        try:
            form = citizen.parse_rating_form(request.POST, spec)
            fn = citizen.citizen_follow_up if action == "follow_up" else citizen.citizen_rate
            rating, _created = fn(
                case=case, channel=target.channel, form=form, client_ip=client_ip(request), label=LINK_LABEL
            )
            done = "follow_up" if action == "follow_up" else ("bad" if rating.is_bad else "rated")
            return redirect(f"{request.path}?done={done}")
        except DomainError as exc:
            error, status = exc.message, exc.status
            if action == "follow_up":
                follow_values, follow_error = citizen.form_values(request.POST), True
            else:
                values = citizen.form_values(request.POST)
    state = citizen.case_state(case)
    preset = target.level if target.level in Level.values else ""
    values = values or _fresh_values(preset)
    follow_values = follow_values or _fresh_values()
    context = {
        "case": case,
        "state": state,
        "spec": spec,
        "values": values,
        "groups": spec.groups(values),
        "rows": spec.rows(values),
        "follow_values": follow_values,
        "follow_groups": spec.groups(follow_values),
        "follow_rows": spec.rows(follow_values),
        "preset": Level(preset).label if preset and not error else "",
        "first": _rating_view(state.first, spec),
        "second": _rating_view(state.follow_up, spec),
        "orders": _orders(state),
        "error": error,
        "follow_error": follow_error,
        "done": request.GET.get("done", ""),
        "levels": citizen.LEVEL_WORDS,
        "bad_levels": sorted(BAD_LEVELS),
    }
    return _private(render(request, "channels/mobile.html", context, status=status))


@never_cache
@xframe_options_exempt
def embed(request, token):
    """A small page other platforms put in an iframe on their case page: the rating state and one-tap levels."""
    try:
        target = _target(token)
    except DomainError as exc:
        return _error_page(request, exc)
    state = citizen.case_state(target.case)
    taps = []
    if state.can_rate:
        for value, label in citizen.LEVEL_WORDS:
            path = links.rating_link_path(target.case, channel=target.channel, level=value)
            taps.append((value, label, path))
    context = {
        "case": target.case,
        "state": state,
        "taps": taps,
        "page": f"/r/{token}/",
        "reply": state.first is not None and hasattr(state.first, "reply"),
    }
    return _private(render(request, "channels/embed.html", context))


@never_cache
def window_page(request, token):
    """A window's QR code: rate this visit (一次一评), or go on to rate one's own case."""
    try:
        window = visit.window_from_token(token)
    except DomainError as exc:
        return _error_page(request, exc)
    spec = citizen.form_spec(Channel.QRCODE)
    error, status, values, done = None, 200, None, request.GET.get("done", "")
    lookup_values = {"case_no": "", "last4": ""}
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "case":
                served = duty.served_now(window) if request.POST.get("served") == "1" else None
                case_no = served.case.case_no if served else request.POST.get("case_no", "")
                lookup_values = {"case_no": "" if served else case_no, "last4": ""}
                case = lookup.case_by_number(
                    case_no=case_no, last4=request.POST.get("last4", ""), requester=f"ip:{client_ip(request)}"
                )
                return redirect(links.rating_link_path(case, channel=Channel.QRCODE))
            form = citizen.parse_rating_form(request.POST, spec)
            visit.qr_visit_rate(window=window, form=form, client_ip=client_ip(request))
            return redirect(f"{request.path}?done=visit")
        except DomainError as exc:
            error, status = exc.message, exc.status
            if action != "case":
                values = citizen.form_values(request.POST)
    values = values or _fresh_values()
    served = duty.served_now(window)
    context = {
        "window": window,
        "on_duty": duty.duty_at(window, timezone.now()),
        "served": served,
        "spec": spec,
        "values": values,
        "groups": spec.groups(values),
        "rows": spec.rows(values),
        "levels": citizen.LEVEL_WORDS,
        "lookup": lookup_values,
        "error": error,
        "done": done,
    }
    return _private(render(request, "channels/window.html", context, status=status))
