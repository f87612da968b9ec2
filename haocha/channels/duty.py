"""Who is on duty at a window (上岗/离岗) and which case is being served there (叫号系统 or the clerk)."""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from haocha.accounts.access import Actor
from haocha.catalogue.caseno import normalise_case_no
from haocha.catalogue.selectors import get_case_for_actor
from haocha.channels.models import ServedCase, WindowDuty
from haocha.core.errors import Conflict, Forbidden, NotFound
from haocha.evaluations import rules
from haocha.evaluations.models import Rating
from haocha.evaluations.policy import policy_for_region
from haocha.evaluations.services import case_snapshot
from haocha.organisations.models import Staff, Window

# A case pushed to a window is offered on its tablet for this long at most.
SERVED_CASE_HOURS = 4


def staff_for_user(user) -> Staff:
    """The staff record of a signed-in user (the clerk's own screen works only for window staff)."""
    staff = Staff.objects.filter(user=user, is_active=True).select_related("department").first()
    if staff is None:
        raise Forbidden("您的账号未关联窗口工作人员，无法上岗", code="not_window_staff")
    return staff


def duty_start(*, staff: Staff, window: Window, label: str) -> WindowDuty:
    """Sign a member of staff in at a window; ends their duty elsewhere. Refused if someone else is on duty."""
    if not window.is_active or not staff.windows.filter(pk=window.pk).exists():
        raise Forbidden("您不是该窗口的服务人员", code="not_window_staff")
    now = timezone.now()
    try:
        with transaction.atomic():
            WindowDuty.objects.filter(staff=staff, ended_at__isnull=True).exclude(window=window).update(
                ended_at=now, ended_by=label
            )
            current = WindowDuty.objects.filter(window=window, ended_at__isnull=True).first()
            if current is not None:
                if current.staff_id == staff.pk:
                    return current
                raise Conflict(
                    f"{current.staff.name}（{current.staff.staff_no}）正在该窗口上岗，请其先离岗",
                    code="window_occupied",
                )
            return WindowDuty.objects.create(window=window, staff=staff, started_at=now, started_by=label)
    except IntegrityError as exc:
        raise Conflict("该窗口刚有人上岗，请刷新后重试", code="window_occupied") from exc


def duty_end(*, staff: Staff, label: str) -> int:
    """Sign out (离岗); the case being served at that window is cleared too."""
    now = timezone.now()
    with transaction.atomic():
        windows = list(
            WindowDuty.objects.filter(staff=staff, ended_at__isnull=True).values_list("window_id", flat=True)
        )
        ended = WindowDuty.objects.filter(staff=staff, ended_at__isnull=True).update(
            ended_at=now, ended_by=label
        )
        ServedCase.objects.filter(window_id__in=windows, cleared_at__isnull=True).update(cleared_at=now)
    return ended


def current_duty(staff: Staff) -> WindowDuty | None:
    return (
        WindowDuty.objects.select_related("window", "window__hall")
        .filter(staff=staff, ended_at__isnull=True)
        .first()
    )


def duty_at(window: Window, moment: datetime) -> WindowDuty | None:
    """The duty covering a moment at a window (a rating sent late still goes to whoever was on duty)."""
    return (
        WindowDuty.objects.select_related("staff")
        .filter(window=window, started_at__lte=moment)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=moment))
        .order_by("-started_at")
        .first()
    )


def served_set(*, actor: Actor, window: Window, case_no: str, source: str) -> ServedCase:
    """The case now being served at a window. The case must be one the actor may see, finished and unrated:
    an unfinished case is rated after it ends (QR code, SMS) and the visit meanwhile as 一次一评."""
    case = get_case_for_actor(actor, case_no)
    if case.department_id != window.department_id and case.hall_id != window.hall_id:
        raise Conflict("该办件不属于本窗口所在大厅或进驻部门", code="case_not_at_window")
    try:
        rules.open_for_rating(case_snapshot(case), policy_for_region(case.region), timezone.now())
    except rules.RuleError as exc:
        if exc.code == "case_not_finished":
            raise Conflict(f"{exc.message}；本次服务可按“一次一评”评价", code=exc.code) from exc
        raise
    if Rating.objects.filter(case=case, kind=Rating.Kind.FIRST).exists():
        rules.refuse("already_rated")
    now = timezone.now()
    try:
        with transaction.atomic():
            ServedCase.objects.filter(window=window, cleared_at__isnull=True).update(cleared_at=now)
            return ServedCase.objects.create(
                window=window, case=case, source=source, set_by=actor.label[:150], set_at=now
            )
    except IntegrityError as exc:
        raise Conflict("该窗口的在办办件刚被更新，请重试", code="served_case_changed") from exc


def served_clear(*, window: Window) -> int:
    return ServedCase.objects.filter(window=window, cleared_at__isnull=True).update(cleared_at=timezone.now())


def served_now(window: Window) -> ServedCase | None:
    since = timezone.now() - timedelta(hours=SERVED_CASE_HOURS)
    return (
        ServedCase.objects.select_related("case", "case__item", "case__department")
        .filter(window=window, cleared_at__isnull=True, set_at__gte=since)
        .first()
    )


def served_between(window: Window, case_no: str, moment: datetime) -> ServedCase | None:
    """The record that this case was served at this window around a moment (a tablet's claim is checked)."""
    served = (
        ServedCase.objects.select_related("case")
        .filter(
            window=window, case__case_no=normalise_case_no(case_no), set_at__lte=moment + timedelta(minutes=5)
        )
        .filter(set_at__gte=moment - timedelta(hours=SERVED_CASE_HOURS))
        .order_by("-set_at")
        .first()
    )
    if served is None:
        raise NotFound("该办件不是本窗口正在办理的办件", code="case_not_served")
    return served
