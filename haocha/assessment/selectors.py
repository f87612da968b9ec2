"""The yearly assessment table: for each department or district (区县) in the caller's scope, every measure,
its points under the rule, the total and the rank. Figures come from the rollups (analytics.selectors) and,
for 真实性, the work-order log (analytics.handling)."""

from dataclasses import dataclass, field

from django.conf import settings

from haocha.accounts.access import Actor
from haocha.accounts.models import Role
from haocha.analytics import selectors as sel
from haocha.analytics.figures import DEFINITIONS, Counts, Figures
from haocha.analytics.handling import handling_counts
from haocha.analytics.models import Dim
from haocha.analytics.params import region_in_scope
from haocha.assessment import rules
from haocha.assessment.models import AssessmentRule
from haocha.core.errors import Forbidden, InvalidInput, NotFound
from haocha.organisations.models import Organisation, Region

DIMS = {"department": ("部门", Dim.DEPARTMENT), "district": ("区县", Dim.REGION)}


@dataclass
class Row:
    member: int
    name: str
    code: str
    figures: Figures
    values: dict  # measure key -> ratio or count (None: no denominator)
    points: dict = field(default_factory=dict)  # measure key -> points (empty: not assessed)
    total: float | None = None
    rank: int | None = None

    def as_dict(self) -> dict:
        def r(v):
            return None if v is None else round(v, 6)

        return {
            "rank": self.rank,
            "member": self.member,
            "code": self.code,
            "name": self.name,
            "n": self.figures.n,
            "n_orders": self.figures.counts.n_orders,
            "measures": {k: (v if k == "bad" else r(v)) for k, v in self.values.items()},
            "points": dict(self.points),
            "total": self.total,
            "appeal_rejected_share": r(self.figures.appeal_rejected_share),
            "callback_contradicted_share": r(self.figures.callback_contradicted_share),
        }


@dataclass
class Assessment:
    year: int
    dim_key: str
    region: Region
    rule: AssessmentRule
    period: sel.Period
    ranked: list
    insufficient: list

    @property
    def dim_label(self) -> str:
        return DIMS[self.dim_key][0]

    @property
    def rule_text(self) -> str:
        return rules.rule_text(self.rule)

    @property
    def weights(self) -> dict:
        return rules.weights_of(self.rule)

    @property
    def definitions(self) -> dict:
        return {key: DEFINITIONS[key] for key in rules.EXPLAINED}

    def title(self) -> str:
        return f"{self.region.name}{self.year}年度{self.dim_label}目标考核"


def may_assess(actor: Actor) -> None:
    """Supervisors and administrators; a system with ratings:read over whole regions."""
    if actor.all_access or (actor.user is not None and actor.has_role(Role.SUPERVISOR)):
        return
    if actor.client is not None and actor.has_scope("ratings:read") and sel.visible_regions(actor):
        return
    raise Forbidden("年度目标考核仅向监管人员和系统管理员开放", code="role_required")


def parse_dim_key(value: str | None) -> str:
    key = value or "department"
    if key not in DIMS:
        raise InvalidInput("考核对象 dim 须为 department（部门）或 district（区县）", code="unknown_dim")
    return key


def scope_region(actor: Actor, code: str | None) -> Region:
    """The region assessed: the one asked for (in scope, else 404), else this instance's own region when the
    caller sees it, else the widest region the caller sees."""
    if code:
        region = region_in_scope(actor, code)
        if region is not None and (
            actor.all_access or region.pk in {r.pk for r in sel.visible_regions(actor)}
        ):
            return region
        raise NotFound("区划不存在或不在您的权限范围内", code="region_not_found")
    visible = sel.visible_regions(actor)
    own = next((r for r in visible if r.code == settings.HAOCHA_REGION_CODE), None)
    if own is not None:
        return own
    if not visible:
        raise Forbidden("您的账号没有可查看的区划", code="no_region")
    return min(visible, key=lambda r: (r.level, r.path))


def _members(actor: Actor, dim_key: str, region: Region) -> list[int]:
    if dim_key == "department":
        return sel.members_in_scope(actor, Dim.DEPARTMENT, region=region)
    visible = {r.pk for r in sel.visible_regions(actor)}
    return [pk for pk in Region.objects.filter(parent=region).values_list("pk", flat=True) if pk in visible]


def _codes(dim_key: str, ids) -> dict[int, str]:
    if dim_key == "district":
        return dict(Region.objects.filter(pk__in=ids).values_list("pk", "code"))
    rows = Organisation.objects.filter(pk__in=ids).values_list("pk", "credit_code")
    return {pk: code or f"org-{pk}" for pk, code in rows}


def assessment(actor: Actor, *, year: int, dim_key: str, region: Region) -> Assessment:
    dim = DIMS[dim_key][1]
    period = sel.Period.year(year)
    members = _members(actor, dim_key, region)
    figs = sel.breakdown(dim, period, members=members)
    for member, counts in handling_counts(dim, period, members).items():
        figs.setdefault(member, Figures(Counts())).counts.add(counts)
    figs = {m: f for m, f in figs.items() if f.n > 0 or f.counts.n_orders > 0}
    rule = rules.rule_for(region)
    return score(
        year, dim_key, region, rule, period, figs, sel.member_names(dim, figs), _codes(dim_key, figs)
    )


def score(year, dim_key, region, rule, period, figs: dict, names: dict, codes: dict) -> Assessment:
    """The one scoring of the rule over computed figures (page, API, workbook and the push)."""
    weights = rules.weights_of(rule)
    floor = max(rule.min_sample, 1)
    rows = [
        Row(
            m,
            names.get(m, str(m)),
            codes.get(m, str(m)),
            f,
            {x.key: getattr(f, x.key) for x in rules.MEASURES},
        )
        for m, f in figs.items()
    ]
    eligible = [r for r in rows if r.figures.n >= floor]
    short = [r for r in rows if r.figures.n < floor]
    most_bad = max((r.values["bad"] for r in eligible), default=0)
    ceiling = rules.ceiling_of(rule)
    for row in eligible:
        row.points = {
            x.key: round(
                rules.points(x, row.values[x.key], weights[x.key], ceiling=ceiling, most_bad=most_bad), 2
            )
            for x in rules.MEASURES
        }
        row.total = round(sum(row.points.values()), 2)
    eligible.sort(key=lambda r: (-r.total, -r.figures.n, r.name, r.member))
    previous = None
    for position, row in enumerate(eligible, start=1):
        row.rank = previous.rank if previous is not None and previous.total == row.total else position
        previous = row
    short.sort(key=lambda r: (-r.figures.n, r.name, r.member))
    return Assessment(year, dim_key, region, rule, period, eligible, short)
