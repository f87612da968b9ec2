"""In-app notices about work orders: rows in the outbox, delivered by the worker to the users holding a role."""

import time

from django.db.models import Q

from haocha.accounts.models import RoleAssignment
from haocha.core.outbox import outbox_enqueue
from haocha.organisations.models import Organisation
from haocha.workorders.models import WorkOrder

_users_cache: dict[tuple, tuple[float, list[int]]] = {}


def users_of(org_ids, roles) -> list[int]:
    """Users holding one of `roles` over these organisations (cached briefly: assignments change rarely)."""
    key = (tuple(sorted(org_ids)), tuple(sorted(roles)))
    hit = _users_cache.get(key)
    if hit and time.monotonic() - hit[0] < 30:
        return hit[1]
    users = _users_of_uncached(org_ids, roles)
    _users_cache[key] = (time.monotonic(), users)
    return users


def _users_of_uncached(org_ids, roles) -> list[int]:
    orgs = Organisation.objects.filter(pk__in=org_ids).only("path", "region__path").select_related("region")
    q = Q(pk__in=[])
    for org in orgs:
        # a role over the organisation itself, an ancestor organisation, or a region containing it
        ancestors = [int(p) for p in org.path.strip("/").split("/") if p]
        q |= Q(organisation_id__in=ancestors)
        codes = [c for c in org.region.path.strip("/").split("/") if c]
        q |= Q(region__code__in=codes)
    return sorted(set(RoleAssignment.objects.filter(q, role__in=roles).values_list("user_id", flat=True)))


def clear_recipient_cache() -> None:
    _users_cache.clear()


def excerpt(text: str, length: int = 200) -> str:
    """The start of a long text for a notice's body, marked as cut."""
    return text if len(text) <= length else text[: length - 1] + "…"


def notify(order: WorkOrder, *, key: str, title: str, body: str, org_ids, roles) -> None:
    users = users_of([o for o in org_ids if o], roles)
    if users:
        outbox_enqueue(
            topic="staff.notify",
            key=f"wo:{order.number}:{key}",
            payload={
                "user_ids": users,
                "key": f"wo:{order.number}:{key}",
                "title": title,
                "body": body,
                "link": f"/workorders/{order.number}/",
            },
        )
