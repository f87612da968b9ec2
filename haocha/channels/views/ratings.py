"""Ratings as supervisors see them: every rating in their organisations with its channel and device, filtered
by period, channel, level, department, hall and window; evaluators masked."""

from datetime import date, datetime, time, timedelta

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from haocha.accounts.access import Actor
from haocha.accounts.menu import check_page
from haocha.channels.citizen import reason_texts
from haocha.channels.models import Device
from haocha.core.errors import InvalidInput
from haocha.core.identity import mask_name
from haocha.core.paging import CappedPaginator
from haocha.evaluations import access
from haocha.evaluations.channels import Channel, channel_code
from haocha.evaluations.levels import ORDERED, Level
from haocha.evaluations.models import Indicator, Rating
from haocha.evaluations.policy import policy_for_region
from haocha.organisations.models import Organisation

PAGE = 50
COUNT_CAP = 10_000  # rows counted and reachable by paging; beyond that the filters must narrow the list
DEFAULT_DAYS = 30


def ratings_actor(request) -> Actor:
    """The signed-in user, if a role of theirs reads ratings (accounts/menu.py, the same roles as the API's
    evaluations.access.READ); the rows are those READ allows in each role's own scope."""
    return check_page(request, "ratings")


EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)  # no rating is older (evaluations refuse them)


def _day(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"{name}格式应为 YYYY-MM-DD", code="invalid_date") from exc
    if not EARLIEST <= day <= LATEST:  # the ends of the calendar overflow once turned into times
        raise InvalidInput(f"{name}应在 {EARLIEST} 至 {LATEST} 之间", code="invalid_date")
    return day


def _int(value: str) -> int | None:
    if not value:
        return None
    try:
        number = int(value)
    except ValueError as exc:
        raise InvalidInput("编号应为整数", code="invalid_id") from exc
    if not 0 < number < 2**62:
        raise InvalidInput("编号超出范围", code="invalid_id")
    return number


def _filters(params) -> dict:
    today = timezone.localdate()
    # from/to, or start/end as the statistics pages link here
    end = _day(params.get("to") or params.get("end", ""), "截止日期") or today
    start = _day(params.get("from") or params.get("start", ""), "起始日期") or end - timedelta(
        days=DEFAULT_DAYS - 1
    )
    if start > end:
        raise InvalidInput("起始日期不能晚于截止日期", code="invalid_period")
    if (end - start).days > 366:
        raise InvalidInput("查询期间不能超过一年", code="period_too_long")
    channel = params.get("channel", "")
    if channel and channel not in Channel.values:
        raise InvalidInput("未知的评价渠道", code="unknown_channel")
    level = params.get("level", "")
    if level and level not in Level.values:
        raise InvalidInput("未知的满意度等级", code="unknown_level")
    return {
        "from": start,
        "to": end,
        "channel": channel,
        "level": level,
        "department": _int(params.get("department", "")),
        "hall": _int(params.get("hall", "")),
        "window": (params.get("window") or "").strip()[:40],  # a window's code, or its id
        "staff": _int(params.get("staff", "")),
        "device": (params.get("device") or "").strip()[:64],
    }


def _apply(qs, f: dict):
    tz = timezone.get_current_timezone()
    qs = qs.filter(
        rated_at__gte=datetime.combine(f["from"], time.min, tzinfo=tz),
        rated_at__lt=datetime.combine(f["to"] + timedelta(days=1), time.min, tzinfo=tz),
    )
    if f["channel"]:
        qs = qs.filter(channel=f["channel"])
    if f["level"]:
        qs = qs.filter(level=f["level"])
    if f["department"]:
        qs = qs.filter(department_id=f["department"])
    if f["hall"]:
        qs = qs.filter(hall_id=f["hall"])
    if f["window"]:
        window = f["window"]
        qs = qs.filter(window_id=_int(window)) if window.isdigit() else qs.filter(window__code=window)
    if f["staff"]:
        qs = qs.filter(staff_id=f["staff"])
    if f["device"]:
        qs = qs.filter(device_id=f["device"])
    return qs


@login_required
def rating_list(request):
    actor = ratings_actor(request)
    error, status, page, f = None, 200, None, None
    try:
        f = _filters(request.GET)
    except InvalidInput as exc:
        error, status = exc.message, exc.status
    if f is not None:
        qs = _apply(access.ratings_for(actor, newest_first=True), f).select_related(
            "department", "hall", "window", "staff", "item", "case"
        )
        paginator = CappedPaginator(qs.order_by("-rated_at", "-id"), PAGE, cap=COUNT_CAP)
        page = paginator.get_page(request.GET.get("page"))
        for r in page.object_list:
            r.evaluator_masked = mask_name(r.evaluator_name)
    readable = Organisation.objects.filter(actor.filter_for(access.READ, "pk"))
    departments = readable.filter(kind=Organisation.Kind.DEPARTMENT).order_by("name")
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "f": f or {},
        "error": error,
        "channels": Channel.choices,
        "levels": [(lv.value, lv.label) for lv in ORDERED],
        "departments": departments,
        "halls": readable.filter(kind__in=Organisation.HALL_KINDS).order_by("region__code", "name"),
        "query": query.urlencode(),
        "title": "评价记录",
    }
    return render(request, "channels/ratings.html", context, status=status)


@login_required
def rating_detail(request, rating_id):
    actor = ratings_actor(request)
    rating = access.get_rating_for(actor, rating_id)
    names = dict(Indicator.objects.filter(indicator_set=rating.indicator_set).values_list("code", "name"))
    indicators = [
        (names.get(code, code), Level(value).label) for code, value in rating.indicator_levels.items()
    ]
    device = Device.objects.filter(code=rating.device_id).first() if rating.device_id else None
    related = (
        Rating.objects.filter(case=rating.case).exclude(pk=rating.pk)
        if rating.case_id
        else Rating.objects.none()
    )
    context = {
        "r": rating,
        "evaluator": mask_name(rating.evaluator_name),
        "indicators": indicators,
        "reasons": reason_texts(rating),
        "device": device,
        "channel_code": channel_code(rating.channel, policy_for_region(rating.region).channel_codes),
        "flags": rating.flags.order_by("created_at"),
        "reply": getattr(rating, "reply", None),
        "order": getattr(rating, "work_order", None),
        "related": related.order_by("kind"),
        "title": "评价详情",
    }
    return render(request, "channels/rating_detail.html", context)
