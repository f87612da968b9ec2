"""Reads of the rollups: figures for a unit and a period, breakdowns, trends, mixes, rankings.

No function here reads the raw ratings. A period is split into whole months (month rows) and the days
before and after them (day rows), so a year costs 12 month rows per unit and channel.
"""

import math
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Q, Sum

from haocha.accounts.access import Actor
from haocha.accounts.models import Role
from haocha.analytics.figures import DEFAULT_WEIGHTS, Counts, Figures
from haocha.analytics.measures import CASE_MEASURES, ORDER_COLUMNS, RATING_COLUMNS
from haocha.analytics.models import CaseRollup, Dim, OrderRollup, RatingRollup, ScorePolicy
from haocha.organisations.models import Organisation, Region, Staff, Window
from haocha.organisations.policies import nearest_policy

RATING_SUMS = RATING_COLUMNS
ORDER_SUMS = ORDER_COLUMNS


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @classmethod
    def month(cls, year: int, month: int) -> "Period":
        first = date(year, month, 1)
        nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        return cls(first, nxt - timedelta(days=1))

    @classmethod
    def year(cls, year: int) -> "Period":
        return cls(date(year, 1, 1), date(year, 12, 31))

    def months(self) -> list[date]:
        out, m = [], self.start.replace(day=1)
        while m <= self.end:
            out.append(m)
            m = (m.replace(day=28) + timedelta(days=4)).replace(day=1)
        return out

    def segments(self) -> list[Q]:
        """Rows covering exactly this period, as separate simple conditions: month rows for whole months,
        day rows before and after them. Each is one index range (an OR of them is not, on SQLite)."""
        whole = [
            m for m in self.months() if m >= self.start and Period.month(m.year, m.month).end <= self.end
        ]
        if not whole:
            return [Q(grain="d", period__gte=self.start, period__lte=self.end)]
        out = [Q(grain="m", period__gte=whole[0], period__lte=whole[-1])]
        last_end = Period.month(whole[-1].year, whole[-1].month).end
        if self.start < whole[0]:
            out.append(Q(grain="d", period__gte=self.start, period__lt=whole[0]))
        if self.end > last_end:
            out.append(Q(grain="d", period__gt=last_end, period__lte=self.end))
        return out

    def period_q(self, *, has_grain: bool = True) -> Q:
        """All of segments() in one condition; month-only tables (orders): every month the period touches."""
        if not has_grain:
            return Q(period__in=self.months())
        q = Q(pk__in=[])
        for segment in self.segments():
            q |= segment
        return q


def weights_for(region: Region | None) -> tuple[tuple, int, int]:
    """(level weights, minimum sample, prior weight) of the region's ScorePolicy or its nearest ancestor's."""
    p = nearest_policy(ScorePolicy, region)
    if p is None:
        return DEFAULT_WEIGHTS, 30, 50
    return (p.weight_vs, p.weight_s, p.weight_b, p.weight_d, p.weight_vd), p.min_sample, p.prior_weight


def _summed(model, dim, period: Period, members, group: tuple, sums: tuple, **filters) -> list[dict]:
    """Sums per group over the period's segments, one query each, added up here."""
    out: dict = {}
    for segment in period.segments():
        qs = model.objects.filter(segment, dim=dim, **filters)
        if members is not None:
            qs = qs.filter(member_id__in=list(members))
        for row in qs.values(*group).annotate(**{k: Sum(k) for k in sums}).order_by():
            key = tuple(row[g] for g in group)
            seen = out.get(key)
            if seen is None:
                out[key] = row
            else:
                for k in sums:
                    seen[k] = (seen[k] or 0) + (row[k] or 0)
    return list(out.values())


def _rating_rows(dim, period: Period, members=None, channel: str = "", group: tuple = ("member_id",)):
    filters = {"channel": channel} if channel else {}
    return _summed(RatingRollup, dim, period, members, group, RATING_SUMS, **filters)


def _case_rows(dim, period: Period, members=None):
    return _summed(CaseRollup, dim, period, members, ("member_id",), CASE_MEASURES)


def _order_rows(dim, period: Period, members=None):
    qs = OrderRollup.objects.filter(period.period_q(has_grain=False), dim=dim)
    if members is not None:
        qs = qs.filter(member_id__in=list(members))
    return qs.values("member_id").annotate(**{k: Sum(k) for k in ORDER_SUMS}).order_by()


