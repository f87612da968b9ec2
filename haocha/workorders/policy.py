"""The deadlines and rules of a region's work orders (Changsha: the 1210 rule): the nearest policy up the region tree."""

from dataclasses import dataclass

from haocha.organisations.models import Region
from haocha.organisations.policies import nearest_policy
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
DEFAULT = OrderPolicy()


def order_policy(region: Region) -> OrderPolicy:
    """The region's own WorkOrderPolicy or its nearest ancestor's (organisations/policies.py), else the defaults."""
    row = nearest_policy(WorkOrderPolicy, region)
    return DEFAULT if row is None else OrderPolicy(**{name: getattr(row, name) for name in _FIELDS})
