"""The rating policy of a region (the nearest up the tree, through the one resolver) and the active indicator sets."""

import time
from dataclasses import dataclass, field
from datetime import date

from django.db.models.signals import post_delete, post_save

from haocha.evaluations.models import Indicator, IndicatorSet, RatingPolicy, ReasonOption
from haocha.organisations.models import Region
from haocha.organisations.policies import nearest_policy

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


_FIELDS = tuple(EffectivePolicy.__dataclass_fields__)
DEFAULT = EffectivePolicy()


@dataclass(frozen=True)
class ActiveSet:
    indicator_set: IndicatorSet
    overall_code: str
    indicator_codes: frozenset
    reason_levels: dict  # reason code -> level


_set_cache: dict[str, tuple[float, ActiveSet]] = {}


def policy_for_region(region: Region) -> EffectivePolicy:
    """The region's own RatingPolicy or its nearest ancestor's (organisations/policies.py), else the defaults."""
    row = nearest_policy(RatingPolicy, region)
    if row is None:
        return DEFAULT
    values = {name: getattr(row, name) for name in _FIELDS}
    values["channel_codes"] = dict(row.channel_codes or {})
    return EffectivePolicy(**values)


def active_set(code: str) -> ActiveSet | None:
    """The active indicator set of a code; cached for a while, cleared when a set, indicator or reason is saved."""
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


def clear_set_cache(**_ignored) -> None:
    _set_cache.clear()


for _model in (IndicatorSet, Indicator, ReasonOption):
    post_save.connect(
        clear_set_cache, sender=_model, weak=False, dispatch_uid=f"indicator-set:{_model.__name__}"
    )
    post_delete.connect(
        clear_set_cache, sender=_model, weak=False, dispatch_uid=f"indicator-set-del:{_model.__name__}"
    )
