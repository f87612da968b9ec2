"""Request throttles kept in the database, so every server process counts the same requests."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from haocha.channels.models import Throttle
from haocha.core.errors import DomainError


class TooManyRequests(DomainError):
    status = 429
    code = "too_many_requests"


def throttle_hit(key: str, *, limit: int, seconds: int, message: str) -> None:
    """Count one request under `key`; refuse with 429 once `limit` requests fell in the last window."""
    now = timezone.now()
    key = key[:160]
    with transaction.atomic():
        row = Throttle.objects.select_for_update().filter(key=key).first()
        if row is None:
            try:
                with transaction.atomic():
                    Throttle.objects.create(key=key, window_start=now, count=1)
                return
            except IntegrityError:  # another process created it first
                row = Throttle.objects.select_for_update().get(key=key)
        if row.window_start <= now - timedelta(seconds=seconds):
            Throttle.objects.filter(pk=row.pk).update(window_start=now, count=1)
            return
        if row.count >= limit:
            raise TooManyRequests(message)
        Throttle.objects.filter(pk=row.pk).update(count=row.count + 1)


def throttle_check(key: str, *, limit: int, seconds: int, message: str) -> None:
    """Refuse with 429 once `limit` events were counted under `key` in the current window (nothing counted)."""
    if throttle_count(key, seconds=seconds) >= limit:
        raise TooManyRequests(message)


def throttle_count(key: str, *, seconds: int) -> int:
    """Requests counted under `key` in the current window (0 once the window has passed)."""
    row = Throttle.objects.filter(key=key[:160]).first()
    if row is None or row.window_start <= timezone.now() - timedelta(seconds=seconds):
        return 0
    return row.count


KEEP = timedelta(days=1)  # longer than any window a throttle or a code limit counts over (an hour)


def channels_housekeeping(*, now=None) -> dict:
    """Delete throttle counters and verification codes nobody can count or use any more."""
    from haocha.channels.models import VerificationCode

    cutoff = (now or timezone.now()) - KEEP
    throttles, _ = Throttle.objects.filter(window_start__lt=cutoff).delete()
    codes, _ = VerificationCode.objects.filter(expires_at__lt=cutoff).delete()
    return {"throttles": throttles, "codes": codes}
