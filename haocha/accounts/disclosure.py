"""Staff seeing a rater's personal data in full (查看评价人身份, 查看联系方式): a purpose for every look, an audit
entry for every look, and a daily quota per member of staff — the nearest 个人信息查看规则 up the region tree of
the data's region. The look that would pass the quota is refused (429) and the supervisors over the data's
organisation get one in-app message a day about that member of staff.

Every look counts against the same quota, whatever path it takes (the ratings API, the work-order workbench).
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from haocha.accounts.access import Actor
from haocha.accounts.models import DisclosurePolicy, Role, User
from haocha.accounts.recipients import administrators, role_holders
from haocha.core import clock
from haocha.core.audit import audit_record
from haocha.core.errors import DomainError, InvalidInput
from haocha.core.models import AuditLog
from haocha.core.outbox import outbox_enqueue
from haocha.organisations.models import Region
from haocha.organisations.policies import nearest_policy

DEFAULT_DAILY_LIMIT = 20
PURPOSE_MIN, PURPOSE_MAX = 2, 200


class QuotaExceeded(DomainError):
    status = 429
    code = "disclosure_quota_exceeded"

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after)}


def daily_limit(region: Region | None) -> int:
    row = nearest_policy(DisclosurePolicy, region)
    return DEFAULT_DAILY_LIMIT if row is None else row.daily_limit


def _day_start(now: datetime) -> datetime:
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


def looks_today(user, now: datetime | None = None) -> int:
    """How many times this user has seen personal data in full today (local day)."""
    now = now or clock.now()
    return AuditLog.objects.filter(
        action=AuditLog.Action.IDENTITY_READ, actor=user, at__gte=_day_start(now)
    ).count()


def checked_purpose(purpose: str, what: str) -> str:
    purpose = " ".join((purpose or "").split())
    if len(purpose) < PURPOSE_MIN:
        raise InvalidInput(f"{what}须说明用途（至少{PURPOSE_MIN}个字）", code="purpose_required")
    if len(purpose) > PURPOSE_MAX:
        raise InvalidInput(f"用途不能超过{PURPOSE_MAX}字", code="purpose_too_long")
    return purpose


def personal_data_disclose(
    *,
    actor: Actor,
    obj,
    region: Region | None,
    org_ids,
    what: str,
    fields: tuple[str, ...],
    purpose: str,
    request=None,
) -> None:
    """Record one look at personal data in full, or refuse it when the user's quota for today is used up.

    `obj` is what is looked at (its audit object), `region` the region of the data (its policy sets the
    quota), `org_ids` the organisations it belongs to (their supervisors hear of a quota reached), `what`
    the look in words ("查看评价人身份") and `fields` the fields shown. The caller checks the permission
    first and shows the data only when this returns."""
    purpose = checked_purpose(purpose, what)
    user = actor.user
    if user is None:
        raise InvalidInput("只有工作人员本人可以查看个人信息", code="disclosure_needs_user")
    limit = daily_limit(region)
    now = clock.now()
    with transaction.atomic():
        # One look at a time per user, so that concurrent requests cannot pass the quota together.
        User.objects.select_for_update().filter(pk=user.pk).exists()
        used = looks_today(user, now)
        allowed = used < limit
        if allowed:
            audit_record(
                action=AuditLog.Action.IDENTITY_READ,
                actor=user,
                actor_label=actor.label,
                obj=obj,
                summary=f"{what}：{purpose}",
                detail={"purpose": purpose, "fields": list(fields), "look": used + 1, "daily_limit": limit},
                request=request,
            )
    if allowed:
        return
    _tell_supervisors(
        user=user, actor=actor, org_ids=org_ids, limit=limit, what=what, purpose=purpose, now=now
    )
    tomorrow = _day_start(now) + timedelta(days=1)
    raise QuotaExceeded(
        f"您今日查看个人信息已达上限（每日{limit}次），请明日再查看；确有需要请联系监管人员",
        retry_after=max(1, int((tomorrow - now).total_seconds())),
    )


def _tell_supervisors(*, user, actor: Actor, org_ids, limit: int, what: str, purpose: str, now) -> None:
    """One in-app message a day per member of staff who reached the quota, to the supervisors over the data
    (administrators when there are none); delivered by the worker through the outbox."""
    recipients = [pk for pk in role_holders([o for o in org_ids if o], (Role.SUPERVISOR,)) if pk != user.pk]
    recipients = recipients or [pk for pk in administrators() if pk != user.pk]
    if not recipients:
        return
    day = timezone.localtime(now).date()
    key = f"disclosure-quota:{user.pk}:{day:%Y-%m-%d}"
    outbox_enqueue(
        topic="staff.notify",
        key=key,
        payload={
            "user_ids": recipients,
            "key": key,
            "title": f"{user} 今日查看个人信息已达上限",
            "body": f"{user}（{user.get_username()}）于 {day:%Y-%m-%d} 查看评价人个人信息已达每日上限 {limit} 次，"
            f"仍在请求{what}（用途：{purpose}），已被拒绝。请核实其用途是否正当。",
            "link": f"/admin/core/auditlog/?action__exact=identity_read&q={user.get_username()}",
        },
    )
