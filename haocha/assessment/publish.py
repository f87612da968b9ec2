"""What is published to the 政务服务成效管理系统: each unit's monthly results (the rows of the 成效管理系统
export, analytics/export.py) and the annual assessment (this app's table), queued as PerformanceRecords
(integrations/performance) and delivered through the outbox. No personal data: units and figures only.

The worker queues the last full month once it has ended (and, in January, the year just ended), checked at
most once a day; `haocha performance push` and the admins' button queue a year or a month on demand. A
result whose content did not change is not sent again; a changed one goes as the next version.
"""

from datetime import date

from django.conf import settings
from django.utils import timezone

from haocha.accounts.access import Actor
from haocha.analytics import selectors as sel
from haocha.analytics.export import EXPORT_DIMS, export_rows
from haocha.analytics.params import DIM_NAMES
from haocha.analytics.periods import last_full_month
from haocha.assessment import selectors as asel
from haocha.catalogue.models import ServiceItem
from haocha.core.errors import InvalidInput
from haocha.integrations.performance.client import configured
from haocha.integrations.performance.delivery import Result, record_queue
from haocha.integrations.performance.models import PerformanceRecord
from haocha.organisations.models import Organisation, Region, Window

SYSTEM = Actor(label="成效管理系统推送", all_access=True)
K = PerformanceRecord.Kind
_last_check: dict[str, date] = {}


def own_region() -> Region:
    region = Region.objects.filter(code=settings.HAOCHA_REGION_CODE).first()
    if region is None:
        raise InvalidInput(
            f"本系统所在区划 {settings.HAOCHA_REGION_CODE} 不存在（HAOCHA_REGION_CODE）",
            code="region_missing",
        )
    return region


def _unit_codes(dim_key: str, ids) -> dict[int, str]:
    ids = list(ids)
    if dim_key in ("department", "hall"):
        rows = Organisation.objects.filter(pk__in=ids).values_list("pk", "credit_code")
        return {pk: code or f"org-{pk}" for pk, code in rows}
    if dim_key == "window":
        return dict(Window.objects.filter(pk__in=ids).values_list("pk", "code"))
    return dict(ServiceItem.objects.filter(pk__in=ids).values_list("pk", "code"))


def monthly_results(year: int, month: int) -> list[Result]:
    """Every unit's results for the month, as the export states them, under this region's score policy."""
    region = own_region()
    period = sel.Period.month(year, month)
    weights, min_sample, prior_weight = sel.weights_for(region)
    out = []
    for dim_key in EXPORT_DIMS:
        dim = DIM_NAMES[dim_key]
        members = sel.members_in_scope(SYSTEM, dim, region=region)
        ranking = sel.ranking(
            dim, period, members=members, weights=weights, min_sample=min_sample, prior_weight=prior_weight
        )
        rows = export_rows(ranking)
        codes = _unit_codes(dim_key, [r["member"] for r in rows])
        for row in rows:
            figures = {k: v for k, v in row.items() if k not in ("member", "name")}
            out.append(
                Result(
                    kind=K.MONTHLY,
                    unit_kind=dim_key,
                    unit_id=row["member"],
                    unit_code=codes.get(row["member"], str(row["member"])),
                    unit_name=row["name"],
                    period=f"{year:04d}-{month:02d}",
                    payload={"region": region.code, "figures": figures, "rule": ranking.rule},
                )
            )
    return out


def assessment_results(year: int) -> list[Result]:
    """Every department's and district's annual assessment, with the rule applied."""
    region = own_region()
    out = []
    for dim_key in asel.DIMS:
        a = asel.assessment(SYSTEM, year=year, dim_key=dim_key, region=region)
        for row in a.ranked + a.insufficient:
            body = row.as_dict()
            out.append(
                Result(
                    kind=K.ASSESSMENT,
                    unit_kind=dim_key,
                    unit_id=row.member,
                    unit_code=row.code,
                    unit_name=row.name,
                    period=f"{year:04d}",
                    payload={
                        "region": region.code,
                        "assessed": row.rank is not None,
                        **{k: v for k, v in body.items() if k not in ("member", "name", "code")},
                        "rule": {"text": a.rule_text, "weights": a.weights},
                    },
                )
            )
    return out


def push(*, year: int, month: int | None = None, assessment: bool = False) -> dict:
    """Queue a month's results (month given), or every ended month of the year, and/or the year's
    assessment; returns the counts of new, changed and unchanged records."""
    today = timezone.localdate()
    results: list[Result] = []
    if month is not None:
        results += monthly_results(year, month)
    elif not assessment:
        last = last_full_month(today)
        for m in range(1, 13):
            if date(year, m, 1) <= last:
                results += monthly_results(year, m)
    if assessment:
        results += assessment_results(year)
    return record_queue(results)


def queue_due(today: date | None = None) -> str | None:
    """The worker's monthly step: the last full month's results (and in January the year just ended)."""
    if not configured():
        return None
    today = today or timezone.localdate()
    month = last_full_month(today)
    seen = _last_check.get("month")
    if seen is not None and seen == today:
        return None
    _last_check["month"] = today  # at most once a day and process; unchanged results are not re-sent anyway
    counts = record_queue(monthly_results(month.year, month.month))
    if month.month == 12:
        year_counts = record_queue(assessment_results(month.year))
        counts = {k: counts[k] + year_counts[k] for k in counts}
    if counts["new"] or counts["changed"]:
        return f"成效管理系统：{month:%Y年%m月}结果新增 {counts['new']} 条、变更 {counts['changed']} 条待推送"
    return None
