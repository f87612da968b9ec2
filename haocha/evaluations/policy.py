"""Resolve the rating policy for a region (nearest ancestor with one) and the active indicator sets."""

import time
from dataclasses import dataclass, field
from datetime import date

from haocha.evaluations.models import IndicatorSet, RatingPolicy
from haocha.organisations.models import Region

_TTL = 30.0


@dataclass(frozen=True)
class EffectivePolicy:
    follow_up_days: int = 15
    rating_window_days: int = 0
    allow_visit_ratings: bool = True
    channel_codes: dict = field(default_factory=dict)
    default_rating_enabled: bool = False
    default_rating_days: int = 7
    default_rating_level: str = "satisfied"
    default_rating_since: date | None = None


@dataclass(frozen=True)
class ActiveSet:
    indicator_set: IndicatorSet
    overall_code: str
    indicator_codes: frozenset
    reason_levels: dict  # reason code -> level


_policy_cache: dict[int, tuple[float, EffectivePolicy]] = {}
_set_cache: dict[str, tuple[float, ActiveSet]] = {}


def policy_for_region(region: Region) -> EffectivePolicy:
    now = time.monotonic()
    hit = _policy_cache.get(region.pk)
    if hit and now - hit[0] < _TTL:
        return hit[1]
    codes = [c for c in region.path.strip("/").split("/") if c]
    policies = {
        p.region.code: p for p in RatingPolicy.objects.filter(region__code__in=codes).select_related("region")
    }
    effective = EffectivePolicy()
    for code in reversed(codes):
        p = policies.get(code)
        if p is not None:
            effective = EffectivePolicy(
                follow_up_days=p.follow_up_days,
                rating_window_days=p.rating_window_days,
                allow_visit_ratings=p.allow_visit_ratings,
                channel_codes=dict(p.channel_codes or {}),
                default_rating_enabled=p.default_rating_enabled,
                default_rating_days=p.default_rating_days,
                default_rating_level=p.default_rating_level,
                default_rating_since=p.default_rating_since,
            )
            break
    _policy_cache[region.pk] = (now, effective)
    return effective


def active_set(code: str) -> ActiveSet | None:
    now = time.monotonic()
    hit = _set_cache.get(code)
    if hit and now - hit[0] < _TTL:
        return hit[1]
    ind_set = IndicatorSet.objects.filter(code=code, is_active=True).first()
    if ind_set is None:
        return None
    indicators = list(ind_set.indicators.all())
    overall = next((i.code for i in indicators if i.is_overall), "overall")
    result = ActiveSet(
        indicator_set=ind_set,
        overall_code=overall,
        indicator_codes=frozenset(i.code for i in indicators),
        reason_levels={r.code: r.level for r in ind_set.reasons.all()},
    )
    _set_cache[code] = (now, result)
    return result


def clear_policy_caches() -> None:
    _policy_cache.clear()
    _set_cache.clear()
