"""What a monthly 通报 and the public site say: figures and rankings from the rollups, typical 差评
cases (anonymised) with how they were handled, themes from the mining tables."""

from datetime import date, datetime, time, timedelta

from django.db.models import F
from django.utils import timezone

from haocha.analytics.figures import DEFINITIONS, FIGURE_DEFINITIONS, Figures
from haocha.analytics.models import Dim
from haocha.analytics.selectors import (
    Period,
    breakdown,
    figures,
    rank_figures,
    ranking_rule,
    trend,
    weights_for,
)
from haocha.core.anonymise import anonymise
from haocha.core.errors import NotFound
from haocha.evaluations.models import Rating, RatingReply
from haocha.mining.models import MinedComment
from haocha.mining.selectors import themes_summary
from haocha.organisations.models import Organisation, Region, Window
from haocha.workorders.models import OPEN_STATUSES, Status, WorkOrder

CASES_IN_NOTICE = 8
# The figures a notice and the public pages show, in order, with how each is written; labels and
# definitions are the analytics ones (analytics.figures.FIGURE_DEFINITIONS).
FIGURE_KINDS = (
    ("n", "int"),
    ("bad", "int"),
    ("bad_rate", "pct"),
    ("good_rate", "pct"),
    ("score", "score"),
    ("rating_rate", "pct"),
    ("active_rate", "pct"),
    ("rectify_rate", "pct"),
    ("on_time_rate", "pct"),
    ("callback_rate", "pct"),
)
FIGURE_ROWS = tuple((key, FIGURE_DEFINITIONS[key].label, kind) for key, kind in FIGURE_KINDS)


def parse_month(value: str) -> date:
    try:
        year, month = (int(x) for x in value.split("-"))
        return date(year, month, 1)
    except ValueError as exc:
        raise NotFound("月份格式应为 YYYY-MM", code="invalid_month") from exc


def region_by_code(code: str) -> Region:
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise NotFound("区划不存在", code="region_not_found")
    return region


