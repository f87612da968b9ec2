"""Statistics API (/api/stats/...): figures, breakdowns, trends, rankings and the per-unit export, all read
from the rollups and limited to the units the caller may see."""

import orjson
from django.http import HttpResponse
from ninja import Query, Router, Schema

from haocha.analytics import selectors as sel
from haocha.analytics.export import EXPORT_DIMS, export_rows, export_workbook
from haocha.analytics.figures import DEFINITIONS
from haocha.analytics.params import (
    DIM_KEYS,
    member_in_scope,
    organisation_in_scope,
    parse_channel,
    parse_dim,
    parse_period,
    parse_year_month,
    region_in_scope,
)
from haocha.core.errors import Forbidden, InvalidInput

router = Router(tags=["统计分析"])


def _json(payload: dict) -> HttpResponse:
    """Long lists are serialised directly: the schema documents them, but validating hundreds of rows
    on every response costs more than computing them (a third of a staff breakdown's time)."""
    return HttpResponse(orjson.dumps(payload), content_type="application/json")


MAX_ID = 2**62
RANK_DIMS = ("department", "hall", "window", "staff", "item")


class FiguresOut(Schema):
    n: int
    bad: int
    levels: list[int]
    bad_rate: float | None
    good_rate: float | None
    score: float | None
    rating_rate: float | None
    active_rate: float | None
    rectify_rate: float | None
    on_time_rate: float | None
    callback_rate: float | None
    callback_solved_rate: float | None
    contact_hours: float | None
    close_hours: float | None
    n_default: int
    n_follow: int
    n_finished: int
    n_rated: int
    n_orders: int
    n_closed: int
    n_open: int
    n_open_late: int


class UnitFiguresOut(Schema):
    dim: str
    member: int
    name: str
    start: str
    end: str
    channel: str
    figures: FiguresOut
    definitions: dict[str, str]


class BreakdownItem(Schema):
    member: int
    name: str
    figures: FiguresOut


class BreakdownOut(Schema):
    dim: str
    start: str
    end: str
    region: str | None
    organisation: int | None
    channel: str
    items: list[BreakdownItem]


class TrendPoint(Schema):
    period: str
    n: int
    bad: int
    levels: list[int]


class TrendOut(Schema):
    dim: str
    member: int
    start: str
    end: str
    channel: str
    grain: str
    points: list[TrendPoint]


class RankedOut(Schema):
    rank: int | None
    member: int
    name: str
    n: int
    score: float | None
    smoothed: float | None
    bad: int
    bad_rate: float | None
    good_rate: float | None
    rating_rate: float | None
    rectify_rate: float | None
    on_time_rate: float | None
    callback_rate: float | None


class RankingsOut(Schema):
    dim: str
    start: str
    end: str
    rule: str
    min_sample: int
    prior_weight: int
    prior_mean: float | None
    weights: list[int]
    ranked: list[RankedOut]
    insufficient: list[RankedOut]


class ExportOut(Schema):
    dim: str
    start: str
    end: str
    rule: str
    columns: dict[str, str]
    rows: list[RankedOut]


def _actor(request):
    actor = request.auth
    if not actor.has_scope("ratings:read"):
        raise Forbidden("该接入系统没有查询评价统计的权限（需要 ratings:read）", code="scope_missing")
    return actor


def _id(description: str):
    return Query(None, ge=1, le=MAX_ID, description=description)


@router.get("/figures", response=UnitFiguresOut, summary="单位指标（评价数、差评率、满意度得分、整改率等）")
def stats_figures(
    request,
    dim: str = Query(..., description="region|department|hall|window|staff|item"),
    member: int = Query(..., ge=1, le=MAX_ID, description="单位编号（区划、机构、窗口、人员或事项的 id）"),
    start: str = Query(..., description="开始日期 YYYY-MM-DD（含）"),
    end: str = Query(..., description="结束日期 YYYY-MM-DD（含），统计期不超过 366 天"),
    channel: str | None = Query(None, description="评价渠道（可选）；按渠道统计时不含办件和工单指标"),
):
    actor = _actor(request)
    d = parse_dim(dim)
    period = parse_period(start, end)
    ch = parse_channel(channel)
    member_in_scope(actor, d, member)
    weights = sel.policy_for(actor)[0]
    f = sel.figures(d, member, period, channel=ch, weights=weights)
    return {
        "dim": dim,
        "member": member,
        "name": sel.member_names(d, [member]).get(member, ""),
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "channel": ch,
        "figures": f.as_dict(),
        "definitions": DEFINITIONS,
    }


