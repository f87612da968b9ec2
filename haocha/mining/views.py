"""The 差评 mining page for supervisors: the themes fragment (htmx; also loaded by the dashboard), the comments
behind a figure (click-through), the taxonomy, and the Excel export for the monthly 通报."""

from datetime import date, timedelta

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from haocha.accounts.access import actor_for_user
from haocha.accounts.menu import page_view
from haocha.analytics.models import Dim
from haocha.analytics.selectors import Period, members_in_scope
from haocha.catalogue.models import ServiceItem
from haocha.core.errors import Forbidden, InvalidInput, NotFound
from haocha.mining.selectors import (
    UNTHEMED,
    Scope,
    counts_by_unit,
    reply_check,
    theme_comments,
    themes_summary,
)
from haocha.mining.taxonomy import THEMES
from haocha.mining.themes import theme_names
from haocha.organisations.models import Organisation

MAX_DAYS = 3 * 366
PAGE = 20
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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


def _id(request, name: str, label: str) -> int | None:
    raw = request.GET.get(name) or ""
    if not raw:
        return None
    if not raw.isdigit():
        raise InvalidInput(f"{label}参数应为编号", code=f"invalid_{name}")
    return int(raw)


def _scope(request):
    """(department ids the user may see or None for all, the chosen department or None)."""
    actor = actor_for_user(request.user)
    allowed = None if actor.all_access else set(members_in_scope(actor, Dim.DEPARTMENT))
    if allowed is not None and not allowed:
        raise Forbidden("您没有可查看的部门", code="no_scope")
    department_id = _id(request, "department", "部门")
    if department_id is None:
        return allowed, None
    department = Organisation.objects.filter(pk=department_id, kind=Organisation.Kind.DEPARTMENT).first()
    if department is None or (allowed is not None and department.pk not in allowed):
        raise NotFound("部门不存在或不在您的管辖范围内", code="department_not_found")
    return [department.pk], department


def _filters(request) -> dict:
    """The period and scope a request asks for, checked against what the user may see; an item or hall only
    narrows the departments the user may see."""
    period = parse_period(request.GET.get("start"), request.GET.get("end"))
    department_ids, department = _scope(request)
    item = hall = None
    item_id = _id(request, "item", "事项")
    if item_id is not None:
        item = ServiceItem.objects.filter(pk=item_id).first()
        if item is None:
            raise NotFound("事项不存在", code="item_not_found")
    hall_id = _id(request, "hall", "大厅")
    if hall_id is not None:
        hall = Organisation.objects.filter(pk=hall_id, kind__in=Organisation.HALL_KINDS).first()
        if hall is None:
            raise NotFound("大厅不存在", code="hall_not_found")
    scope = Scope(
        None if department_ids is None else tuple(department_ids),
        item.pk if item else None,
        hall.pk if hall else None,
    )
    query = {"start": period.start.isoformat(), "end": period.end.isoformat()}
    for key, obj in (("department", department), ("item", item), ("hall", hall)):
        if obj is not None:
            query[key] = obj.pk
    return {
        "period": period,
        "scope": scope,
        "department": department,
        "item": item,
        "hall": hall,
        "query": query,
    }


def _query_string(query: dict, **extra) -> str:
    from urllib.parse import urlencode

    return urlencode({**query, **extra})


@page_view("mining")
def themes_fragment(request):
    f = _filters(request)
    summary = themes_summary(period=f["period"], scope=f["scope"])
    context = {
        **f,
        "summary": summary,
        "qs": _query_string(f["query"]),
        "by_department": counts_by_unit(period=f["period"], scope=f["scope"], dim="department"),
        "by_item": counts_by_unit(period=f["period"], scope=f["scope"], dim="item"),
        "taxonomy": THEMES,
        "unthemed_code": UNTHEMED,
    }
    return render(request, "mining/themes.html", context)


@page_view("mining")
def themes_page(request):
    f = _filters(request)
    department_ids = f["scope"].department_ids
    departments = Organisation.objects.filter(kind=Organisation.Kind.DEPARTMENT).order_by(
        "region__code", "name"
    )
    if department_ids is not None and f["department"] is None:
        departments = departments.filter(pk__in=department_ids)
    halls = Organisation.objects.filter(kind__in=Organisation.HALL_KINDS).order_by("region__code", "name")
    context = {**f, "departments": departments, "halls": halls, "qs": _query_string(f["query"])}
    return render(request, "mining/page.html", context)


def _theme(request) -> tuple[str, str]:
    code = request.GET.get("theme") or ""
    if code == UNTHEMED:
        return code, "未归类"
    names = theme_names()
    if code not in names:
        raise InvalidInput("主题参数不正确", code="invalid_theme")
    return code, names[code]


@page_view("mining")
def comments_page(request):
    """The comments behind a theme's count for a unit and period (anonymised), 20 a page."""
    f = _filters(request)
    code, name = _theme(request)
    raw = request.GET.get("offset") or "0"
    if not raw.isdigit():
        raise InvalidInput("offset 应为非负整数", code="invalid_offset")
    offset = int(raw)
    page = theme_comments(period=f["period"], scope=f["scope"], theme=code, offset=offset, limit=PAGE)
    context = {
        **f,
        "theme_code": code,
        "theme_name": name,
        "page": page,
        "back": _query_string(f["query"]),
        "next_qs": _query_string(f["query"], theme=code, offset=offset + PAGE)
        if offset + PAGE < page["total"]
        else "",
        "prev_qs": _query_string(f["query"], theme=code, offset=max(0, offset - PAGE)) if offset else "",
    }
    template = "mining/comments_rows.html" if request.headers.get("HX-Request") else "mining/comments.html"
    return render(request, template, context)


@page_view("mining")
def export_xlsx(request):
    """The mining results of a period and scope as a workbook for the monthly 通报."""
    from haocha.mining.excel import mining_workbook

    f = _filters(request)
    summary = themes_summary(period=f["period"], scope=f["scope"], examples=5)
    data = {
        **f,
        "summary": summary,
        "by_department": counts_by_unit(period=f["period"], scope=f["scope"], dim="department", top=100),
        "by_item": counts_by_unit(period=f["period"], scope=f["scope"], dim="item", top=100),
    }
    response = HttpResponse(mining_workbook(data), content_type=XLSX)
    name = f"mining-{f['period'].start:%Y%m%d}-{f['period'].end:%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@page_view("mining")
def replies_page(request):
    """处置质量核查: closed 差评 orders whose reply does not address the complaint's themes, per department."""
    f = _filters(request)
    context = {
        **f,
        "check": reply_check(period=f["period"], scope=f["scope"]),
        "back": _query_string(f["query"]),
    }
    return render(request, "mining/replies.html", context)
