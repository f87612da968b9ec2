"""全数据监测 at a parent: per child system, what arrived and when, what was refused, how its figures
reconcile, and alerts (through the outbox to the supervisors) when it goes silent, is refused too often,
disagrees with its own daily counts, or sends an implausible distribution.

Definitions (also on the page):
- 滞后 (lag) of a rating: received here − rated at the child; p95 over the ratings received in the last hour.
- 评价率 = finished cases of the child in the last 30 days that have a first rating ÷ those finished cases.
- 默认评价占比 = default ratings ÷ all ratings of the child in the last 30 days.
- 拒收率 = records refused in the last 24 hours ÷ (refused + accepted in the last 24 hours).
"""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from haocha.accounts.access import Actor, Permission
from haocha.accounts.models import Role, RoleAssignment
from haocha.catalogue.models import Case
from haocha.core import clock
from haocha.core.errors import NotFound
from haocha.core.outbox import outbox_enqueue
from haocha.evaluations.models import Rating
from haocha.integrations.docking.models import (
    Alert,
    ChildSystem,
    DailyCount,
    ReceivedRecord,
    RecordKind,
    RejectedRecord,
)
from haocha.organisations.models import Organisation
from haocha.workcalendar.arithmetic import local_date
from haocha.workcalendar.services import workdays

MONITOR = Permission("查看下级系统监测", (Role.SUPERVISOR,))
REJECT_ALERT = 0.05
IMPLAUSIBLE_MIN = 10_000


# The work-order figures (整改率, 按时整改率) are defined in analytics, a layer above: it registers the
# function that computes them over the orders a child handles.
_ORDER_FIGURES: list = []


def on_order_figures(fn) -> None:
    if fn not in _ORDER_FIGURES:
        _ORDER_FIGURES.append(fn)


def _order_rates(child: ChildSystem, now) -> dict:
    if not _ORDER_FIGURES:
        return {"orders": None, "rectify_rate": None, "on_time_rate": None}
    figures = _ORDER_FIGURES[0](child.client_id, now)

    def pct(value):
        return None if value is None else round(100.0 * value, 2)

    return {
        "orders": figures.counts.n_orders,
        "rectify_rate": pct(figures.rectify_rate),
        "on_time_rate": pct(figures.on_time_rate),
    }


def children_for(actor: Actor):
    """The child systems whose region holds an organisation the actor monitors (all for an administrator)."""
    children = ChildSystem.objects.select_related("region", "client").order_by("region__code", "name")
    orgs = actor.orgs_for(MONITOR)
    if orgs is None:
        return children
    paths = set(Organisation.objects.filter(pk__in=orgs).values_list("region__path", flat=True))
    keep = [
        c.pk
        for c in children
        if any(c.region.path.startswith(p) or p.startswith(c.region.path) for p in paths)
    ]
    return children.filter(pk__in=keep)


def child_for(actor: Actor, pk: int) -> ChildSystem:
    child = children_for(actor).filter(pk=pk).first()
    if child is None:
        raise NotFound("下级系统不存在或无权查看", code="child_not_found")
    return child


def record_counts(child: ChildSystem, counts: dict) -> None:
    """Store a child's daily counts: {"rating": {"2026-12-01": 1234, ...}, "service": {...}}."""
    now = clock.now()
    for kind, days in counts.items():
        if kind not in RecordKind.values or not isinstance(days, dict):
            continue
        for day, n in list(days.items())[:62]:
            try:
                parsed = date.fromisoformat(str(day))
            except ValueError:
                continue
            if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n < 2**31:
                continue
            DailyCount.objects.update_or_create(
                child=child, day=parsed, kind=kind, defaults={"reported": n, "reported_at": now}
            )


def p95(values: list[float]) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


def child_figures(child: ChildSystem, now: datetime | None = None) -> dict:
    now = now or clock.now()
    client = child.client_id
    hour_ago, day_ago, month_ago = now - timedelta(hours=1), now - timedelta(days=1), now - timedelta(days=30)
    lags = [
        max(0.0, (received - happened).total_seconds())  # a child's clock running ahead is no negative lag
        for received, happened in ReceivedRecord.objects.filter(
            child=child, kind=RecordKind.RATING, received_at__gte=hour_ago, happened_at__isnull=False
        ).values_list("received_at", "happened_at")
    ]
    accepted_day = ReceivedRecord.objects.filter(child=child, received_at__gte=day_ago).count()
    rejected_day = RejectedRecord.objects.filter(child=child, at__gte=day_ago).count()
    finished = Case.objects.filter(source_id=client, finished_at__gte=month_ago, status=Case.Status.FINISHED)
    finished_n = finished.count()
    rated_n = finished.filter(ratings__kind=Rating.Kind.FIRST).distinct().count()
    ratings = Rating.objects.filter(source_id=client, rated_at__gte=month_ago)
    totals = ratings.aggregate(
        n=Count("pk"), defaults=Count("pk", filter=Q(is_default=True)), bad=Count("pk", filter=Q(is_bad=True))
    )
    silent_for = (now - child.last_upload_at).total_seconds() if child.last_upload_at else None
    return {
        "child": child,
        "last_upload_at": child.last_upload_at,
        "silent_seconds": silent_for,
        "lag_p95_seconds": p95(lags),
        "received_last_hour": len(lags),
        "accepted_24h": accepted_day,
        "rejected_24h": rejected_day,
        "reject_rate": _rate(rejected_day, rejected_day + accepted_day),
        "cases_finished_30d": finished_n,
        "cases_rated_30d": rated_n,
        "rating_rate": _rate(rated_n, finished_n),
        "unrated_rate": _rate(finished_n - rated_n, finished_n),
        "ratings_30d": totals["n"],
        "bad_30d": totals["bad"],
        "default_share": _rate(totals["defaults"], totals["n"]),
        "rejects_by_reason": list(
            RejectedRecord.objects.filter(child=child)
            .values("code")
            .annotate(n=Count("pk"))
            .order_by("-n")[:10]
        ),
        "alerts": list(Alert.objects.filter(child=child, cleared_at__isnull=True)[:10]),
        **_order_rates(child, now),
    }


