"""Figures computed independently of the rollups: Python over the raw ratings, cases and work orders.

Nothing here reads analytics' measure table, triggers or rollup SQL: each figure is counted again from the
rows a test made, so a wrong definition in analytics (a 追评 counted as a first rating, an invalid rating
counted, a default rating counted as active) shows as a difference.
"""

from datetime import date, datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone

from haocha.catalogue.models import Case
from haocha.evaluations.models import Rating
from haocha.workorders.models import WorkOrder

LEVELS = ["very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied"]
OPEN = ("pending_verify", "pending_accept", "accepted", "handling", "pending_callback")
DEFAULT_WEIGHTS = (100, 80, 60, 40, 20)


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Local (Beijing) start of `start` and of the day after `end`."""
    tz = timezone.get_default_timezone()
    return (
        datetime.combine(start, time.min, tz),
        datetime.combine(end + timedelta(days=1), time.min, tz),
    )


def local_day(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def unit_filter(dim: str, unit, *, orders: bool = False) -> Q:
    """Which rows belong to a unit: a region takes everything rated (handled) in it and below."""
    if dim == "region":
        return Q(region__path__startswith=unit.path)
    if orders and dim != "department":
        return Q(**{f"rating__{dim}": unit})  # an order counts for the rated window, staff, item, hall
    return Q(**{dim: unit})


def ratio(num, den):
    return num / den if den else None


def months_touched(start: date, end: date) -> tuple[datetime, datetime]:
    first = start.replace(day=1)
    after = (end.replace(day=28) + timedelta(days=4)).replace(day=1)
    return bounds(first, after - timedelta(days=1))


def expected_counts(dim: str, unit, start: date, end: date, *, channel: str = "") -> dict:
    """Raw counts of one unit in a period, from the ratings, cases and work orders themselves."""
    lo, hi = bounds(start, end)
    rated = Rating.objects.filter(unit_filter(dim, unit), rated_at__gte=lo, rated_at__lt=hi)
    rows = [r for r in rated if not channel or r.channel == channel]
    first = [r for r in rows if r.kind == 1 and r.is_valid]
    follow = [r for r in rows if r.kind == 2 and r.is_valid]
    out = {
        "n": len(first),
        "levels": [sum(1 for r in first if r.level == lv) for lv in LEVELS],
        "n_default": sum(1 for r in first if r.is_default),
        "n_follow": len(follow),
        "n_follow_bad": sum(1 for r in follow if r.level in LEVELS[3:]),
        "n_finished": 0,
        "n_rated": 0,
        "orders": [],
    }
    if channel:  # cases and work orders have no channel
        return out
    cases = list(
        Case.objects.filter(
            unit_filter(dim, unit), status="finished", finished_at__gte=lo, finished_at__lt=hi
        )
    )
    out["n_finished"] = len(cases)
    out["n_rated"] = sum(1 for c in cases if any(r.kind == 1 and r.is_valid for r in c.ratings.all()))
    olo, ohi = months_touched(start, end)
    out["orders"] = list(
        WorkOrder.objects.filter(
            unit_filter(dim, unit, orders=True), received_at__gte=olo, received_at__lt=ohi
        )
    )
    return out


def expected_figures(
    dim: str, unit, start: date, end: date, *, channel: str = "", weights=DEFAULT_WEIGHTS, now=None
) -> dict:
    """The figures as the API states them (ratios unrounded): what each figure's definition says."""
    c = expected_counts(dim, unit, start, end, channel=channel)
    now = now or timezone.now()
    n, levels = c["n"], c["levels"]
    orders = c["orders"]
    closed = [o for o in orders if o.status == "closed"]
    late_open = [o for o in orders if o.status in OPEN and o.due_at is not None and o.due_at < now]
    called = [o for o in orders if o.callback_satisfaction]
    contacted = [o for o in orders if o.contact_minutes is not None]
    to_rectify = [o for o in orders if o.status not in ("invalid", "merged")]
    contact_minutes = sum(o.contact_minutes for o in contacted)
    finish_minutes = sum(o.finish_minutes or 0 for o in closed)
    return {
        "n": n,
        "bad": levels[3] + levels[4],
        "levels": levels,
        "bad_rate": ratio(levels[3] + levels[4], n),
        "good_rate": ratio(levels[0] + levels[1], n),
        "score": ratio(sum(w * k for w, k in zip(weights, levels, strict=True)), n),
        "rating_rate": ratio(c["n_rated"], c["n_finished"]),
        "active_rate": ratio(n - c["n_default"], n),
        "rectify_rate": ratio(len(closed), len(to_rectify)),
        "on_time_rate": ratio(
            sum(1 for o in closed if not o.finish_over_minutes), len(closed) + len(late_open)
        ),
        "callback_rate": ratio(
            sum(1 for o in called if o.callback_satisfaction in ("satisfied", "basically_satisfied")),
            len(called),
        ),
        "callback_solved_rate": ratio(sum(1 for o in called if o.callback_solved), len(called)),
        "contact_hours": None if not contacted else contact_minutes / len(contacted) / 60,
        "close_hours": None if not closed else finish_minutes / len(closed) / 60,
        "n_default": c["n_default"],
        "n_follow": c["n_follow"],
        "n_finished": c["n_finished"],
        "n_rated": c["n_rated"],
        "n_orders": len(orders),
        "n_closed": len(closed),
        "n_open": sum(1 for o in orders if o.status in OPEN),
        "n_open_late": len(late_open),
    }


def rounded(figures: dict) -> dict:
    """As the API sends them: ratios rounded to six places."""
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in figures.items()}


def smoothed(n: int, score: float, prior_mean: float, prior_weight: int) -> float:
    return (n * score + prior_weight * prior_mean) / (n + prior_weight)
