"""Monthly 通报 for staff (scoped to the regions they supervise) and the public disclosure site (no login)."""

from datetime import date, timedelta

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from haocha.accounts.access import actor_for_user
from haocha.accounts.menu import page_view
from haocha.accounts.models import Role
from haocha.analytics.figures import Figures
from haocha.analytics.models import Dim
from haocha.analytics.selectors import (
    Period,
    breakdown,
    figures,
    trend,
    visible_regions,
    weights_for,
)
from haocha.catalogue.models import Case, ServiceItem
from haocha.core.errors import Conflict, Forbidden, NotFound
from haocha.organisations.models import Organisation, Region, Window
from haocha.publication.excel import notice_workbook
from haocha.publication.models import Notice
from haocha.publication.selectors import (
    departments_in,
    figure_rows,
    halls_in,
    notice_data,
    parse_month,
    public_reviews,
    ranking,
    region_by_code,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def home(request):
    """The landing page: an overview of the city (counts, level mix, districts), read from the rollups."""
    city = Region.objects.filter(level=Region.Level.CITY).order_by("code").first()
    districts = list(city.children.order_by("code")) if city else []
    counts = {
        "departments": Organisation.objects.filter(kind=Organisation.Kind.DEPARTMENT).count(),
        "halls": Organisation.objects.filter(kind__in=Organisation.HALL_KINDS).count(),
        "windows": Window.objects.count(),
        "items": ServiceItem.objects.count(),
        "cases": Case.objects.count(),
    }
    # The same figures as /public/: the city over the same period, from the rollups (never a scan of ratings).
    period = _public_period()
    totals = figures(Dim.REGION, city.pk, period, weights=weights_for(city)[0]) if city else None
    levels = totals.level_counts if totals else (0, 0, 0, 0, 0)
    keys = ("very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied")
    mix = dict(zip(keys, levels, strict=True))
    total = totals.n if totals else 0
    good_rate = totals.good_rate if totals else None
    bad_rate = totals.bad_rate if totals else None
    context = {
        "city": city,
        "districts": districts,
        "counts": counts,
        "mix": mix,
        "ratings_total": total,
        "good_rate": f"{good_rate:.2%}" if good_rate is not None else "—",
        "bad_rate": f"{bad_rate:.2%}" if bad_rate is not None else "—",
        "period": period,
    }
    return render(request, "haocha/home.html", context)


def _months_back(n: int) -> list[date]:
    m = timezone.localdate().replace(day=1)
    out = []
    for _ in range(n):
        m = (m - timedelta(days=1)).replace(day=1)
        out.append(m)
    return out


def _region_for_staff(user, code: str) -> Region:
    """A region the user supervises (or an administrator); others get 404, as if it did not exist."""
    region = region_by_code(code)
    if region.pk not in {r.pk for r in visible_regions(actor_for_user(user))}:
        raise NotFound("区划不存在或不在您的管辖范围内", code="region_not_found")
    return region


def charts(trend_rows: list[dict], ranked=()) -> dict:
    """Plain data for the ECharts on a page (rendered with json_script)."""
    return {
        "months": [f"{m['month']:%Y-%m}" for m in trend_rows],
        "n": [m["n"] for m in trend_rows],
        "bad": [m["bad"] for m in trend_rows],
        "score": [None if m["score"] is None else round(m["score"], 2) for m in trend_rows],
        "rank_names": [r.name for r in ranked][:15],
        "rank_scores": [round(r.smoothed, 2) for r in ranked][:15],
    }


def _notice_context(data: dict) -> dict:
    windows = data["windows"]
    return {
        **data,
        "charts": charts(data["trend"], data["departments"]),
        "windows_head": windows[:10],
        "windows_tail": windows[10:][-10:],
    }


def _xlsx(data: dict) -> HttpResponse:
    response = HttpResponse(notice_workbook(data), content_type=XLSX)
    name = f"notice-{data['region'].code}-{data['month']:%Y-%m}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@page_view("notices")
def notices_index(request):
    regions = [r for r in visible_regions(actor_for_user(request.user)) if r.level <= Region.Level.COUNTY]
    months = _months_back(12)
    published = set(
        Notice.objects.filter(region__in=regions, month__in=months).values_list("region_id", "month")
    )
    rows = [{"region": r, "months": [(m, (r.pk, m) in published) for m in months]} for r in regions]
    return render(request, "publication/notices_index.html", {"rows": rows, "months": months})


@page_view("notices")
def notice_page(request, code: str, month: str):
    region = _region_for_staff(request.user, code)
    data = notice_data(region, parse_month(month))
    notice = Notice.objects.filter(region=region, month=data["month"]).first()
    actor = actor_for_user(request.user)
    context = {
        **_notice_context(data),
        "public": False,
        "notice": notice,
        "can_publish": actor.has_role(Role.SUPERVISOR)
        and data["month"] < timezone.localdate().replace(day=1),
        "xlsx_url": f"/notices/{region.code}/{data['month']:%Y-%m}/notice.xlsx",
    }
    return render(request, "publication/notice.html", context)


@page_view("notices")
def notice_xlsx(request, code: str, month: str):
    return _xlsx(notice_data(_region_for_staff(request.user, code), parse_month(month)))


@login_required
@require_POST
def notice_publish(request, code: str, month: str):
    region = _region_for_staff(request.user, code)
    if not actor_for_user(request.user).has_role(Role.SUPERVISOR):
        raise Forbidden("只有监督管理人员可以发布通报", code="not_supervisor")
    first = parse_month(month)
    if first >= timezone.localdate().replace(day=1):
        raise Conflict("本月尚未结束，不能发布通报", code="month_not_over")
    Notice.objects.get_or_create(
        region=region, month=first, defaults={"published_at": timezone.now(), "published_by": request.user}
    )
    return redirect(f"/notices/{region.code}/{first:%Y-%m}/")


# --- public site -------------------------------------------------------------------------------------


def _public_period() -> Period:
    """What the home page and /public/ report on: the last twelve months, this one up to today."""
    today = timezone.localdate()
    first = today.replace(day=1)
    for _ in range(11):
        first = (first - timedelta(days=1)).replace(day=1)
    return Period(first, today)


def _city() -> Region:
    city = Region.objects.filter(level=Region.Level.CITY).order_by("code").first()
    city = city or Region.objects.order_by("path").first()
    if city is None:
        raise NotFound("尚无区划数据", code="no_region")
    return city


def _published(code: str, month: str) -> Notice:
    first = parse_month(month)
    notice = Notice.objects.select_related("region").filter(region__code=code, month=first).first()
    if notice is None:
        raise NotFound("该通报尚未发布", code="notice_not_published")
    return notice


def _monthly(dim, member, period, weights) -> list[dict]:
    out = []
    for m, counts in trend(dim, member, period, by_month=True):
        f = Figures(counts, weights)
        out.append({"month": m, "n": f.n, "bad": f.bad, "bad_rate": f.bad_rate, "score": f.score})
    return out


def public_index(request):
    city = _city()
    period = _public_period()
    weights, min_sample, prior_weight = weights_for(city)
    overall = figures(Dim.REGION, city.pk, period, weights=weights)
    dept_names = departments_in(city)
    departments, departments_small, _ = ranking(
        Dim.DEPARTMENT,
        period,
        breakdown(Dim.DEPARTMENT, period, members=dept_names, weights=weights),
        dept_names,
        weights=weights,
        min_sample=min_sample,
        prior_weight=prior_weight,
    )
    hall_names = halls_in(city)
    halls, halls_small, _ = ranking(
        Dim.HALL,
        period,
        breakdown(Dim.HALL, period, members=hall_names, weights=weights),
        hall_names,
        weights=weights,
        min_sample=min_sample,
        prior_weight=prior_weight,
    )
    listing = _department_listing(request, departments + departments_small)
    context = {
        "city": city,
        "period": period,
        "figure_rows": figure_rows(overall),
        **listing,
        "halls": halls + halls_small,
        "min_sample": min_sample,
        "prior_weight": prior_weight,
        "charts": charts(_monthly(Dim.REGION, city.pk, period, weights), departments),
        "notices": Notice.objects.select_related("region").order_by("-month", "region__code")[:12],
    }
    return render(request, "publication/public_index.html", context)


PUBLIC_PAGE = 20


def _department_listing(request, rows: list) -> dict:
    """The departments of the public ranking, searched by name (?q=) and paged (?page=): 68 departments are
    one long table on a phone. Ranks are those of the whole ranking, not of the search."""
    query = (request.GET.get("q") or "").strip()[:40]
    found = [r for r in rows if query in r.name] if query else rows
    page = Paginator(found, PUBLIC_PAGE).get_page(request.GET.get("page"))
    return {
        "departments": list(page.object_list),
        "department_page": page,
        "department_total": len(rows),
        "department_query": query,
    }


def public_notices(request):
    notices = Notice.objects.select_related("region").order_by("-month", "region__code")[:200]
    return render(request, "publication/public_notices.html", {"notices": notices})


def public_notice(request, code: str, month: str):
    notice = _published(code, month)
    data = notice_data(notice.region, notice.month)
    context = {
        **_notice_context(data),
        "public": True,
        "notice": notice,
        "xlsx_url": f"/public/notices/{code}/{notice.month:%Y-%m}/notice.xlsx",
    }
    return render(request, "publication/notice.html", context)


def public_notice_xlsx(request, code: str, month: str):
    notice = _published(code, month)
    return _xlsx(notice_data(notice.region, notice.month))


def public_department(request, pk: int):
    department = Organisation.objects.filter(pk=pk, kind=Organisation.Kind.DEPARTMENT).first()
    if department is None:
        raise NotFound("部门不存在", code="department_not_found")
    period = _public_period()
    weights, _, _ = weights_for(department.region)
    f = figures(Dim.DEPARTMENT, department.pk, period, weights=weights)
    page, rows = public_reviews(department_ids=[department.pk], page_number=request.GET.get("page"))
    context = {
        "department": department,
        "period": period,
        "figure_rows": figure_rows(f),
        "charts": charts(_monthly(Dim.DEPARTMENT, department.pk, period, weights)),
        "page": page,
        "reviews": rows,
    }
    return render(request, "publication/public_department.html", context)


def public_reviews_page(request):
    page, rows = public_reviews(page_number=request.GET.get("page"))
    return render(request, "publication/public_reviews.html", {"page": page, "reviews": rows})