def breakdown(
    dim: int, period: Period, *, members=None, channel: str = "", weights=DEFAULT_WEIGHTS
) -> dict[int, Figures]:
    """Figures per member of a dimension. With a channel filter, case and order facts (which have no
    channel) are left out."""
    out: dict[int, Counts] = {}
    for row in _rating_rows(dim, period, members, channel):
        out.setdefault(row["member_id"], Counts()).add(row)
    if not channel:
        for row in _case_rows(dim, period, members):
            out.setdefault(row["member_id"], Counts()).add(row)
        for row in _order_rows(dim, period, members):
            out.setdefault(row["member_id"], Counts()).add(row)
    return {k: Figures(v, weights) for k, v in out.items()}


def figures(dim: int, member: int, period: Period, *, channel: str = "", weights=DEFAULT_WEIGHTS) -> Figures:
    return breakdown(dim, period, members=[member], channel=channel, weights=weights).get(
        member, Figures(Counts(), weights)
    )


def trend(dim: int, member: int, period: Period, *, channel: str = "", by_month: bool | None = None):
    """[(period start, level counts...)] by day, or by month for periods longer than 62 days."""
    if by_month is None:
        by_month = (period.end - period.start).days > 62
    qs = RatingRollup.objects.filter(dim=dim, member_id=member, grain="m" if by_month else "d")
    if by_month:
        qs = qs.filter(period__gte=period.start.replace(day=1), period__lte=period.end)
    else:
        qs = qs.filter(period__gte=period.start, period__lte=period.end)
    if channel:
        qs = qs.filter(channel=channel)
    rows = qs.values("period").annotate(**{k: Sum(k) for k in RATING_SUMS}).order_by("period")
    return [(row["period"], Counts().add(row)) for row in rows]


def channel_mix(dim: int, member: int, period: Period) -> dict[str, int]:
    rows = _rating_rows(dim, period, [member], group=("channel",))
    return {row["channel"]: row["n"] for row in rows if row["n"]}


# --- scope ------------------------------------------------------------------------------------------


def visible_regions(actor: Actor) -> list[Region]:
    """Regions whose totals the actor may see: all for an administrator; a supervisor's regions and
    everything under them. Department-scoped roles see no region totals (they mix other units)."""
    if actor.all_access:
        return list(Region.objects.order_by("path"))
    if actor.client is not None:  # a system granted whole regions (e.g. the city platform) sees their totals
        paths = list(actor.client.regions.values_list("path", flat=True))
    elif actor.user is None or not actor.has_role(Role.SUPERVISOR):
        return []
    else:
        paths = list(
            actor.user.roles.filter(role=Role.SUPERVISOR, region__isnull=False).values_list(
                "region__path", flat=True
            )
        )
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(path__startswith=path)
    return list(Region.objects.filter(q).order_by("path"))


def members_in_scope(actor: Actor, dim: int, *, region: Region | None = None, organisation=None) -> list[int]:
    """Ids of a dimension's units the actor may see, optionally narrowed to a region or organisation."""
    if dim == Dim.REGION:
        regions = visible_regions(actor)
        if region is not None:
            regions = [r for r in regions if r.path.startswith(region.path)]
        return [r.pk for r in regions]
    orgs = Organisation.objects.all()
    if not actor.all_access:
        orgs = orgs.filter(pk__in=actor.org_ids)
    if region is not None:
        orgs = orgs.filter(region__path__startswith=region.path)
    if organisation is not None:
        orgs = orgs.filter(path__startswith=organisation.path)
    org_ids = set(orgs.values_list("pk", flat=True))
    if dim in (Dim.DEPARTMENT, Dim.HALL):
        kinds = (
            [Organisation.Kind.DEPARTMENT]
            if dim == Dim.DEPARTMENT
            else [Organisation.Kind.SERVICE_CENTRE, Organisation.Kind.HALL, Organisation.Kind.BRANCH_HALL]
        )
        return list(Organisation.objects.filter(pk__in=org_ids, kind__in=kinds).values_list("pk", flat=True))
    if dim == Dim.WINDOW:
        return list(
            Window.objects.filter(Q(hall_id__in=org_ids) | Q(department_id__in=org_ids)).values_list(
                "pk", flat=True
            )
        )
    if dim == Dim.STAFF:
        return list(Staff.objects.filter(department_id__in=org_ids).values_list("pk", flat=True))
    from haocha.catalogue.models import ServiceItem

    return list(ServiceItem.objects.filter(department_id__in=org_ids).values_list("pk", flat=True))


