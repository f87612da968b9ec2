"""Counts over the work-order log that the rollups do not hold: decided appeals (申诉) and the answer of each
回访, per department or per region, by the month the order was received (as every work-order figure).

They feed 申诉不成立占比, 回访否定占比 and 真实性 (analytics/figures.py). They read the appeals and the
回访 steps of the orders received in the period, not the ratings: 差评 are 0.01–1 % of ratings, so a year of
a city's orders is thousands of rows, read for the yearly assessment only.
"""

from datetime import datetime

from django.db.models import Q

from haocha.analytics.models import Dim
from haocha.analytics.selectors import Period
from haocha.analytics.services import month_bounds
from haocha.organisations.models import Region
from haocha.workorders.models import Appeal, Transition

CALLBACK = "callback"  # the machine's action name (workorders/machine.py)


def _received_between(period: Period) -> tuple[datetime, datetime]:
    """Every whole month the period touches, as the order rollups count them."""
    months = period.months()
    return month_bounds(months[0])[0], month_bounds(months[-1])[1]


def _unit_of(dim: int, members: list[int]):
    """A function taking (department id, region path) of an order to the member it counts for, or None."""
    if dim == Dim.DEPARTMENT:
        wanted = set(members)
        return lambda dept, path: dept if dept in wanted else None
    if dim != Dim.REGION:
        raise ValueError("只按部门或区划统计申诉与回访")
    paths = sorted(Region.objects.filter(pk__in=members).values_list("path", "pk"), key=lambda p: -len(p[0]))

    def region_of(_dept, path):
        # the deepest member containing the order's region (members are siblings: at most one matches)
        return next((pk for p, pk in paths if path and path.startswith(p)), None)

    return region_of


def handling_counts(dim: int, period: Period, members) -> dict[int, dict]:
    """{member: {n_appeals_upheld, n_appeals_rejected, n_callback_answers, n_callback_unsolved}}."""
    members = list(members)
    if not members:
        return {}
    unit = _unit_of(dim, members)
    start, end = _received_between(period)
    received = Q(order__received_at__gte=start, order__received_at__lt=end)
    out: dict[int, dict] = {}

    def add(member, key):
        if member is not None:
            row = out.setdefault(member, dict.fromkeys(HANDLING_COUNTS, 0))
            row[key] += 1

    appeals = Appeal.objects.filter(received, status__in=(Appeal.Status.UPHELD, Appeal.Status.REJECTED))
    for dept, path, status in appeals.values_list("order__department_id", "order__region__path", "status"):
        key = "n_appeals_upheld" if status == Appeal.Status.UPHELD else "n_appeals_rejected"
        add(unit(dept, path), key)
    steps = Transition.objects.filter(received, action=CALLBACK)
    for dept, path, data in steps.values_list("order__department_id", "order__region__path", "data"):
        solved = (data or {}).get("solved")
        if not isinstance(solved, bool):
            continue  # not an answered 回访 (a lower-level system's step without the answer)
        member = unit(dept, path)
        add(member, "n_callback_answers")
        if not solved:
            add(member, "n_callback_unsolved")
    return out


HANDLING_COUNTS = ("n_appeals_upheld", "n_appeals_rejected", "n_callback_answers", "n_callback_unsolved")
