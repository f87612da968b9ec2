"""Helpers for work-order tests: a 差评 through the API, actions through the workbench, frozen time."""

from contextlib import contextmanager
from datetime import datetime
from unittest import mock

from django.test import Client

from haocha.workorders.models import WorkOrder
from tests.factories import finished_case


@contextmanager
def frozen(moment: datetime):
    """Freeze django.utils.timezone.now (services, auto_now fields and the sweep all read it)."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def bad_rating(
    cast, case_no, *, seq=1, window=None, level="dissatisfied", comment="窗口让我来回跑了三次", **extra
):
    finished_case(cast, case_no, seq=seq, window=window)
    body = {
        "case_no": case_no,
        "channel": "tablet" if window else "pc",
        "level": level,
        "comment": comment,
        **extra,
    }
    r = Client().post(
        "/api/ratings", body, content_type="application/json", headers={"X-Api-Key": cast.key_city}
    )
    assert r.status_code == 201, r.content
    return WorkOrder.objects.get(rating__public_id=r.json()["id"])


def staff(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def act(user, order, action, **data):
    """POST a workbench action as `user`; returns the response (302 on success, 4xx page on refusal)."""
    return staff(user).post(f"/workorders/{order.number}/act/{action}/", data)


def refresh(order) -> WorkOrder:
    return WorkOrder.objects.get(pk=order.pk)


def error_code(response) -> str | None:
    """The code of a refused workbench step, as the page states it (data-code on the error)."""
    import re

    found = re.search(r'id="action-error"[^>]*data-code="([^"]+)"', response.content.decode())
    return found.group(1) if found else None


def notice(response) -> str:
    """The answer to a step that changed nothing (a repeat), as the page states it."""
    import re

    found = re.search(r'id="action-notice"[^>]*>([^<]*)<', response.content.decode())
    return found.group(1) if found else ""
