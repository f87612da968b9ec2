"""In-app notices about work orders: rows in the outbox, delivered by the worker to the users holding a role."""

import time

from haocha.accounts.recipients import role_holders
from haocha.core.outbox import outbox_enqueue
from haocha.workorders.models import WorkOrder

_users_cache: dict[tuple, tuple[float, list[int]]] = {}


def users_of(org_ids, roles) -> list[int]:
    """Users holding one of `roles` over these organisations (cached briefly: assignments change rarely)."""
    key = (tuple(sorted(org_ids)), tuple(sorted(roles)))
    hit = _users_cache.get(key)
    if hit and time.monotonic() - hit[0] < 30:
        return hit[1]
    users = role_holders(org_ids, roles)
    _users_cache[key] = (time.monotonic(), users)
    return users


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
