"""Registered devices: staff register a tablet for a window (or a terminal for a hall) and hand it its secret
through a single-use activation link; the device then proves itself with a long-lived cookie."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from haocha.accounts.access import Actor
from haocha.accounts.models import Role
from haocha.channels.models import Device
from haocha.core.errors import Conflict, DomainError, Forbidden, NotFound
from haocha.organisations.models import Organisation, Window

COOKIE = "hc_device"
COOKIE_AGE = 5 * 365 * 24 * 3600
ACTIVATION_MINUTES = 30
# Who may register, activate and stop devices: the hall's window staff and administrators of the hall or
# the department at the window. Supervisors see devices but do not manage them.
MANAGER_ROLES = (Role.WINDOW_CLERK, Role.DEPARTMENT_ADMIN)


def secret_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def can_manage_window(actor: Actor, window: Window) -> bool:
    return actor.can_act(MANAGER_ROLES, window.hall_id) or actor.can_act(MANAGER_ROLES, window.department_id)


def can_manage_hall(actor: Actor, hall: Organisation) -> bool:
    return actor.can_act(MANAGER_ROLES, hall.pk)


def interval_seconds(device: Device) -> int:
    if device.min_interval_seconds is not None:
        return device.min_interval_seconds
    return settings.HAOCHA_TABLET_MIN_INTERVAL_SECONDS


def _free_code(base: str) -> str:
    """A device code not used yet: the base (the code ratings carry as device_id), then base-2, base-3..."""
    taken = set(Device.objects.filter(code__startswith=base[:44]).values_list("code", flat=True))
    code, n = base[:44], 1
    while code in taken:
        n += 1
        code = f"{base[:44]}-{n}"
    return code


def _issue_activation(device: Device) -> str:
    code = secrets.token_urlsafe(18)
    device.activation_hash = secret_digest(code)
    device.activation_expires_at = timezone.now() + timedelta(minutes=ACTIVATION_MINUTES)
    Device.objects.filter(pk=device.pk).update(
        activation_hash=device.activation_hash, activation_expires_at=device.activation_expires_at
    )
    return code


@transaction.atomic
def tablet_register(*, actor: Actor, window: Window) -> tuple[Device, str]:
    """The window's tablet (created on first use) with a fresh activation code; returns (device, code)."""
    if not can_manage_window(actor, window):
        raise Forbidden("只有本大厅窗口人员或部门管理员可以登记评价器", code="device_not_allowed")
    device = Device.objects.select_for_update().filter(window=window, kind=Device.Kind.TABLET, is_active=True)
    device = device.first()
    if device is None:
        try:
            with transaction.atomic():
                device = Device.objects.create(
                    code=_free_code(f"PJQ-{window.code}"),
                    kind=Device.Kind.TABLET,
                    hall_id=window.hall_id,
                    window=window,
                    registered_by=actor.user,
                )
        except IntegrityError as exc:
            raise Conflict("该窗口的评价器刚由他人登记，请刷新后重试", code="device_exists") from exc
    return device, _issue_activation(device)


@transaction.atomic
def terminal_register(*, actor: Actor, hall: Organisation) -> tuple[Device, str]:
    """A new self-service terminal in a hall, with its activation code."""
    if not hall.is_hall:
        raise NotFound("大厅不存在", code="hall_not_found")
    if not can_manage_hall(actor, hall):
        raise Forbidden("只有本大厅窗口人员可以登记自助终端", code="device_not_allowed")
    seq = Device.objects.filter(hall=hall, kind=Device.Kind.TERMINAL).count() + 1
    device = Device.objects.create(
        code=_free_code(f"ZZ-{hall.region.code}-{hall.pk}-{seq:02d}"),
        kind=Device.Kind.TERMINAL,
        hall=hall,
        registered_by=actor.user,
    )
    return device, _issue_activation(device)


def device_reissue(*, actor: Actor, device: Device) -> str:
    """A fresh activation code for a registered device (a replaced tablet); the old secret keeps working
    until the new one is activated."""
    _check_manage(actor, device)
    if not device.is_active:
        raise Conflict("该设备已停用", code="device_inactive")
    return _issue_activation(device)


def _check_manage(actor: Actor, device: Device) -> None:
    allowed = (
        can_manage_window(actor, device.window)
        if device.window_id
        else actor.can_act(MANAGER_ROLES, device.hall_id)
    )
    if not allowed:
        raise Forbidden("无权管理该设备", code="device_not_allowed")


def device_stop(*, actor: Actor, device: Device) -> None:
    """Stop a device (lost or replaced): its cookie stops working at once."""
    _check_manage(actor, device)
    Device.objects.filter(pk=device.pk).update(is_active=False, secret_hash="", activation_hash="")


def device_activate(*, code: str) -> tuple[Device, str]:
    """Exchange a valid activation code for the device's new secret (once); the code is spent."""
    digest = secret_digest(code or "")
    now = timezone.now()
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        device = (
            Device.objects.select_for_update()
            .filter(activation_hash=digest, is_active=True)
            .exclude(activation_hash="")
            .first()
        )
        if device is None:
            raise NotFound("激活链接无效或已使用，请在“评价渠道”页面重新生成", code="activation_invalid")
        if device.activation_expires_at is None or device.activation_expires_at < now:
            raise DomainError("激活链接已过期，请重新生成", code="activation_expired", status=410)
        Device.objects.filter(pk=device.pk).update(
            secret_hash=secret_digest(secret),
            activation_hash="",
            activation_expires_at=None,
            activated_at=now,
        )
    device = Device.objects.select_related("window", "hall").get(pk=device.pk)
    return device, secret


def device_target_path(device: Device) -> str:
    if device.kind == Device.Kind.TABLET:
        return f"/tablet/{device.window.code}/"
    return "/terminal/"


def device_from_request(request, *, kind: str, window_code: str = "") -> Device:
    """The registered device this browser is (by its cookie), of this kind and, for a tablet, this window."""
    raw = request.COOKIES.get(COOKIE, "")
    device = None
    if raw:
        device = (
            Device.objects.select_related("window", "window__hall", "window__department", "hall")
            .filter(secret_hash=secret_digest(raw), is_active=True)
            .exclude(secret_hash="")
            .first()
        )
    if device is None or device.kind != kind or (window_code and device.window.code != window_code):
        what = "该窗口的评价器" if kind == Device.Kind.TABLET else "自助服务终端"
        raise Forbidden(
            f"本设备尚未登记为{what}，请联系窗口工作人员在“评价渠道”页面激活", code="device_not_registered"
        )
    now = timezone.now()
    if device.last_seen_at is None or now - device.last_seen_at > timedelta(minutes=1):
        Device.objects.filter(pk=device.pk).update(last_seen_at=now)
    return device