def fmt(value, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "pct":
        return f"{value:.2%}"
    if kind == "score":
        return f"{value:.2f}"
    return f"{value:,}"


def figure_rows(f: Figures, previous: Figures | None = None) -> list[dict]:
    rows = []
    for key, label, kind in FIGURE_ROWS:
        value = getattr(f, key)
        prev = getattr(previous, key) if previous is not None else None
        rows.append(
            {
                "key": key,
                "label": label,
                "value": value,
                "text": fmt(value, kind),
                "previous": fmt(prev, kind) if previous is not None else "",
                "definition": DEFINITIONS.get(key, ""),
            }
        )
    return rows


def ranking(
    dim: int,
    period: Period,
    figs: dict[int, Figures],
    names: dict[int, str],
    *,
    weights,
    min_sample,
    prior_weight,
):
    """(ranked, units below the minimum sample) by the platform's one ranking rule (analytics.rank_figures),
    among the named units."""
    r = rank_figures(
        dim,
        period,
        {m: f for m, f in figs.items() if m in names},
        names,
        weights=weights,
        min_sample=min_sample,
        prior_weight=prior_weight,
    )
    return r.ranked, sorted(r.insufficient, key=lambda row: row.name), r


def _previous_month(month: date) -> date:
    return (month - timedelta(days=1)).replace(day=1)


def departments_in(region: Region) -> dict[int, str]:
    return dict(
        Organisation.objects.filter(kind=Organisation.Kind.DEPARTMENT, region__path__startswith=region.path)
        .order_by("name")
        .values_list("pk", "name")
    )


def halls_in(region: Region) -> dict[int, str]:
    return dict(
        Organisation.objects.filter(kind__in=Organisation.HALL_KINDS, region__path__startswith=region.path)
        .order_by("name")
        .values_list("pk", "name")
    )


def windows_in(region: Region) -> dict[int, str]:
    return {
        w.pk: f"{w.hall.name} {w.number}号窗口（{w.name}）"
        for w in Window.objects.filter(hall__region__path__startswith=region.path).select_related("hall")
    }


def outcome(order: WorkOrder | None, now) -> str:
    if order is None:
        return "未生成工单"
    if order.status == Status.CLOSED:
        return "按时办结" if not order.finish_over_minutes else "超时办结"
    if order.status in OPEN_STATUSES:
        return "逾期未办结" if order.due_at and order.due_at < now else "办理中"
    return order.get_status_display()


def typical_cases(region: Region, period: Period, limit: int = CASES_IN_NOTICE) -> list[dict]:
    """差评 rated in the month in the region with their handling, anonymised; closed ones first."""
    start, end = period.start, period.end + timedelta(days=1)
    tz = timezone.get_current_timezone()
    orders = list(
        WorkOrder.objects.filter(
            region__path__startswith=region.path,
            rating__is_bad=True,
            rating__rated_at__gte=datetime.combine(start, time.min, tz),
            rating__rated_at__lt=datetime.combine(end, time.min, tz),
            rating__is_valid=True,
            rating__is_hidden=False,
            status__in=[Status.CLOSED, *OPEN_STATUSES],
        )
        .exclude(rating__comment="")
        .select_related("rating", "rating__item", "rating__staff", "department")
        .order_by(F("closed_at").desc(nulls_last=True), "-received_at")[:limit]
    )
    replies = {
        r.rating_id: r for r in RatingReply.objects.filter(rating_id__in=[o.rating_id for o in orders])
    }
    now = timezone.now()
    out = []
    for o in orders:
        names = (o.rating.evaluator_name, o.rating.staff.name if o.rating.staff else "")
        reply = replies.get(o.rating_id)
        texts = {
            "comment": anonymise(o.rating.comment, names=names),
            "reply": anonymise(reply.text if reply else "", names=names),
            "result": anonymise(o.result, names=names),
            "measures": anonymise(o.measures, names=names),
        }
        out.append(
            {
                "month": timezone.localtime(o.rating.rated_at).date(),
                "department": o.department.name if o.department else "—",
                "item": o.rating.item.name if o.rating.item else "—",
                "level": o.rating.get_level_display(),
                **{key: a.text for key, a in texts.items()},
                "masked": {key for key, a in texts.items() if a.masked},
                "status": o.get_status_display(),
                "outcome": outcome(o, now),
            }
        )
    return out


def notice_data(region: Region, month: date) -> dict:
    period = Period.month(month.year, month.month)
    weights, min_sample, prior_weight = weights_for(region)
    overall = figures(Dim.REGION, region.pk, period, weights=weights)
    prev_month = _previous_month(month)
    previous = figures(
        Dim.REGION, region.pk, Period.month(prev_month.year, prev_month.month), weights=weights
    )
    dept_names = departments_in(region)
    dept_figs = breakdown(Dim.DEPARTMENT, period, members=dept_names, weights=weights)
    departments, departments_small, dept_ranking = ranking(
        Dim.DEPARTMENT,
        period,
        dept_figs,
        dept_names,
        weights=weights,
        min_sample=min_sample,
        prior_weight=prior_weight,
    )
    window_names = windows_in(region)
    window_figs = breakdown(Dim.WINDOW, period, members=window_names, weights=weights)
    windows, windows_small, _ = ranking(
        Dim.WINDOW,
        period,
        window_figs,
        window_names,
        weights=weights,
        min_sample=min_sample,
        prior_weight=prior_weight,
    )
    first = month
    for _ in range(11):
        first = _previous_month(first)
    months = []
    for m, counts in trend(Dim.REGION, region.pk, Period(first, period.end), by_month=True):
        f = Figures(counts, weights)
        months.append({"month": m, "n": f.n, "bad": f.bad, "bad_rate": f.bad_rate, "score": f.score})
    return {
        "region": region,
        "month": month,
        "period": period,
        "figures": overall,
        "figure_rows": figure_rows(overall, previous),
        "previous_month": prev_month,
        "weights": weights,
        "min_sample": min_sample,
        "prior_weight": prior_weight,
        "rule": ranking_rule(weights, min_sample, prior_weight, dept_ranking.prior_mean),
        "departments": departments,
        "departments_small": departments_small,
        "windows": windows,
        "windows_small": windows_small,
        "trend": months,
        "cases": typical_cases(region, period),
        "themes": themes_summary(period=period, department_ids=list(dept_names), top=5, examples=1),
    }


def public_reviews(*, department_ids=None, page_number=1, per_page: int = 20):
    """A page of anonymised 差评 (from the mining table) with the department's reply and the outcome."""
    from django.core.paginator import Paginator

    qs = MinedComment.objects.order_by("-rated_at", "-pk")
    if department_ids is not None:
        qs = qs.filter(department_id__in=list(department_ids))
    page = Paginator(qs, per_page).get_page(page_number)
    ids = [c.rating_id for c in page.object_list]
    replies = {r.rating_id: r for r in RatingReply.objects.filter(rating_id__in=ids)}
    orders = {o.rating_id: o for o in WorkOrder.objects.filter(rating_id__in=ids)}
    departments = dict(
        Organisation.objects.filter(pk__in={c.department_id for c in page.object_list}).values_list(
            "pk", "name"
        )
    )
    names = {
        pk: (name, staff_name)
        for pk, name, staff_name in Rating.objects.filter(pk__in=ids).values_list(
            "pk", "evaluator_name", "staff__name"
        )
    }
    now = timezone.now()
    rows = []
    for c in page.object_list:
        reply = replies.get(c.rating_id)
        order = orders.get(c.rating_id)
        known = names.get(c.rating_id, ())
        reply_text = anonymise(reply.text if reply else "", names=known)
        result_text = anonymise(order.result if order and order.status == Status.CLOSED else "", names=known)
        rows.append(
            {
                "date": timezone.localtime(c.rated_at).date(),
                "department": departments.get(c.department_id, "—"),
                "text": c.text,
                "reply": reply_text.text,
                "result": result_text.text,
                "masked": {
                    key
                    for key, masked in (
                        ("text", bool(c.masked)),
                        ("reply", reply_text.masked),
                        ("result", result_text.masked),
                    )
                    if masked
                },
                "outcome": outcome(order, now),
            }
        )
    return page, rows