def per_day(child: ChildSystem, days: int = 14, now: datetime | None = None) -> list[dict]:
    """Records received per day, with the child's own count of ratings for that day when it sent one."""
    now = now or clock.now()
    start = local_date(now) - timedelta(days=days - 1)
    received = dict(
        ReceivedRecord.objects.filter(child=child, kind=RecordKind.RATING, happened_at__date__gte=start)
        .annotate(d=TruncDate("happened_at"))
        .values_list("d")
        .annotate(n=Count("pk"))
        .values_list("d", "n")
    )
    reported = dict(
        DailyCount.objects.filter(child=child, kind=RecordKind.RATING, day__gte=start).values_list(
            "day", "reported"
        )
    )
    out = []
    for i in range(days):
        day = start + timedelta(days=i)
        out.append({"day": day, "received": received.get(day, 0), "reported": reported.get(day)})
    return out


def _working_now(now: datetime) -> bool:
    return workdays.in_working_hours(now)


def _raise(child: ChildSystem, kind: str, detail: str, now: datetime) -> bool:
    try:
        with transaction.atomic():
            Alert.objects.create(
                child=child, kind=kind, day=local_date(now), detail=detail[:300], raised_at=now
            )
    except IntegrityError:
        return False
    supervisors = list(
        RoleAssignment.objects.filter(role=Role.SUPERVISOR, region__path__in=_ancestors(child))
        .values_list("user_id", flat=True)
        .distinct()
    )
    if supervisors:
        outbox_enqueue(
            topic="staff.notify",
            key=f"docking-alert:{child.pk}:{kind}:{local_date(now)}",
            payload={
                "user_ids": supervisors,
                "key": f"docking-alert:{child.pk}:{kind}:{local_date(now)}",
                "title": f"下级系统告警：{child.name} {Alert.Kind(kind).label}",
                "body": detail,
                "link": f"/docking/children/{child.pk}/",
            },
        )
    return True


def _ancestors(child: ChildSystem) -> list[str]:
    parts = [p for p in child.region.path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def check_alerts(now: datetime | None = None) -> int:
    """Look at every active child; raise what is wrong (once a day each) and clear what is no longer."""
    now = now or clock.now()
    silent_after = settings.HAOCHA_DOCKING_SILENT_MINUTES * 60
    raised = 0
    for child in ChildSystem.objects.filter(is_active=True).select_related("region", "client"):
        f = child_figures(child, now)
        problems = {}
        if _working_now(now) and (f["silent_seconds"] is None or f["silent_seconds"] > silent_after):
            minutes = int((f["silent_seconds"] or 0) // 60)
            problems[Alert.Kind.SILENT] = (
                f"已 {minutes} 分钟未收到上报" if f["silent_seconds"] else "从未收到上报"
            )
        if f["reject_rate"] is not None and f["reject_rate"] > 100 * REJECT_ALERT and f["rejected_24h"] >= 10:
            problems[Alert.Kind.REJECTS] = f"近24小时拒收 {f['rejected_24h']} 条，拒收率 {f['reject_rate']}%"
        for row in per_day(child, 7, now)[:-1]:  # today is still arriving
            if row["reported"] is not None and row["reported"] != row["received"]:
                problems[Alert.Kind.COUNTS] = (
                    f"{row['day']:%m月%d日} 下级申报评价 {row['reported']} 条，实际到达 {row['received']} 条"
                )
                break
        if f["ratings_30d"] >= IMPLAUSIBLE_MIN and f["bad_30d"] == 0:
            problems[Alert.Kind.IMPLAUSIBLE] = f"近30天 {f['ratings_30d']} 条评价中没有一条差评"
        for kind, detail in problems.items():
            raised += _raise(child, kind, detail, now)
        Alert.objects.filter(child=child, cleared_at__isnull=True).exclude(kind__in=list(problems)).update(
            cleared_at=now
        )
    return raised
