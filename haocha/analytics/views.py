"""Results pages (server-rendered, htmx): the supervisor dashboard, the rankings, the Excel export.

Every number comes from the rollups through the selectors; every unit shown is inside the viewer's scope.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.shortcuts import render
from django.utils import timezone

from haocha.accounts.access import Actor, actor_for_user
from haocha.accounts.menu import page_view
from haocha.analytics import selectors as sel
from haocha.analytics.api import xlsx_response
from haocha.analytics.export import EXPORT_DIMS
from haocha.analytics.figures import DEFINITIONS, RATIOS, Figures
from haocha.analytics.models import Dim
from haocha.analytics.params import (
    check_period,
    member_in_scope,
    organisation_in_scope,
    parse_channel,
    parse_date,
    parse_dim,
    parse_year_month,
    region_in_scope,
)
from haocha.analytics.periods import last_full_month, last_full_quarter, period_state
from haocha.core.errors import Forbidden, InvalidInput
from haocha.evaluations.channels import Channel
from haocha.organisations.models import Organisation, Region, Staff, Window

LEVEL_NAMES = ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
TOP = 10
PERIOD_KINDS = [("month", "按月"), ("quarter", "按季度"), ("year", "按年"), ("custom", "自定义")]


def _int(value: str | None, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(f"{name} 须为数字", code="invalid_input") from None
    if not 0 < number < 2**62:
        raise InvalidInput(f"{name} 超出范围", code="invalid_input")
    return number


@dataclass
class Filters:
    kind: str
    year: int
    month: int
    quarter: int
    period: sel.Period
    region: Region | None
    department: Organisation | None
    hall: Organisation | None
    window: Window | None
    channel: str

    def params(self, **changes) -> dict:
        out = {"period": self.kind}
        if self.kind == "custom":
            out.update(start=self.period.start.isoformat(), end=self.period.end.isoformat())
        else:
            out["year"] = self.year
            if self.kind == "month":
                out["month"] = self.month
            if self.kind == "quarter":
                out["quarter"] = self.quarter
        for name in ("region", "department", "hall", "window"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value.code if name == "region" else value.pk
        if self.channel:
            out["channel"] = self.channel
        for name, value in changes.items():
            if value is None:
                out.pop(name, None)
            else:
                out[name] = value
        return out

    def url(self, **changes) -> str:
        return "/stats/?" + urlencode(self.params(**changes))


def _period_from(get) -> tuple[str, int, int, int, sel.Period]:
    """The period asked for; what is not given defaults to the last full month (or quarter), so the page
    opens on figures that no longer change, not on the first days of a new month."""
    today = timezone.localdate()
    kind = get.get("period") or "month"
    last = last_full_month(today)
    q_year, q_last = last_full_quarter(today)
    year = _int(get.get("year"), "year") or (q_year if kind == "quarter" else last.year)
    month = _int(get.get("month"), "month") or last.month
    quarter = _int(get.get("quarter"), "quarter") or q_last
    if kind == "month":
        period = parse_year_month(year, month)
    elif kind == "quarter":
        if not 1 <= quarter <= 4:
            raise InvalidInput("季度须为 1–4", code="invalid_quarter")
        start = parse_year_month(year, 3 * quarter - 2).start
        period = sel.Period(start, parse_year_month(year, 3 * quarter).end)
    elif kind == "year":
        period = parse_year_month(year, None)
    elif kind == "custom":
        start = parse_date(get.get("start"), "开始日期") if get.get("start") else today.replace(day=1)
        end = parse_date(get.get("end"), "结束日期") if get.get("end") else today
        period = check_period(start, end)
    else:
        raise InvalidInput("统计期类型须为 月、季、年 或 自定义", code="invalid_period")
    return kind, year, month, quarter, period


def filters_from(actor: Actor, get) -> Filters:
    kind, year, month, quarter, period = _period_from(get)
    window = None
    window_id = _int(get.get("window"), "window")
    if window_id is not None:
        member_in_scope(actor, Dim.WINDOW, window_id)
        window = Window.objects.select_related("hall", "department").get(pk=window_id)
    return Filters(
        kind=kind,
        year=year,
        month=month,
        quarter=quarter,
        period=period,
        region=region_in_scope(actor, get.get("region")),
        department=organisation_in_scope(actor, _int(get.get("department"), "department"), halls=False),
        hall=organisation_in_scope(actor, _int(get.get("hall"), "hall"), halls=True),
        window=window,
        channel=parse_channel(get.get("channel")),
    )


@dataclass
class Focus:
    dim: int
    member: int
    name: str
    region: Region | None = None
    organisation: Organisation | None = None
    window: Window | None = None


def focus_of(actor: Actor, f: Filters) -> Focus:
    """The unit the dashboard is about: the narrowest filter given, else the widest region the viewer sees."""
    if f.window is not None:
        return Focus(
            Dim.WINDOW, f.window.pk, sel.member_names(Dim.WINDOW, [f.window.pk])[f.window.pk], window=f.window
        )
    if f.hall is not None:
        return Focus(Dim.HALL, f.hall.pk, f.hall.name, organisation=f.hall)
    if f.department is not None:
        return Focus(Dim.DEPARTMENT, f.department.pk, f.department.name, organisation=f.department)
    regions = sel.visible_regions(actor)
    if f.region is not None and f.region.pk in {r.pk for r in regions}:
        return Focus(Dim.REGION, f.region.pk, f.region.name, region=f.region)
    if f.region is None and regions:
        top = min(regions, key=lambda r: (r.level, r.code))
        return Focus(Dim.REGION, top.pk, top.name, region=top)
    departments = sel.members_in_scope(actor, Dim.DEPARTMENT, region=f.region)
    halls = sel.members_in_scope(actor, Dim.HALL, region=f.region)
    if not departments and not halls:
        raise Forbidden("您没有可查看的统计范围：统计分析仅向监管人员和本单位人员开放", code="no_scope")
    org = Organisation.objects.get(pk=(departments or halls)[0])
    return Focus(Dim.DEPARTMENT if departments else Dim.HALL, org.pk, org.name, organisation=org)


def members_under(actor: Actor, dim: int, focus: Focus) -> list[int]:
    """Units of a dimension inside the focus unit (and the viewer's scope)."""
    if focus.dim == Dim.REGION:
        return sel.members_in_scope(actor, dim, region=focus.region)
    if focus.dim == Dim.WINDOW:
        if dim == Dim.STAFF:
            ids = set(sel.members_in_scope(actor, Dim.STAFF))
            return [s for s in focus.window.staff.values_list("pk", flat=True) if s in ids]
        return []
    if dim == Dim.STAFF and focus.dim == Dim.HALL:
        ids = set(sel.members_in_scope(actor, Dim.STAFF))
        hall_staff = (
            Staff.objects.filter(windows__hall_id=focus.member).values_list("pk", flat=True).distinct()
        )
        return [s for s in hall_staff if s in ids]
    return sel.members_in_scope(actor, dim, organisation=focus.organisation)


def _rows(actor, dim, focus, f: Filters, weights, link) -> list[dict]:
    members = members_under(actor, dim, focus)
    figs = sel.breakdown(dim, f.period, members=members, channel=f.channel, weights=weights)
    names = sel.member_names(dim, figs)
    rows = [
        {"member": m, "name": names.get(m, str(m)), "f": fig, "link": link(m)}
        for m, fig in sorted(figs.items(), key=lambda kv: (-kv[1].n, kv[0]))
    ]
    return rows


def ratings_link(f: Filters, *, window: int | None = None, staff: int | None = None) -> str:
    params = {}
    if window:
        params["window"] = window
    if staff:
        params["staff"] = staff
    params.update(start=f.period.start.isoformat(), end=f.period.end.isoformat())
    return "/ratings/?" + urlencode(params)


def drill_down(actor: Actor, focus: Focus, f: Filters, weights) -> list[dict]:
    """The next level down, as tables: region → sub-regions, departments, halls → windows → staff."""
    tables = []
    if focus.dim == Dim.REGION:
        visible = {r.pk for r in sel.visible_regions(actor)}
        children = [r for r in focus.region.children.all() if r.pk in visible]
        codes = {r.pk: r.code for r in children}
        if children:
            figs = sel.breakdown(Dim.REGION, f.period, members=codes, channel=f.channel, weights=weights)
            rows = [
                {"member": r.pk, "name": r.name, "f": figs.get(r.pk, Figures(sel.Counts())), "link": None}
                for r in children
            ]
            for row in rows:
                row["link"] = f.url(region=codes[row["member"]], department=None, hall=None, window=None)
            rows.sort(key=lambda row: -row["f"].n)
            tables.append({"title": "下级区划", "rows": rows, "drill": True})
        tables.append(
            {
                "title": "部门",
                "rows": _rows(
                    actor, Dim.DEPARTMENT, focus, f, weights, lambda m: f.url(department=m, hall=None)
                ),
                "drill": True,
            }
        )
        tables.append(
            {
                "title": "政务大厅",
                "rows": _rows(actor, Dim.HALL, focus, f, weights, lambda m: f.url(hall=m, department=None)),
                "drill": True,
            }
        )
    elif focus.dim in (Dim.DEPARTMENT, Dim.HALL):
        windows = _rows(actor, Dim.WINDOW, focus, f, weights, lambda m: f.url(window=m))
        for row in windows:
            row["ratings"] = ratings_link(f, window=row["member"])
        tables.append({"title": "窗口", "rows": windows, "drill": True})
        staff = _rows(actor, Dim.STAFF, focus, f, weights, lambda m: None)
        _staff_links(staff, f)
        tables.append({"title": "工作人员", "rows": staff, "drill": False})
    else:
        staff = _rows(actor, Dim.STAFF, focus, f, weights, lambda m: None)
        _staff_links(staff, f, window=focus.member)
        tables.append({"title": "工作人员", "rows": staff, "drill": False})
    return tables


def _staff_links(rows, f: Filters, window: int | None = None) -> None:
    first_window = dict(
        Staff.windows.through.objects.filter(staff_id__in=[r["member"] for r in rows]).values_list(
            "staff_id", "window_id"
        )
    )
    for row in rows:
        row["ratings"] = ratings_link(
            f, window=window or first_window.get(row["member"]), staff=row["member"]
        )


def top_bad(actor, dim: int, focus: Focus, f: Filters, weights) -> list[dict]:
    members = members_under(actor, dim, focus)
    if not members:
        return []
    figs = sel.breakdown(dim, f.period, members=members, channel=f.channel, weights=weights)
    worst = sorted(((m, x) for m, x in figs.items() if x.bad), key=lambda kv: (-kv[1].bad, -kv[1].n, kv[0]))[
        :TOP
    ]
    names = sel.member_names(dim, [m for m, _ in worst])
    return [{"member": m, "name": names.get(m, str(m)), "f": x} for m, x in worst]


def _choices(actor: Actor, f: Filters) -> dict:
    departments = sel.members_in_scope(actor, Dim.DEPARTMENT, region=f.region)
    halls = sel.members_in_scope(actor, Dim.HALL, region=f.region)
    return {
        "regions": sel.visible_regions(actor),
        "departments": Organisation.objects.filter(pk__in=departments).order_by("region__code", "name"),
        "halls": Organisation.objects.filter(pk__in=halls).order_by("region__code", "name"),
        "channels": Channel.choices,
        "months": range(1, 13),
        "quarters": range(1, 5),
        "years": range(timezone.localdate().year - 4, timezone.localdate().year + 1),
    }


def _definitions(*keys) -> list[str]:
    return [DEFINITIONS[k] for k in keys]


@page_view("stats")
def dashboard(request):
    actor = actor_for_user(request.user)
    f = filters_from(actor, request.GET)
    focus = focus_of(actor, f)
    weights = sel.policy_for(actor, focus.region)[0]
    figures = sel.figures(focus.dim, focus.member, f.period, channel=f.channel, weights=weights)
    timeliness = figures if not f.channel else sel.figures(focus.dim, focus.member, f.period, weights=weights)
    by_month = (f.period.end - f.period.start).days > 62
    trend = sel.trend_points(focus.dim, focus.member, f.period, channel=f.channel, by_month=by_month)
    mix = sel.channel_mix(focus.dim, focus.member, f.period)
    channel_names = dict(Channel.choices)
    department_for_themes = f.department.pk if f.department else ""
    context = {
        "f": f,
        "focus": focus,
        "fig": figures,
        "timeliness": timeliness,
        "tables": drill_down(actor, focus, f, weights),
        "top_lists": [
            ("差评较多的事项", top_bad(actor, Dim.ITEM, focus, f, weights), "items"),
            ("差评较多的窗口", top_bad(actor, Dim.WINDOW, focus, f, weights), "windows"),
            ("差评较多的工作人员", top_bad(actor, Dim.STAFF, focus, f, weights), "staff"),
        ],
        "period_kinds": PERIOD_KINDS,
        "trend_data": {
            "labels": [p["period"][:7] if by_month else p["period"][5:] for p in trend],
            "n": [p["n"] for p in trend],
            "bad_rate": [round(100 * p["bad"] / p["n"], 3) if p["n"] else None for p in trend],
        },
        "level_data": [
            {"name": n, "value": v} for n, v in zip(LEVEL_NAMES, figures.level_counts, strict=True)
        ],
        "channel_data": [
            {"name": channel_names.get(k, k), "value": v}
            for k, v in sorted(mix.items(), key=lambda kv: -kv[1])
        ],
        "themes_url": "/mining/themes/?"
        + urlencode(
            {
                "start": f.period.start.isoformat(),
                "end": f.period.end.isoformat(),
                "department": department_for_themes,
            }
        ),
        "definitions": _definitions("n", "bad", *RATIOS, "n_follow"),
        "period_state": period_state(f.period, timezone.localdate(), f.kind),
        "reset_url": f.url(region=None, department=None, hall=None, window=None),
        "up_url": _up_url(f, focus),
        "ratings_url": ratings_link(f, window=focus.member) if focus.dim == Dim.WINDOW else None,
        **_choices(actor, f),
    }
    template = (
        "analytics/_dashboard.html" if request.headers.get("HX-Request") else "analytics/dashboard.html"
    )
    return render(request, template, context)


def _up_url(f: Filters, focus: Focus) -> str | None:
    if focus.dim == Dim.WINDOW:
        return f.url(window=None)
    if focus.dim in (Dim.DEPARTMENT, Dim.HALL) and (f.department or f.hall):
        return f.url(department=None, hall=None)
    if focus.dim == Dim.REGION and f.region is not None and f.region.parent_id:
        parent = f.region.parent
        return f.url(region=parent.code)
    return None


# --- rankings ------------------------------------------------------------------------------------------

RANK_TABS = [
    ("department", "部门"),
    ("hall", "政务大厅"),
    ("window", "窗口"),
    ("staff", "工作人员"),
    ("item", "事项"),
]


@page_view("stats")
def rankings(request):
    actor = actor_for_user(request.user)
    today = timezone.localdate()
    last = last_full_month(today)  # opens on the last full month, as the dashboard
    year = _int(request.GET.get("year"), "year") or last.year
    scope = request.GET.get("scope") or "month"
    if scope not in ("month", "year"):
        raise InvalidInput("排名周期须为 月 或 年", code="invalid_period")
    month = (_int(request.GET.get("month"), "month") or last.month) if scope == "month" else None
    period = parse_year_month(year, month)
    region = region_in_scope(actor, request.GET.get("region"))
    weights, min_sample, prior_weight = sel.policy_for(actor, region)

    def rank(dim):
        members = sel.members_in_scope(actor, dim, region=region)
        return sel.ranking(
            dim, period, members=members, weights=weights, min_sample=min_sample, prior_weight=prior_weight
        )

    if request.GET.get("dim"):
        dim_key = request.GET["dim"]
        dim = parse_dim(dim_key, tuple(k for k, _ in RANK_TABS))
        rk = rank(dim)
    else:
        dim_key, dim, rk = _first_tab_with_data(rank)
    context = {
        "dim_key": dim_key,
        "dim_name": dict(RANK_TABS)[dim_key],
        "tabs": RANK_TABS,
        "year": year,
        "month": month,
        "scope": scope,
        "region": region,
        "regions": sel.visible_regions(actor),
        "ranking": rk,
        "period": period,
        "months": range(1, 13),
        "years": range(today.year - 4, today.year + 1),
        "chart_data": _ranking_chart(rk),
        "ranked_empty": _why_none_ranked(rk, UNIT_NOUNS[dim_key]),
        "definitions": _definitions("n", "score", "smoothed", "bad", "bad_rate", "good_rate", "rectify_rate"),
        "period_state": period_state(period, today, scope),
        "export": dim_key in EXPORT_DIMS,
        "export_url": "/stats/export/?"
        + urlencode(
            {k: v for k, v in {"dim": dim_key, "year": year, "month": month or ""}.items() if v != ""}
        ),
    }
    if month is not None:
        staff_members = sel.members_in_scope(actor, Dim.STAFF, region=region)
        staff_rk = (
            rk
            if dim == Dim.STAFF
            else sel.ranking(
                Dim.STAFF,
                period,
                members=staff_members,
                weights=weights,
                min_sample=min_sample,
                prior_weight=prior_weight,
            )
        )
        window_members = sel.members_in_scope(actor, Dim.WINDOW, region=region)
        candidates, this, before = sel.interview_candidates(
            Dim.WINDOW,
            year,
            month,
            members=window_members,
            weights=weights,
            min_sample=min_sample,
            prior_weight=prior_weight,
        )
        stars = sel.service_stars(staff_rk)
        context.update(
            stars=stars,
            stars_empty=_why_no_stars(staff_rk),
            able=sel.able_hands(staff_rk),
            able_empty=_why_none_ranked(staff_rk, UNIT_NOUNS["staff"]),
            candidates_empty=_why_no_candidates(this, before),
            star_rule=sel.STAR_RULE,
            able_rule=sel.ABLE_RULE,
            candidates=candidates,
            previous=before.period,
            bottom_share=int(sel.BOTTOM_SHARE * 100),
        )
    template = "analytics/rankings.html"
    return render(request, template, context)


# (measure word, unit) of each ranking, for the sentences that explain an empty table
UNIT_NOUNS = {
    "department": ("个", "部门"),
    "hall": ("个", "政务大厅"),
    "window": ("个", "窗口"),
    "staff": ("名", "工作人员"),
    "item": ("个", "事项"),
}


def _first_tab_with_data(rank) -> tuple[str, int, sel.Ranking]:
    """The tab the page opens on: the first whose ranking has ranked units this period, else the first with
    any ratings, else the first tab."""
    seen = []
    for key, _ in RANK_TABS:
        dim = parse_dim(key, (key,))
        rk = rank(dim)
        if rk.ranked:
            return key, dim, rk
        seen.append((key, dim, rk))
    return next((row for row in seen if row[2].insufficient), seen[0])


def _why_none_ranked(rk: sel.Ranking, noun: tuple[str, str]) -> str:
    """Why a ranking has nobody in it, in words: no ratings, or none with the minimum sample."""
    if rk.ranked:
        return ""
    measure, unit = noun
    if rk.insufficient:
        most = max(r.figures.n for r in rk.insufficient)
        return (
            f"本期有 {len(rk.insufficient)} {measure}{unit}有评价，但评价数都少于最少评价数 {rk.min_sample} 条"
            f"（最多的 {most} 条），不参加排名，列在“样本不足”中（最少评价数见管理后台“评分与排名规则”）"
        )
    extra = "（评价未注明工作人员的不计入工作人员排名）" if noun == UNIT_NOUNS["staff"] else ""
    return f"本期没有{unit}的评价{extra}"


def _why_no_stars(staff_rk: sel.Ranking) -> str:
    if not staff_rk.ranked:
        return _why_none_ranked(staff_rk, UNIT_NOUNS["staff"])
    return f"参加排名的 {len(staff_rk.ranked)} 名工作人员本期都有差评"


def _why_no_candidates(this: sel.Ranking, before: sel.Ranking) -> str:
    if not this.ranked:
        return f"本月没有参加排名的窗口：{_why_none_ranked(this, UNIT_NOUNS['window'])}"
    if not before.ranked:
        start = before.period.start
        return f"{start.year}年{start.month}月没有参加排名的窗口，无法判断是否连续两个月排名靠后"
    return f"没有连续两个月都排在后 {int(sel.BOTTOM_SHARE * 100)}% 的窗口"


def _ranking_chart(rk: sel.Ranking) -> dict:
    rows = rk.ranked[:15]
    return {
        "labels": [r.name for r in rows],
        "smoothed": [round(r.smoothed, 2) for r in rows],
        "score": [round(r.figures.score, 2) for r in rows],
    }


@page_view("stats")
def export(request):
    actor = actor_for_user(request.user)
    dim_key = request.GET.get("dim") or "department"
    dim = parse_dim(dim_key, EXPORT_DIMS)
    period = parse_year_month(_int(request.GET.get("year"), "year"), _int(request.GET.get("month"), "month"))
    region = region_in_scope(actor, request.GET.get("region"))
    weights, min_sample, prior_weight = sel.policy_for(actor, region)
    members = sel.members_in_scope(actor, dim, region=region)
    rk = sel.ranking(
        dim, period, members=members, weights=weights, min_sample=min_sample, prior_weight=prior_weight
    )
    return xlsx_response(rk)
