"""The SMS policy in force for a region (nearest SmsPolicy up the tree, else the settings) and quiet hours."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from haocha.integrations.sms import texts
from haocha.integrations.sms.models import SmsPolicy
from haocha.organisations.models import Region
from haocha.organisations.policies import nearest_policy


def parse_quiet_hours(value: str) -> tuple[time, time] | None:
    """'21:00-08:00' → (21:00, 08:00); '' or 'off' → None (no quiet hours)."""
    value = (value or "").strip()
    if value.lower() in ("", "off", "none", "0"):
        return None
    try:
        start, end = (time.fromisoformat(part.strip()) for part in value.split("-"))
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"HAOCHA_SMS_QUIET_HOURS 应为“HH:MM-HH:MM”（例如 21:00-08:00）或 off，而不是 {value!r}"
        ) from exc
    return (start, end) if start != end else None


@dataclass(frozen=True)
class EffectiveSmsPolicy:
    invitations_enabled: bool
    quiet: tuple[time, time] | None
    reminder_after_hours: int
    expire_after_days: int
    invitation_template: str
    reminder_template: str

    def next_send_time(self, moment: datetime) -> datetime:
        """`moment` itself, or the end of the quiet hours it falls in (Beijing time)."""
        if self.quiet is None:
            return moment
        start, end = self.quiet
        local = timezone.localtime(moment)
        t = local.time()
        quiet = (start <= t < end) if start < end else (t >= start or t < end)
        if not quiet:
            return moment
        wake = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
        if wake <= local:
            wake += timedelta(days=1)
        return wake

    def is_quiet(self, moment: datetime) -> bool:
        return self.next_send_time(moment) != moment


def settings_policy() -> EffectiveSmsPolicy:
    return EffectiveSmsPolicy(
        invitations_enabled=settings.HAOCHA_SMS_INVITATIONS,
        quiet=parse_quiet_hours(settings.HAOCHA_SMS_QUIET_HOURS),
        reminder_after_hours=settings.HAOCHA_SMS_REMINDER_HOURS,
        expire_after_days=max(1, settings.HAOCHA_SMS_EXPIRE_DAYS),
        invitation_template=texts.INVITATION,
        reminder_template=texts.REMINDER,
    )


def _from_row(row: SmsPolicy) -> EffectiveSmsPolicy:
    return EffectiveSmsPolicy(
        invitations_enabled=row.invitations_enabled,
        quiet=(row.quiet_start, row.quiet_end) if row.quiet_start != row.quiet_end else None,
        reminder_after_hours=row.reminder_after_hours,
        expire_after_days=max(1, row.expire_after_days),
        invitation_template=row.invitation_template or texts.INVITATION,
        reminder_template=row.reminder_template or texts.REMINDER,
    )


def sms_policy_for(region: Region) -> EffectiveSmsPolicy:
    """The SMS policy in force for a region: the nearest SmsPolicy up the tree, else the settings."""
    row = nearest_policy(SmsPolicy, region)
    return _from_row(row) if row is not None else settings_policy()
