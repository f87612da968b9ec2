"""系统默认评价: a finished case left unrated for N natural days gets the region policy's default level.

Off unless a region's RatingPolicy enables it (Changsha: off). The ratings are marked `is_default`,
use the channel `default` (which the public intake refuses), and are never a 差评. The sweep is
idempotent and safe in several workers at once: the unique (case, kind) constraint lets one insert win.
"""

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from haocha.catalogue.models import Case
from haocha.core import clock
from haocha.evaluations import rules
from haocha.evaluations.models import Rating, RatingPolicy
from haocha.evaluations.policy import active_set
from haocha.evaluations.services import case_snapshot

logger = logging.getLogger(__name__)

# Cases finished longer ago than this before their deadline are not looked at again on every sweep
# (a backlog after a long outage is still covered: a month is far beyond any outage we plan for).
LOOKBACK = timedelta(days=30)
ONLINE_APPLY_CHANNELS = (Case.ApplyChannel.ONLINE, Case.ApplyChannel.MOBILE)


def rating_default_apply(*, case: Case, level: str, rated_at: datetime) -> Rating | None:
    """Store the system default rating of one case; None if the case already has a first rating."""
    set_code = "online" if case.apply_channel in ONLINE_APPLY_CHANNELS else "offline"
    ctx = rules.Context(
        now=clock.now(),
        arrival=False,
        policy=None,
        indicator_set=active_set(set_code),
        case=case_snapshot(case),
    )
    try:
        fields = rules.default_rating(ctx, level, rated_at)
    except rules.RuleError as exc:
        if exc.code == "indicator_set_missing":
            return None  # nothing to rate with yet; the next sweep tries again
        raise
    try:
        with transaction.atomic():
            return Rating.objects.create(
                **fields, idempotency_scope="system", idempotency_key=f"default:{case.case_no}"[:64]
            )
    except IntegrityError:
        return None  # rated meanwhile (by the citizen or another worker): the unique constraint decided


def _candidates(policy: RatingPolicy, others: list[RatingPolicy], now: datetime, batch: int):
    due_before = now - timedelta(days=policy.default_rating_days)
    since = now - timedelta(days=policy.default_rating_days) - LOOKBACK
    if policy.default_rating_since is not None:
        first_day = timezone.make_aware(
            datetime.combine(policy.default_rating_since, datetime.min.time()),
            timezone.get_default_timezone(),
        )
        since = max(since, first_day)
    qs = Case.objects.filter(
        status=Case.Status.FINISHED,
        finished_at__lte=due_before,
        finished_at__gte=since,
        region__path__startswith=policy.region.path,
    ).exclude(source__child_system__isnull=False)  # a lower-level system's case: its own system applies them
    # Regions below with a policy of their own follow that policy (the nearest up the tree applies).
    inner = Q(pk__in=[])
    for other in others:
        if other.pk != policy.pk and other.region.path.startswith(policy.region.path):
            inner |= Q(region__path__startswith=other.region.path)
    rated = Rating.objects.filter(case_id=OuterRef("pk"), kind=Rating.Kind.FIRST)
    return list(
        qs.exclude(inner)
        .filter(~Exists(rated))
        .select_related("region")
        .order_by("finished_at", "pk")[:batch]
    )


def default_ratings_sweep(*, now: datetime | None = None, batch: int = 500, max_batches: int = 20) -> dict:
    """Apply due default ratings in every region whose policy enables them; returns counts. A policy whose
    level the rule book refuses (written past the admin's choices) makes none and is counted as refused."""
    now = now or clock.now()
    counts = {"created": 0, "skipped": 0, "refused": 0}
    policies = list(RatingPolicy.objects.select_related("region"))
    for policy in policies:
        if not policy.default_rating_enabled:
            continue
        try:
            _sweep_policy(policy, policies, now, batch, max_batches, counts)
        except rules.RuleError as exc:
            logger.warning("系统默认评价：%s的规则被拒绝（%s）", policy, exc.message)
            counts["refused"] += 1
    return counts


def _sweep_policy(policy, policies, now, batch, max_batches, counts) -> None:
    for _ in range(max_batches):
        cases = _candidates(policy, policies, now, batch)
        with transaction.atomic():
            for case in cases:
                rated_at = case.finished_at + timedelta(days=policy.default_rating_days)
                created = rating_default_apply(
                    case=case, level=policy.default_rating_level, rated_at=min(rated_at, now)
                )
                counts["created" if created else "skipped"] += 1
        if len(cases) < batch:
            return
