"""The deadlines and rules of a region's work orders (Changsha: the 1210 rule): the nearest policy up the region tree."""

import time
from dataclasses import dataclass

from haocha.organisations.models import Region
from haocha.workorders.models import WorkOrderPolicy


@dataclass(frozen=True)
class OrderPolicy:
    contact_days: int = 1
    simple_days: int = 2
    complex_days: int = 10
    bad_on_any_indicator: bool = False
    second_escalation_days: int = 2
    appeal_days: int = 5
    repeat_window_days: int = 30
    repeat_threshold: int = 3
    callback_link_days: int = 15
    stated_time_window_hours: int = 2


_FIELDS = tuple(OrderPolicy.__dataclass_fields__)
_policy_cache: dict[int, tuple[float, OrderPolicy]] = {}


def order_policy(region: Region) -> OrderPolicy:
    now = time.monotonic()
    hit = _policy_cache.get(region.pk)
    if hit and now - hit[0] < 30:
        return hit[1]
    codes = [c for c in region.path.strip("/").split("/") if c]
    found = {
        p.region.code: p
        for p in WorkOrderPolicy.objects.filter(region__code__in=codes).select_related("region")
    }
    policy = OrderPolicy()
    for code in reversed(codes):
        p = found.get(code)
        if p is not None:
            policy = OrderPolicy(**{name: getattr(p, name) for name in _FIELDS})
            break
    _policy_cache[region.pk] = (now, policy)
    return policy


def clear_order_policy_cache() -> None:
    _policy_cache.clear()
