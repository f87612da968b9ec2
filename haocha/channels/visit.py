"""A window's QR code: the citizen rates the visit (一次一评) or goes on to rate their case."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from haocha.accounts.access import Actor
from haocha.channels import duty
from haocha.channels.citizen import RatingForm
from haocha.channels.qr import window_code_from_token
from haocha.core.errors import DomainError, NotFound
from haocha.evaluations.channels import Channel
from haocha.evaluations.models import Rating
from haocha.evaluations.rules import RatingInput
from haocha.evaluations.services import rating_submit
from haocha.organisations.models import Window


def window_from_token(token: str) -> Window:
    code = window_code_from_token(token)
    window = (
        Window.objects.select_related("hall", "department").filter(code=code, is_active=True).first()
        if code
        else None
    )
    if window is None:
        raise NotFound("二维码无效或窗口已停用", code="link_invalid")
    return window


def qr_visit_rate(*, window: Window, form: RatingForm, client_ip: str | None) -> tuple[Rating, bool]:
    """A 一次一评 rating of a window visit through its QR code; one per address and window per interval. The
    same form sent again (same key, same rating) is answered with the original by the rule book."""
    key = f"q:{form.key}" if form.key else ""
    interval = timedelta(seconds=settings.HAOCHA_QR_VISIT_INTERVAL_SECONDS)
    now = timezone.now()
    with transaction.atomic():
        Window.objects.select_for_update().filter(pk=window.pk).first()
        recent = Rating.objects.filter(
            window=window,
            channel=Channel.QRCODE,
            case__isnull=True,
            client_ip=client_ip,
            rated_at__gt=now - interval,
        )
        if key:
            recent = recent.exclude(
                idempotency_scope="public", idempotency_key=key
            )  # its own earlier delivery
        if client_ip and interval and recent.exists():
            minutes = max(1, int(interval.total_seconds() // 60))
            raise DomainError(
                f"您刚刚已评价过本窗口，{minutes}分钟内请勿重复评价", code="too_soon", status=429
            )
        on_duty = duty.duty_at(window, now)
        orgs = {window.hall_id} | ({window.department_id} if window.department_id else set())
        return rating_submit(
            actor=Actor(label="办事群众（窗口二维码）", org_ids=frozenset(orgs)),
            data=RatingInput(
                channel=Channel.QRCODE,
                level=form.level,
                window_code=window.code,
                staff_no=on_duty.staff.staff_no if on_duty else "",
                indicators=form.indicators,
                reasons=form.reasons,
                comment=form.comment,
                client_ip=client_ip,
                idempotency_key=key,
            ),
        )
