"""The assessment pages: the yearly table beside its rule (/assessment/), its workbook, and the records
pushed to the 成效管理系统 with their state (/assessment/performance/, 推送 and 重新推送 for administrators)."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from haocha.accounts.access import actor_for_user
from haocha.accounts.menu import check_page, page_view
from haocha.analytics.periods import last_full_month, period_state
from haocha.analytics.templatetags.stats import pct
from haocha.assessment import api, publish, rules
from haocha.assessment import selectors as asel
from haocha.core.errors import Forbidden, InvalidInput
from haocha.integrations.docking.views import manages_upload
from haocha.integrations.performance import delivery
from haocha.integrations.performance.client import configured
from haocha.integrations.performance.models import PerformanceRecord


def _year(value: str | None, default: int) -> int:
    if value in (None, ""):
        return default
    if not value.isdigit():
        raise InvalidInput("year 须为年份数字", code="invalid_year")
    return int(value)


def _rows(a: asel.Assessment) -> list[dict]:
    """The table's cells, formatted: each measure's value (a count or a percentage) and its points."""
    out = []
    for r in a.ranked:
        cells = [
            (r.values[m.key] if m.key == "bad" else pct(r.values[m.key]), f"{r.points[m.key]:.2f}")
            for m in rules.MEASURES
        ]
        out.append(
            {
                "member": r.member,
                "rank": r.rank,
                "name": r.name,
                "n": r.figures.n,
                "cells": cells,
                "total": f"{r.total:.2f}",
            }
        )
    return out


def _chart(a: asel.Assessment) -> dict:
    rows = a.ranked[:30]
    return {
        "labels": [r.name for r in rows],
        "series": [
            {"name": m.heading, "data": [r.points[m.key] for r in rows]}
            for m in rules.MEASURES
            if a.weights[m.key] > 0
        ],
    }


@page_view("assessment")
def index(request):
    actor = actor_for_user(request.user)
    today = timezone.localdate()
    year = _year(request.GET.get("year"), last_full_month(today).year)
    a = api.build(actor, year, request.GET.get("dim"), request.GET.get("region"))
    query = {"year": a.year, "dim": a.dim_key, "region": a.region.code}
    return render(
        request,
        "assessment/index.html",
        {
            "a": a,
            "measures": [(m, a.weights[m.key]) for m in rules.MEASURES],
            "rows": _rows(a),
            "columns": 4 + 2 * len(rules.MEASURES),
            "tabs": [(key, label) for key, (label, _dim) in asel.DIMS.items()],
            "years": range(today.year - 4, today.year + 1),
            "chart": _chart(a),
            "period_state": period_state(a.period, today, "year"),
            "xlsx_url": "/assessment/assessment.xlsx?" + urlencode(query),
            "api_url": "/api/assessment?" + urlencode(query),
            "performance": _sees_records(request),
        },
    )


def _sees_records(request) -> bool:
    """What this system owes the 成效管理系统 covers its whole region: for its administrators and the
    supervisors of that region (as docking's uploads), not for one district's."""
    try:
        actor = check_page(request, "performance")
    except Forbidden:
        return False
    return manages_upload(request, actor)


@page_view("assessment")
def xlsx(request):
    actor = actor_for_user(request.user)
    year = _year(request.GET.get("year"), last_full_month(timezone.localdate()).year)
    return api.xlsx_response(api.build(actor, year, request.GET.get("dim"), request.GET.get("region")))


S = PerformanceRecord.Status


@page_view("performance")
def performance(request):
    if not _sees_records(request):
        raise Forbidden("成效管理系统推送记录仅向系统管理员和本级监管人员开放", code="forbidden")
    records = PerformanceRecord.objects.all()
    status = request.GET.get("status") or ""
    if status in S.values:
        records = records.filter(status=status)
    counts = {
        (k, s): n
        for k, s, n in PerformanceRecord.objects.values_list("kind", "status")
        .annotate(n=Count("pk"))
        .order_by()
    }
    summary = [
        {"label": label, "cells": [counts.get((kind, s), 0) for s, _ in S.choices]}
        for kind, label in PerformanceRecord.Kind.choices
    ]
    page = Paginator(records.order_by("-period", "kind", "unit_kind", "unit_name"), 50).get_page(
        request.GET.get("page")
    )
    today = timezone.localdate()
    return render(
        request,
        "assessment/performance.html",
        {
            "configured": configured(),
            "statuses": S.choices,
            "status": status,
            "summary": summary,
            "page": page,
            "years": range(today.year - 4, today.year + 1),
            "year": last_full_month(today).year,
            "months": range(1, 13),
        },
    )


def _may_push(request):
    if not _sees_records(request):
        raise Forbidden("只有系统管理员或本级监管人员可以推送到成效管理系统", code="forbidden")
    if not configured():
        raise InvalidInput(
            "未配置成效管理系统：须设置 HAOCHA_PERFORMANCE_URL、HAOCHA_PERFORMANCE_APP_ID、HAOCHA_PERFORMANCE_SECRET",
            code="not_configured",
        )


@require_POST
@page_view("performance")
def push(request):
    _may_push(request)
    year = _year(request.POST.get("year"), 0)
    month = request.POST.get("month") or None
    if month is not None and not month.isdigit():
        raise InvalidInput("month 须为 1–12", code="invalid_month")
    which = request.POST.get("what") or "assessment"
    counts = publish.push(
        year=year,
        month=int(month) if month and which == "month" else None,
        assessment=which == "assessment",
    )
    messages.success(
        request,
        f"已排队：新增 {counts['new']} 条、内容变更 {counts['changed']} 条；未变化 {counts['unchanged']} 条不重复推送",
    )
    return redirect("assessment:performance")


@require_POST
@page_view("performance")
def repush(request):
    _may_push(request)
    ids = [int(v) for v in request.POST.getlist("id") if v.isdigit()]
    if not ids:
        messages.error(request, "请选择要重新推送的记录")
        return redirect("assessment:performance")
    n = delivery.requeue(ids)
    messages.success(request, f"已重新排队 {n} 条记录，后台任务将推送")
    return redirect("assessment:performance")
