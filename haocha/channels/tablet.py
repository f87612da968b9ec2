"""The window tablet (评价器): what it shows, and a rating from it, delivered exactly once however often
the tablet resends it after a network loss."""

import math
import re
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from haocha.accounts.access import Actor
from haocha.channels import duty
from haocha.channels.devices import interval_seconds
from haocha.channels.models import Device, ServedCase
from haocha.core.errors import DomainError, InvalidInput
from haocha.core.identity import mask_name
from haocha.evaluations.channels import Channel
from haocha.evaluations.levels import Level
from haocha.evaluations.models import Rating
from haocha.evaluations.rules import RatingInput
from haocha.evaluations.services import rating_submit

# A pending rating older than this (the tablet was offline that long) is refused rather than back-dated.
MAX_DELAY = timedelta(hours=72)
CLIENT_KEY_RE = re.compile(r"^[0-9A-Za-z-]{16,40}$")


class TooSoon(DomainError):
    status = 429
    code = "too_soon"


@dataclass
class TabletRating:
    key: str
    level: str
    reasons: list = field(default_factory=list)
    comment: str = ""
    # How long ago the citizen pressed, in ms, as the tablet sent it (its own clock may be wrong; a duration
    # is not): checked by press_delay().
    age_ms: object = 0
    case_no: str = ""


def press_delay(age_ms) -> timedelta:
    """The delay a tablet states: a JSON number of milliseconds, 0 or more (absent or null: 0), at most
    MAX_DELAY; anything else (text, true, NaN, Infinity, a negative number) is refused."""
    if age_ms is None:
        return timedelta(0)
    if (
        isinstance(age_ms, bool)
        or not isinstance(age_ms, int | float)
        or not math.isfinite(age_ms)
        or age_ms < 0
    ):
        raise InvalidInput("评价时间 age_ms 应为不小于0的毫秒数", code="invalid_age")
    if age_ms > MAX_DELAY / timedelta(milliseconds=1):
        raise InvalidInput("该评价离线超过72小时未能送达，不再受理", code="rating_too_old")
    return timedelta(milliseconds=age_ms)


def rating_key(device: Device, client_key: str) -> str:
    if not CLIENT_KEY_RE.match(client_key or ""):
        raise InvalidInput("评价编号格式不正确", code="invalid_key")
    return f"t{device.pk}:{client_key}"


def _window_actor(device: Device, case=None) -> Actor:
    window = device.window
    orgs = {window.hall_id}
    if window.department_id:
        orgs.add(window.department_id)
    if case is not None:
        orgs.add(case.department_id)
        if case.hall_id:
            orgs.add(case.hall_id)
    return Actor(label=f"窗口评价器 {device.code}", org_ids=frozenset(orgs))


def tablet_rating_submit(*, device: Device, data: TabletRating, client_ip: str | None) -> tuple[Rating, bool]:
    """Store a rating pressed on a tablet; a resend (same key, same rating) returns the original, through the
    rule book's repeat rule. Returns (rating, created)."""
    key = rating_key(device, data.key)
    try:
        level = Level(data.level)
    except ValueError as exc:
        raise InvalidInput("无法识别的满意度等级", code="unknown_level") from exc
    now = timezone.now()
    rated_at = now - press_delay(data.age_ms)
    window = device.window
    interval = timedelta(seconds=interval_seconds(device))
    with transaction.atomic():
        # One device at a time: the interval check and the insert are not raced by a second request.
        Device.objects.select_for_update().filter(pk=device.pk).first()
        if interval and (
            Rating.objects.filter(
                device_id=device.code, rated_at__gt=rated_at - interval, rated_at__lt=rated_at + interval
            )
            .exclude(idempotency_scope="public", idempotency_key=key)  # its own earlier delivery
            .exists()
        ):
            raise TooSoon(
                f"评价过于频繁：同一评价器两次评价至少间隔{int(interval.total_seconds())}秒，请稍后再评价"
            )
        served = duty.served_between(window, data.case_no, rated_at) if data.case_no else None
        case = served.case if served else None
        on_duty = duty.duty_at(window, rated_at)
        rating, created = rating_submit(
            actor=_window_actor(device, case),
            data=RatingInput(
                channel=Channel.TABLET,
                level=level,
                case_no=case.case_no if case else "",
                window_code=window.code,
                staff_no=on_duty.staff.staff_no if on_duty else "",
                reasons=list(data.reasons or []),
                comment=data.comment or "",
                rated_at=rated_at,
                client_ip=client_ip,
                device_id=device.code,
                idempotency_key=key,
            ),
        )
        if created:
            if served is not None:
                ServedCase.objects.filter(pk=served.pk, cleared_at__isnull=True).update(cleared_at=now)
            Device.objects.filter(pk=device.pk).update(last_rating_at=now)
    return rating, created


def tablet_state(device: Device) -> dict:
    """What the tablet shows now: hall, window, staff on duty and the case being served (masked)."""
    window = device.window
    on_duty = duty.duty_at(window, timezone.now())
    served = duty.served_now(window)
    staff = None
    if on_duty is not None:
        s = on_duty.staff
        staff = {
            "name": s.name,
            "staff_no": s.staff_no,
            "title": s.title,
            "photo": s.photo.url if s.photo else "",
            "initial": s.name[:1],
        }
    case = None
    if served is not None:
        c = served.case
        case = {
            "case_no": c.case_no,
            "item": c.item.name,
            "department": c.department.name,
            "applicant": mask_name(c.applicant_name),
        }
    return {
        "hall": window.hall.name,
        "window_number": window.number,
        "window_name": window.name,
        "department": window.department.name if window.department_id else "",
        "staff": staff,
        "case": case,
        "interval_seconds": interval_seconds(device),
    }
