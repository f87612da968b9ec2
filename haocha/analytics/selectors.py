"""Reads of the rollups: figures for a unit and a period, breakdowns, trends, mixes, rankings.

No function here reads the raw ratings. A period is split into whole months (month rows) and the days
before and after them (day rows), so a year costs 12 month rows per unit and channel.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Q, Sum

from haocha.accounts.access import Actor
from haocha.accounts.models import Role
from haocha.analytics.figures import DEFAULT_WEIGHTS, Counts, Figures
from haocha.analytics.models import CaseRollup, Dim, OrderRollup, RatingRollup, ScorePolicy
from haocha.organisations.models import Organisation, Region, Staff, Window

RATING_SUMS = (
    "n",
    "n_case",
    "n_vs",
    "n_s",
    "n_b",
    "n_d",
    "n_vd",
    "n_default",
    "n_comment",
    "n_follow",
    "n_follow_bad",
)
ORDER_SUMS = (
    "n_orders",
    "n_invalid",
    "n_merged",
    "n_closed",
    "n_closed_on_time",
    "n_open",
    "n_open_late",
    "n_callback",
    "n_callback_satisfied",
    "n_contacted",
    "contact_minutes",
    "finish_minutes",
    "n_reopened",
)


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

    def period_q(self, *, has_grain: bool = True) -> Q:
        """Rows covering exactly this period: month rows for whole months, day rows for the rest."""
        whole = [
            m for m in self.months() if m >= self.start and Period.month(m.year, m.month).end <= self.end
        ]
        if not has_grain:  # month-only tables (orders): every month the period touches
            return Q(period__in=self.months())
        q = Q(grain="m", period__in=whole) if whole else Q(pk__in=[])
        if whole:
            first, last_end = whole[0], Period.month(whole[-1].year, whole[-1].month).end
            if self.start < first:
                q |= Q(grain="d", period__gte=self.start, period__lt=first)
            if self.end > last_end:
                q |= Q(grain="d", period__gt=last_end, period__lte=self.end)
        else:
            q = Q(grain="d", period__gte=self.start, period__lte=self.end)
        return q


def weights_for(region: Region | None) -> tuple[tuple, int, int]:
    """(level weights, minimum sample, prior weight) of the nearest region up the tree with a policy."""
    if region is not None:
        codes = [c for c in region.path.split("/") if c]
        policies = {
            p.region.code: p
            for p in ScorePolicy.objects.select_related("region").filter(region__code__in=codes)
        }
        for code in reversed(codes):
            p = policies.get(code)
            if p is not None:
                return (
                    (p.weight_vs, p.weight_s, p.weight_b, p.weight_d, p.weight_vd),
                    p.min_sample,
                    p.prior_weight,
                )
    return DEFAULT_WEIGHTS, 30, 50


def _rating_rows(dim, period: Period, members=None, channel: str = "", group: tuple = ("member_id",)):
    qs = RatingRollup.objects.filter(period.period_q(), dim=dim)
    if members is not None:
        qs = qs.filter(member_id__in=list(members))
    if channel:
        qs = qs.filter(channel=channel)
    return qs.values(*group).annotate(**{k: Sum(k) for k in RATING_SUMS}).order_by()


def _case_rows(dim, period: Period, members=None):
    qs = CaseRollup.objects.filter(period.period_q(), dim=dim)
    if members is not None:
        qs = qs.filter(member_id__in=list(members))
    return qs.values("member_id").annotate(n_finished=Sum("n_finished")).order_by()


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
    if actor.user is None or not actor.has_role(Role.SUPERVISOR):
        return []
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
