"""Staff pages of the channels: windows with their tablet, QR codes and stand signs; devices; 办结通知."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from haocha.accounts.access import Actor, actor_for_user
from haocha.accounts.menu import page_view
from haocha.catalogue.selectors import get_case_for_actor
from haocha.channels import devices, links, qr
from haocha.channels.models import Device, WindowDuty
from haocha.channels.selectors import (
    get_device_for_actor,
    get_hall_for_actor,
    get_window_for_actor,
    halls_visible_to,
    windows_visible_to,
)
from haocha.core.errors import DomainError, Forbidden, InvalidInput
from haocha.core.identity import mask_name
from haocha.evaluations.channels import Channel
from haocha.organisations.models import Organisation


def staff_actor(request) -> Actor:
    """A signed-in member of staff holding some role; others get 403."""
    actor = actor_for_user(request.user)
    if not (actor.all_access or actor.roles):
        raise Forbidden("您的账号没有任何角色，无权访问", code="forbidden")
    return actor


def _channels_context(request, actor, activation=None, error=None):
    hall_ids = set(windows_visible_to(actor).values_list("hall_id", flat=True)) | set(
        halls_visible_to(actor).values_list("pk", flat=True)
    )
    halls = list(
        Organisation.objects.filter(pk__in=hall_ids).select_related("region").order_by("region__code", "pk")
    )
    selected = None
    wanted = request.GET.get("hall") or (activation and str(activation["device"].hall_id))
    if wanted:
        selected = next((h for h in halls if str(h.pk) == str(wanted)), None)
    if selected is None and halls:
        with_windows = set(windows_visible_to(actor).filter(is_active=True).values_list("hall_id", flat=True))
        selected = next((h for h in halls if h.pk in with_windows), halls[0])
    rows, terminals, can_terminal = [], [], False
    if selected is not None:
        windows = list(
            windows_visible_to(actor)
            .filter(hall=selected, is_active=True)
            .select_related("department", "hall")
        )
        windows.sort(key=lambda w: w.number)
        duties = {
            d.window_id: d
            for d in WindowDuty.objects.filter(window__in=windows, ended_at__isnull=True).select_related(
                "staff"
            )
        }
        tablets = {
            d.window_id: d
            for d in Device.objects.filter(window__in=windows, kind=Device.Kind.TABLET, is_active=True)
        }
        for w in windows:
            rows.append(
                {
                    "window": w,
                    "duty": duties.get(w.pk),
                    "tablet": tablets.get(w.pk),
                    "manage": devices.can_manage_window(actor, w),
                }
            )
        terminals = list(Device.objects.filter(hall=selected, kind=Device.Kind.TERMINAL).order_by("code"))
        can_terminal = devices.can_manage_hall(actor, selected)
    return {
        "halls": halls,
        "hall": selected,
        "rows": rows,
        "terminals": terminals,
        "can_terminal": can_terminal,
        "activation": activation,
        "error": error,
        "title": "评价渠道",
    }


ACTIVATION_SESSION = "channels_activation"


@page_view("channels")
def channels_page(request):
    actor = staff_actor(request)
    return render(
        request, "channels/channels.html", _channels_context(request, actor, _pending_activation(request))
    )


def _activation(request, device: Device, code: str) -> dict:
    url = request.build_absolute_uri(reverse("channels:activate", args=[code]))
    return {"device": device, "url": url, "qr": qr.qr_svg_inline(url)}


def _pending_activation(request) -> dict | None:
    """The activation link this member of staff just made, shown again on a reload of the page it led to
    while the link can still be used (not spent, not expired, not replaced by a newer one)."""
    held = request.session.get(ACTIVATION_SESSION)
    if not held:
        return None
    device = Device.objects.select_related("hall", "window").filter(code=held.get("device")).first()
    usable = (
        device is not None
        and device.is_active
        and device.activation_hash == devices.secret_digest(held.get("code", ""))
        and device.activation_expires_at is not None
        and device.activation_expires_at > timezone.now()
    )
    if not usable:
        request.session.pop(ACTIVATION_SESSION, None)
        return None
    return _activation(request, device, held["code"])


def _device_action(request, fn):
    """A device step posted from the channels page, answered with a redirect (POST-redirect-GET): a reload
    shows the page again and never posts a second time. A new activation link is held in the session for
    the page the redirect leads to."""
    actor = staff_actor(request)
    try:
        device, code = fn(actor)
    except DomainError as exc:
        context = _channels_context(request, actor, error=exc.message)
        return render(request, "channels/channels.html", context, status=exc.status)
    if code is None:
        request.session.pop(ACTIVATION_SESSION, None)
    else:
        request.session[ACTIVATION_SESSION] = {"device": device.code, "code": code}
    return redirect(f"{reverse('channels:channels')}?hall={device.hall_id}")


@login_required
@require_POST
def tablet_register(request, window_code):
    def act(actor):
        window = get_window_for_actor(actor, window_code)
        return devices.tablet_register(actor=actor, window=window)

    return _device_action(request, act)


@login_required
@require_POST
def terminal_register(request, hall_id):
    def act(actor):
        hall = get_hall_for_actor(actor, hall_id)
        return devices.terminal_register(actor=actor, hall=hall)

    return _device_action(request, act)


@login_required
@require_POST
def device_reissue(request, code):
    def act(actor):
        device = get_device_for_actor(actor, code)
        return device, devices.device_reissue(actor=actor, device=device)

    return _device_action(request, act)


@login_required
@require_POST
def device_stop(request, code):
    def act(actor):
        device = get_device_for_actor(actor, code)
        devices.device_stop(actor=actor, device=device)
        return device, None

    return _device_action(request, act)


def _image(data: str, fmt: str, filename: str) -> HttpResponse:
    if fmt == "png":
        response = HttpResponse(qr.qr_png(data), content_type="image/png")
    elif fmt == "svg":
        response = HttpResponse(qr.qr_svg(data), content_type="image/svg+xml")
    else:
        raise InvalidInput("二维码格式应为 png 或 svg", code="invalid_format")
    response["Content-Disposition"] = f'inline; filename="{filename}.{fmt}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def window_qr(request, window_code, fmt):
    window = get_window_for_actor(staff_actor(request), window_code)
    return _image(qr.window_url(window.code), fmt, f"window-{window.code}")


@login_required
def window_sign(request, window_code):
    window = get_window_for_actor(staff_actor(request), window_code)
    url = qr.window_url(window.code)
    return render(request, "channels/sign.html", {"window": window, "qr": qr.qr_svg_inline(url), "url": url})


@login_required
def case_qr(request, case_no, fmt):
    case = get_case_for_actor(staff_actor(request), case_no)
    return _image(links.rating_link_url(case, channel=Channel.QRCODE), fmt, f"case-{case.pk}")


@login_required
def case_notice(request, case_no):
    """A printable 办结通知 with the case's QR code (signed link) for the citizen to rate it."""
    case = get_case_for_actor(staff_actor(request), case_no)
    url = links.rating_link_url(case, channel=Channel.QRCODE)
    context = {"case": case, "applicant": mask_name(case.applicant_name), "qr": qr.qr_svg_inline(url)}
    return render(request, "channels/notice.html", context)


@login_required
def notice_lookup(request):
    staff_actor(request)
    case_no = (request.GET.get("case_no") or "").strip()
    if not case_no:
        raise InvalidInput("请输入办件编号", code="case_no_required")
    return redirect("channels:case_notice", case_no=case_no)