def policy_for(actor: Actor, region: Region | None = None) -> tuple[tuple, int, int]:
    """The score policy for a ranking: the given region's, else that of the widest region the actor sees."""
    if region is None:
        regions = visible_regions(actor)
        region = min(regions, key=lambda r: r.level) if regions else None
    return weights_for(region)


# --- names ---------------------------------------------------------------------------------------------


def member_names(dim: int, ids) -> dict[int, str]:
    """Display names of units (never of evaluators)."""
    ids = list(ids)
    if not ids:
        return {}
    if dim == Dim.REGION:
        return dict(Region.objects.filter(pk__in=ids).values_list("pk", "name"))
    if dim in (Dim.DEPARTMENT, Dim.HALL):
        return dict(Organisation.objects.filter(pk__in=ids).values_list("pk", "name"))
    if dim == Dim.WINDOW:
        rows = Window.objects.filter(pk__in=ids).values_list(
            "pk", "hall__short_name", "hall__name", "number", "name"
        )
        return {pk: f"{short or hall} {number} {name}" for pk, short, hall, number, name in rows}
    if dim == Dim.STAFF:
        rows = Staff.objects.filter(pk__in=ids).values_list(
            "pk", "name", "department__short_name", "department__name"
        )
        return {pk: f"{name}（{short or dept}）" for pk, name, short, dept in rows}
    from haocha.catalogue.models import ServiceItem

    return dict(ServiceItem.objects.filter(pk__in=ids).values_list("pk", "name"))


def trend_points(dim: int, member: int, period: Period, *, channel: str = "", by_month: bool | None = None):
    """The trend as plain dicts: period start, 评价数, 差评数 and the five level counts."""
    out = []
    for start, counts in trend(dim, member, period, channel=channel, by_month=by_month):
        f = Figures(counts)
        out.append({"period": start.isoformat(), "n": f.n, "bad": f.bad, "levels": list(f.level_counts)})
    return out


def all_time(dim: int, member: int, *, weights=DEFAULT_WEIGHTS) -> Figures:
    """Every month row of one unit: the running totals shown on the landing page."""
    rows = (
        RatingRollup.objects.filter(dim=dim, member_id=member, grain="m")
        .values("dim")
        .annotate(**{k: Sum(k) for k in RATING_SUMS})
        .order_by()
    )
    counts = Counts()
    for row in rows:
        counts.add(row)
    return Figures(counts, weights)


# --- rankings ------------------------------------------------------------------------------------------


@dataclass
class RankRow:
    rank: int | None
    member: int
    name: str
    figures: Figures
    smoothed: float | None

    @property
    def member_id(self) -> int:
        return self.member

    def as_dict(self) -> dict:
        f = self.figures

        def r(v):
            return None if v is None else round(v, 6)

        return {
            "rank": self.rank,
            "member": self.member,
            "name": self.name,
            "n": f.n,
            "score": r(f.score),
            "smoothed": r(self.smoothed),
            "bad": f.bad,
            "bad_rate": r(f.bad_rate),
            "good_rate": r(f.good_rate),
            "rating_rate": r(f.rating_rate),
            "rectify_rate": r(f.rectify_rate),
            "on_time_rate": r(f.on_time_rate),
            "callback_rate": r(f.callback_rate),
        }


@dataclass
class Ranking:
    dim: int
    period: Period
    weights: tuple
    min_sample: int
    prior_weight: int
    prior_mean: float | None
    ranked: list
    insufficient: list

    @property
    def rule(self) -> str:
        return ranking_rule(self.weights, self.min_sample, self.prior_weight, self.prior_mean)


def ranking_rule(weights, min_sample: int, prior_weight: int, prior_mean: float | None = None) -> str:
    mean = "" if prior_mean is None else f"（本期为 {prior_mean:.2f} 分）"
    return (
        f"按排名得分从高到低排名。满意度得分按各等级分值 {'/'.join(str(w) for w in weights)} 计算；"
        f"评价数少于 {min_sample} 条的单位不参加排名，单列为“样本不足”；"
        f"排名得分 =（评价数 × 满意度得分 + {prior_weight} × 参评单位平均得分）÷（评价数 + {prior_weight}），"
        f"参评单位平均得分为参加排名各单位满意度得分的算术平均{mean}；"
        "排名得分相同（保留 6 位小数）的单位名次相同，按评价数多者在前列出。"
    )


def _smoothed_key(value: float | None) -> float:
    return round(value, 6) if value is not None else float("-inf")


