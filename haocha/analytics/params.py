"""Checked statistics parameters (dimension, period, unit, channel), shared by the API and the pages.

Every refusal is a DomainError with a machine code and a Chinese message; a unit outside the caller's
scope is answered exactly like one that does not exist (404), so scope cannot be probed.
"""

from datetime import date

from haocha.accounts.access import Actor
from haocha.analytics.models import Dim
from haocha.analytics.selectors import Period, members_in_scope, visible_regions
from haocha.core.errors import InvalidInput, NotFound
from haocha.evaluations.channels import Channel
from haocha.organisations.models import Organisation, Region

DIM_NAMES = {
    "region": Dim.REGION,
    "department": Dim.DEPARTMENT,
    "hall": Dim.HALL,
    "window": Dim.WINDOW,
    "staff": Dim.STAFF,
    "item": Dim.ITEM,
}
DIM_KEYS = {v: k for k, v in DIM_NAMES.items()}
MAX_DAYS = 366
MIN_YEAR, MAX_YEAR = 2000, 2100


def parse_dim(value: str | None, allowed=tuple(DIM_NAMES)) -> int:
    if value not in allowed:
        raise InvalidInput(f"统计维度 dim 须为 {'、'.join(allowed)} 之一", code="unknown_dim")
    return DIM_NAMES[value]


def parse_date(value: str | None, name: str) -> date:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        raise InvalidInput(f"{name} 须为 YYYY-MM-DD 格式的日期", code="invalid_date") from None


def check_period(start: date, end: date) -> Period:
    if not (MIN_YEAR <= start.year <= MAX_YEAR and MIN_YEAR <= end.year <= MAX_YEAR):
        raise InvalidInput(f"统计期须在 {MIN_YEAR} 年至 {MAX_YEAR} 年之间", code="invalid_date")
    if start > end:
        raise InvalidInput("开始日期不能晚于结束日期", code="period_reversed")
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidInput(f"统计期不能超过 {MAX_DAYS} 天", code="period_too_long")
    return Period(start, end)


def parse_period(start: str | None, end: str | None) -> Period:
    return check_period(parse_date(start, "start"), parse_date(end, "end"))


def parse_year_month(year: int | None, month: int | None) -> Period:
    if year is None or not (MIN_YEAR <= year <= MAX_YEAR):
        raise InvalidInput(f"year 须为 {MIN_YEAR}–{MAX_YEAR} 之间的年份", code="invalid_year")
    if month is None:
        return Period.year(year)
    if not 1 <= month <= 12:
        raise InvalidInput("month 须为 1–12", code="invalid_month")
    return Period.month(year, month)


def parse_channel(value: str | None) -> str:
    if not value:
        return ""
    if value not in Channel.values:
        raise InvalidInput(f"未知的评价渠道：{value}", code="unknown_channel")
    return value


def region_in_scope(actor: Actor, code: str | None) -> Region | None:
    """A region the caller may see totals of, or (for unit-scoped callers) one their units lie in."""
    if not code:
        return None
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise NotFound("区划不存在或不在您的权限范围内", code="region_not_found")
    if region.pk in {r.pk for r in visible_regions(actor)}:
        return region
    if (
        actor.all_access
        or Organisation.objects.filter(pk__in=actor.org_ids, region__path__startswith=region.path).exists()
    ):
        return region
    raise NotFound("区划不存在或不在您的权限范围内", code="region_not_found")


def organisation_in_scope(
    actor: Actor, org_id: int | None, *, halls: bool | None = None
) -> Organisation | None:
    if org_id is None:
        return None
    org = Organisation.objects.filter(pk=org_id).first()
    if org is None or not actor.can_see_org(org.pk) or (halls is not None and org.is_hall != halls):
        raise NotFound("机构不存在或不在您的权限范围内", code="organisation_not_found")
    return org


def member_in_scope(actor: Actor, dim: int, member: int | None) -> int:
    if member is None:
        raise InvalidInput("请提供统计单位 member", code="member_required")
    if member not in set(members_in_scope(actor, dim)):
        raise NotFound("统计单位不存在或不在您的权限范围内", code="member_not_found")
    return member