@router.get("/breakdown", response=BreakdownOut, summary="分单位指标（按评价数从多到少）")
def stats_breakdown(
    request,
    dim: str = Query(..., description="region|department|hall|window|staff|item"),
    start: str = Query(..., description="开始日期 YYYY-MM-DD"),
    end: str = Query(..., description="结束日期 YYYY-MM-DD"),
    region: str | None = Query(None, description="区划代码（可选）：只含该区划内的单位"),
    organisation: int | None = _id("机构编号（可选）：只含该机构（及下属机构）的单位"),
    channel: str | None = Query(None, description="评价渠道（可选）"),
):
    actor = _actor(request)
    d = parse_dim(dim)
    period = parse_period(start, end)
    ch = parse_channel(channel)
    reg = region_in_scope(actor, region)
    org = organisation_in_scope(actor, organisation)
    members = sel.members_in_scope(actor, d, region=reg, organisation=org)
    weights = sel.policy_for(actor, reg)[0]
    figs = sel.breakdown(d, period, members=members, channel=ch, weights=weights)
    names = sel.member_names(d, figs)
    items = sorted(figs.items(), key=lambda kv: (-kv[1].n, kv[0]))
    return _json(
        {
            "dim": dim,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "region": reg.code if reg else None,
            "organisation": org.pk if org else None,
            "channel": ch,
            "items": [{"member": m, "name": names.get(m, ""), "figures": f.as_dict()} for m, f in items],
        }
    )


@router.get("/trend", response=TrendOut, summary="评价趋势（按日或按月）")
def stats_trend(
    request,
    dim: str = Query(..., description="region|department|hall|window|staff|item"),
    member: int = Query(..., ge=1, le=MAX_ID, description="单位编号"),
    start: str = Query(..., description="开始日期 YYYY-MM-DD"),
    end: str = Query(..., description="结束日期 YYYY-MM-DD"),
    channel: str | None = Query(None, description="评价渠道（可选）"),
    grain: str = Query("day", description="day（按日）或 month（按月，含统计期首尾所在的整月）"),
):
    actor = _actor(request)
    d = parse_dim(dim)
    period = parse_period(start, end)
    ch = parse_channel(channel)
    if grain not in ("day", "month"):
        raise InvalidInput("grain 须为 day 或 month", code="invalid_grain")
    member_in_scope(actor, d, member)
    return {
        "dim": dim,
        "member": member,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "channel": ch,
        "grain": grain,
        "points": sel.trend_points(d, member, period, channel=ch, by_month=grain == "month"),
    }


def _ranking(actor, dim: str, year: int | None, month: int | None, region: str | None, allowed):
    d = parse_dim(dim, allowed)
    period = parse_year_month(year, month)
    reg = region_in_scope(actor, region)
    weights, min_sample, prior_weight = sel.policy_for(actor, reg)
    members = sel.members_in_scope(actor, d, region=reg)
    return sel.ranking(
        d, period, members=members, weights=weights, min_sample=min_sample, prior_weight=prior_weight
    )


def _ranking_meta(r: sel.Ranking) -> dict:
    return {
        "dim": DIM_KEYS[r.dim],
        "start": r.period.start.isoformat(),
        "end": r.period.end.isoformat(),
        "rule": r.rule,
    }


@router.get("/rankings", response=RankingsOut, summary="排名（最少评价数 + 平滑得分）")
def stats_rankings(
    request,
    dim: str = Query(..., description="department|hall|window|staff|item"),
    year: int = Query(..., description="年份"),
    month: int | None = Query(None, description="月份 1–12；省略则为全年"),
    region: str | None = Query(None, description="区划代码（可选）"),
):
    actor = _actor(request)
    r = _ranking(actor, dim, year, month, region, RANK_DIMS)
    return _json(
        {
            **_ranking_meta(r),
            "min_sample": r.min_sample,
            "prior_weight": r.prior_weight,
            "prior_mean": None if r.prior_mean is None else round(r.prior_mean, 6),
            "weights": list(r.weights),
            "ranked": [row.as_dict() for row in r.ranked],
            "insufficient": [row.as_dict() for row in r.insufficient],
        }
    )


@router.get("/export", response=ExportOut, summary="成效管理系统导出：各单位评价结果（不含个人信息）")
def stats_export(
    request,
    dim: str = Query("department", description="department|hall|window|item"),
    year: int = Query(..., description="年份"),
    month: int | None = Query(None, description="月份 1–12；省略则为全年"),
    region: str | None = Query(None, description="区划代码（可选）"),
):
    from haocha.analytics.export import COLUMNS

    actor = _actor(request)
    r = _ranking(actor, dim, year, month, region, EXPORT_DIMS)
    return {**_ranking_meta(r), "columns": dict(COLUMNS), "rows": export_rows(r)}


@router.get("/export.xlsx", summary="成效管理系统导出（Excel）", response={200: None})
def stats_export_xlsx(
    request,
    dim: str = Query("department", description="department|hall|window|item"),
    year: int = Query(..., description="年份"),
    month: int | None = Query(None, description="月份 1–12；省略则为全年"),
    region: str | None = Query(None, description="区划代码（可选）"),
):
    actor = _actor(request)
    r = _ranking(actor, dim, year, month, region, EXPORT_DIMS)
    return xlsx_response(r)


def xlsx_response(r: sel.Ranking) -> HttpResponse:
    from haocha.analytics.models import Dim

    label = (
        f"{r.period.start:%Y年%m月}"
        if r.period.start.month == r.period.end.month
        else f"{r.period.start:%Y年}"
    )
    title = f"{label}{Dim(r.dim).label}评价结果"
    response = HttpResponse(
        export_workbook(r, title=title),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    filename = f"haocha-{DIM_KEYS[r.dim]}-{r.period.start:%Y%m}-{r.period.end:%Y%m}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