def ranking(
    dim: int,
    period: Period,
    *,
    members,
    weights=DEFAULT_WEIGHTS,
    min_sample: int = 30,
    prior_weight: int = 50,
) -> Ranking:
    """Units with at least `min_sample` ratings ranked by the smoothed score (a Bayesian average toward the
    unweighted mean score of the ranked units); the others listed apart as 样本不足."""
    figs = {m: f for m, f in breakdown(dim, period, members=members, weights=weights).items() if f.n > 0}
    return rank_figures(
        dim,
        period,
        figs,
        member_names(dim, figs),
        weights=weights,
        min_sample=min_sample,
        prior_weight=prior_weight,
    )


def rank_figures(
    dim: int, period: Period, figs: dict, names: dict, *, weights, min_sample: int, prior_weight: int
) -> Ranking:
    """The one ranking rule (rankings pages, API, export, notices, public site) over computed figures."""
    figs = {m: f for m, f in figs.items() if f.n > 0}
    floor = max(min_sample, 1)
    eligible = {m: f for m, f in figs.items() if f.n >= floor}
    prior_mean = sum(f.score for f in eligible.values()) / len(eligible) if eligible else None
    rows = [
        RankRow(None, m, names.get(m, str(m)), f, f.smoothed(prior_mean, prior_weight))
        for m, f in eligible.items()
    ]
    rows.sort(key=lambda r: (-_smoothed_key(r.smoothed), -r.figures.n, r.name, r.member))
    previous = None
    for position, row in enumerate(rows, start=1):
        key = _smoothed_key(row.smoothed)
        row.rank = (
            previous.rank if previous is not None and _smoothed_key(previous.smoothed) == key else position
        )
        previous = row
    short = [RankRow(None, m, names.get(m, str(m)), f, None) for m, f in figs.items() if f.n < floor]
    short.sort(key=lambda r: (-r.figures.n, r.name, r.member))
    return Ranking(dim, period, tuple(weights), min_sample, prior_weight, prior_mean, rows, short)


def previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


BOTTOM_SHARE = 0.10


def bottom_rows(ranked: list, share: float = BOTTOM_SHARE) -> list:
    """The last ceil(share × ranked) units (at least one), with any unit tied with the boundary one."""
    if not ranked:
        return []
    k = min(len(ranked), max(1, math.ceil(round(len(ranked) * share, 9))))
    boundary = ranked[-k].rank
    return [r for r in ranked if r.rank >= boundary]


def interview_candidates(
    dim: int, year: int, month: int, *, members, weights=DEFAULT_WEIGHTS, min_sample=30, prior_weight=50
) -> tuple[list, Ranking, Ranking]:
    """约谈 candidates: units in the bottom share of the ranking in this month and in the previous one."""
    this = ranking(
        dim,
        Period.month(year, month),
        members=members,
        weights=weights,
        min_sample=min_sample,
        prior_weight=prior_weight,
    )
    py, pm = previous_month(year, month)
    before = ranking(
        dim,
        Period.month(py, pm),
        members=members,
        weights=weights,
        min_sample=min_sample,
        prior_weight=prior_weight,
    )
    earlier = {r.member: r for r in bottom_rows(before.ranked)}
    out = [
        {
            "member": r.member,
            "name": r.name,
            "rank": r.rank,
            "of": len(this.ranked),
            "previous_rank": earlier[r.member].rank,
            "previous_of": len(before.ranked),
            "smoothed": r.smoothed,
            "previous_smoothed": earlier[r.member].smoothed,
        }
        for r in bottom_rows(this.ranked)
        if r.member in earlier
    ]
    return out, this, before


STAR_LIMIT = 10
STAR_RULE = "服务明星：本期参加排名（评价数达到最少评价数）且无有效差评的工作人员中，排名得分最高的前 10 名。"
ABLE_RULE = (
    "办事能手：本期评价数达到最少评价数的工作人员中，好评（非常满意、满意，分值不低于 80 分）条数最多的前 10 名；"
    "条数相同的按好评率高者在前。"
)


def service_stars(staff_ranking: Ranking, limit: int = STAR_LIMIT) -> list:
    return [r for r in staff_ranking.ranked if r.figures.bad == 0][:limit]


def able_hands(staff_ranking: Ranking, limit: int = STAR_LIMIT) -> list:
    def good(r):
        return r.figures.counts.n_vs + r.figures.counts.n_s

    rows = sorted(
        staff_ranking.ranked, key=lambda r: (-good(r), -(r.figures.good_rate or 0), r.name, r.member)
    )
    return [(r, good(r)) for r in rows[:limit]]
