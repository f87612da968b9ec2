"""The window tablet (kiosk): one page per window, for a device registered to that window only."""

import json
from functools import cache

from django.contrib.staticfiles import finders
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from haocha.channels.citizen import form_spec
from haocha.channels.devices import device_from_request
from haocha.channels.models import Device
from haocha.channels.tablet import TabletRating, tablet_rating_submit, tablet_state
from haocha.channels.views import client_ip, registered_device_page
from haocha.core.errors import DomainError, InvalidInput
from haocha.evaluations.channels import Channel
from haocha.evaluations.levels import BAD_LEVELS, ORDERED

THANKS_SECONDS = 6
REASONS_IDLE_SECONDS = 90


def _error(exc: DomainError) -> JsonResponse:
    return JsonResponse({"code": exc.code, "message": exc.message}, status=exc.status)


@never_cache
@require_GET
@registered_device_page("该窗口的评价器")
def tablet_page(request, window_code):
    """The tablet's page; with ?copy=offline, the copy its service worker keeps for a start during an
    outage: without the staff on duty and the case being served, which could be hours old by then."""
    device = device_from_request(request, kind=Device.Kind.TABLET, window_code=window_code)
    spec = form_spec(Channel.TABLET)
    state = tablet_state(device)
    if request.GET.get("copy") == "offline":
        state = {**state, "staff": None, "case": None, "offline_copy": True}
    config = {
        "window": device.window.code,
        "device": device.code,
        "submitUrl": f"/tablet/{device.window.code}/ratings",
        "stateUrl": f"/tablet/{device.window.code}/state",
        "levels": [[lv.value, lv.label] for lv in ORDERED],
        "badLevels": sorted(BAD_LEVELS),
        "reasons": {level: spec.reasons.get(level, []) for level in sorted(BAD_LEVELS)},
        "thanksSeconds": THANKS_SECONDS,
        "idleSeconds": REASONS_IDLE_SECONDS,
        "state": state,
        "serviceWorkerUrl": reverse("channels:tablet_service_worker"),
    }
    return render(
        request,
        "channels/tablet.html",
        {"device": device, "state": state, "config": config, "levels": ORDERED},
    )


@require_GET
def tablet_service_worker(request):
    """tablet-sw.js, served under /tablet/ so that its scope covers the tablet pages (a worker's scope is
    at most the folder its script is served from); revalidated on every load, so an update reaches every
    tablet at its next page load."""
    response = HttpResponse(_service_worker_source(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


@cache
def _service_worker_source() -> bytes:
    with open(finders.find("channels/tablet-sw.js"), "rb") as fh:
        return fh.read()


@never_cache
@require_GET
def tablet_state_json(request, window_code):
    try:
        device = device_from_request(request, kind=Device.Kind.TABLET, window_code=window_code)
    except DomainError as exc:
        return _error(exc)
    return JsonResponse(tablet_state(device))


def _text(body: dict, name: str, label: str, limit: int) -> str:
    """A text field of the tablet's JSON: absent or null is empty; anything but a string, or a longer one
    than the field holds, is refused (never turned into text or cut)."""
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{label}应为文本", code=f"invalid_{name}")
    if len(value) > limit:
        raise InvalidInput(f"{label}不能超过{limit}字", code=f"{name}_too_long")
    return value


@require_POST
def tablet_rating(request, window_code):
    """JSON in: {key, level, reasons, comment, age_ms, case_no}. 201 stored, 200 a resend of a stored one."""
    try:
        device = device_from_request(request, kind=Device.Kind.TABLET, window_code=window_code)
        try:
            body = json.loads(request.body or b"{}")
        except ValueError as exc:
            raise InvalidInput("请求数据不是有效的 JSON", code="invalid_json") from exc
        if not isinstance(body, dict):
            raise InvalidInput("请求数据格式不正确", code="invalid_json")
        reasons = body.get("reasons") or []
        if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons) or len(reasons) > 20:
            raise InvalidInput("评价内容格式不正确（至多20项）", code="invalid_reasons")
        data = TabletRating(
            key=_text(body, "key", "评价编号", 64),
            level=_text(body, "level", "满意度等级", 40),
            reasons=reasons,
            comment=_text(body, "comment", "文字评价", 1000),
            age_ms=body.get("age_ms"),
            case_no=_text(body, "case_no", "办件编号", 50),
        )
        rating, created = tablet_rating_submit(device=device, data=data, client_ip=client_ip(request))
    except DomainError as exc:
        return _error(exc)
    return JsonResponse(
        {"id": str(rating.public_id), "created": created, "received": "已收到评价"},
        status=201 if created else 200,
    )
