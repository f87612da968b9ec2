"""A 追评 差评 on an order that is over (核实无效 after an upheld appeal, or 已办结) starts a new cycle at 12345
核实, with no extension days carried over; the old extensions stay on record."""

from datetime import datetime

import pytest
from django.test import Client

from haocha.workcalendar.arithmetic import SHANGHAI
from haocha.workcalendar.services import workdays
from haocha.workorders.models import Extension, Status
from tests.workorder_helpers import act, bad_rating, frozen, refresh

pytestmark = pytest.mark.django_db


def sh(*args):
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def fresh_calendar():
    workdays.refresh()
    workdays.invalidate()
    yield
    workdays.refresh()
    workdays.invalidate()


def follow_up(cast, case_no):
    r = Client().post(
        "/api/ratings/follow-up",
        {"case_no": case_no, "channel": "pc", "level": "very_dissatisfied", "comment": "问题还在"},
        content_type="application/json",
        headers={"X-Api-Key": cast.key_city},
    )
    assert r.status_code == 201, r.content


def extended_order(cast, case_no):
    """Assigned Monday 11-02 09:00, contacted, with an approved extension of three working days."""
    with frozen(sh(2026, 11, 2, 9, 0)):
        order = bad_rating(cast, case_no)
        act(cast.operator, order, "verify", valid="1", complexity="simple", department=cast.dept_a.pk)
        act(cast.handler_a, order, "contact", method="phone", outcome="已联系")
        assert (
            act(cast.handler_a, order, "request_extension", days="3", reason="需现场核查").status_code == 302
        )
        assert act(cast.operator, order, "decide_extension", approve="1", note="同意").status_code == 302
    order = refresh(order)
    assert order.extension_days == 3
    return order


def assert_new_cycle_at_verification(cast, order):
    order = refresh(order)
    assert order.status == Status.PENDING_VERIFY and order.cycle == 2 and order.reopen_count == 1
    assert order.extension_days == 0 and order.verified_at is None and order.due_at is None
    assert Extension.objects.filter(order=order, status=Extension.Status.APPROVED).count() == 1  # history
    with frozen(sh(2026, 11, 5, 10, 0)):  # Thursday: 12345 verifies and assigns again
        r = act(cast.operator, order, "verify", valid="1", complexity="simple", department=cast.dept_a.pk)
        assert r.status_code == 302
    order = refresh(order)
    assert order.status == Status.PENDING_ACCEPT and order.cycle == 2
    assert order.finish_due_at == sh(2026, 11, 10)  # two working days 11-06 and 11-09, no old extension
    assert order.contact_due_at == sh(2026, 11, 7)
    return order


def test_a_follow_up_on_an_upheld_appeal_starts_again_at_verification(cast):
    order = extended_order(cast, "RO-1")
    with frozen(sh(2026, 11, 3, 9, 0)):
        act(cast.handler_a, order, "appeal", ground="malicious", statement="该群众当日未到窗口办理")
        assert act(cast.supervisor, order, "review_appeal", uphold="1", note="经核实").status_code == 302
    assert refresh(order).status == Status.INVALID
    with frozen(sh(2026, 11, 5, 9, 0)):
        follow_up(cast, "RO-1")
    order = assert_new_cycle_at_verification(cast, order)
    assert list(order.transitions.values_list("action", flat=True))[-3:] == ["reopen", "verify", "assign"]


def test_a_follow_up_on_a_closed_order_starts_again_at_verification(cast):
    order = extended_order(cast, "RO-2")
    with frozen(sh(2026, 11, 3, 9, 0)):
        act(cast.handler_a, order, "feedback", result="已处理")
        act(cast.operator, order, "callback", solved="1", satisfaction="satisfied")
    assert refresh(order).status == Status.CLOSED
    with frozen(sh(2026, 11, 5, 9, 0)):
        follow_up(cast, "RO-2")
    order = assert_new_cycle_at_verification(cast, order)
    assert order.closed_at is None and order.feedback_at is None


def test_a_pending_extension_lapses_when_the_department_reports_back(cast):
    with frozen(sh(2026, 11, 2, 9, 0)):
        order = bad_rating(cast, "RO-3")
        act(cast.operator, order, "verify", valid="1", department=cast.dept_a.pk)
        act(cast.handler_a, order, "contact", method="phone", outcome="已联系")
        act(cast.handler_a, order, "request_extension", days="3", reason="需现场核查")
        assert act(cast.handler_a, order, "feedback", result="已处理").status_code == 302
    assert Extension.objects.get(order=order).status == Extension.Status.LAPSED
