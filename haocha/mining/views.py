"""The 差评 themes fragment (htmx; loaded by the dashboard) and a page around it."""

from datetime import date, timedelta

from django.shortcuts import render
from django.utils import timezone

from haocha.accounts.access import actor_for_user
from haocha.accounts.menu import page_view
from haocha.analytics.models import Dim
from haocha.analytics.selectors import Period, members_in_scope
from haocha.core.errors import Forbidden, InvalidInput, NotFound
from haocha.mining.text import THEME_RULES_TEXT
from haocha.organisations.models import Organisation

MAX_DAYS = 3 * 366


def parse_period(start: str | None, end: str | None) -> Period:
    """`start`/`end` as YYYY-MM-DD (default: the last 12 months up to today)."""
    today = timezone.localdate()
    try:
        end_d = date.fromisoformat(end) if end else today
        start_d = (
            date.fromisoformat(start)
            if start
            else (end_d.replace(day=1) - timedelta(days=330)).replace(day=1)
        )
    except ValueError as exc:
        raise InvalidInput("日期格式应为 YYYY-MM-DD", code="invalid_date") from exc
    if start_d > end_d:
        raise InvalidInput("开始日期不能晚于结束日期", code="invalid_period")
    if (end_d - start_d).days > MAX_DAYS:
        raise InvalidInput("统计期间不能超过三年", code="period_too_long")
    return Period(start_d, end_d)


def _scope(request):
    """(department ids the user may see or None for all, the chosen department or None)."""
    actor = actor_for_user(request.user)
    raw = request.GET.get("department") or ""
    allowed = None if actor.all_access else set(members_in_scope(actor, Dim.DEPARTMENT))
    if allowed is not None and not allowed:
        raise Forbidden("您没有可查看的部门", code="no_scope")
    if not raw:
        return allowed, None
    if not raw.isdigit():
        raise InvalidInput("部门参数应为编号", code="invalid_department")
    department = Organisation.objects.filter(pk=int(raw), kind=Organisation.Kind.DEPARTMENT).first()
    if department is None or (allowed is not None and department.pk not in allowed):
        raise NotFound("部门不存在或不在您的管辖范围内", code="department_not_found")
    return [department.pk], department


@page_view("mining")
def themes_fragment(request):
    from haocha.mining.selectors import themes_summary

    period = parse_period(request.GET.get("start"), request.GET.get("end"))
    department_ids, department = _scope(request)
    summary = themes_summary(period=period, department_ids=department_ids)
    context = {"summary": summary, "period": period, "department": department, "rules": THEME_RULES_TEXT}
    return render(request, "mining/themes.html", context)


@page_view("mining")
def themes_page(request):
    period = parse_period(request.GET.get("start"), request.GET.get("end"))
    department_ids, department = _scope(request)
    departments = Organisation.objects.filter(kind=Organisation.Kind.DEPARTMENT).order_by(
        "region__code", "name"
    )
    if department_ids is not None and department is None:
        departments = departments.filter(pk__in=department_ids)
    context = {"period": period, "department": department, "departments": departments}
    return render(request, "mining/page.html", context)
