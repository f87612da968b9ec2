"""Repeating a step that is already done changes nothing and says so; 核实+交办 is all or nothing; a
department that does not exist is refused, never replaced by the default."""

import pytest

from haocha.organisations.models import Organisation, Region
from haocha.workorders.models import Status, Transition
from tests.factories import make_org, make_region
from tests.workorder_helpers import act, bad_rating, error_code, notice, refresh

pytestmark = pytest.mark.django_db


def actions(order):
    return list(Transition.objects.filter(order=order).values_list("action", flat=True))


def test_a_second_assign_to_the_same_department_is_a_no_op(cast):
    order = bad_rating(cast, "RP-1")
    assert act(cast.operator, order, "assign", department=cast.dept_a.pk).status_code == 302
    first = refresh(order)
    r = act(cast.operator, order, "assign", department=cast.dept_a.pk)
    assert r.status_code == 200 and notice(r) == f"已交办给{cast.dept_a.name}，无需重复"
    order = refresh(order)
    assert order.cycle == 1 and order.clock_started_at == first.clock_started_at
    assert order.version == first.version and actions(order) == ["create", "assign"]


def test_a_second_verify_is_a_no_op(cast):
    order = bad_rating(cast, "RP-2")
    assert act(cast.operator, order, "verify", valid="1", note="属实").status_code == 302
    r = act(cast.operator, order, "verify", valid="1", note="属实")
    assert r.status_code == 200 and notice(r) == "已核实，无需重复"
    assert actions(order) == ["create", "verify"]


def test_a_double_submitted_verify_and_assign_is_a_no_op(cast):
    order = bad_rating(cast, "RP-3")
    form = {"valid": "1", "complexity": "simple", "department": cast.dept_a.pk}
    assert act(cast.operator, order, "verify", **form).status_code == 302
    r = act(cast.operator, order, "verify", **form)
    assert r.status_code == 200 and "无需重复" in notice(r)
    assert actions(order) == ["create", "verify", "assign"]


def test_verify_and_assign_is_one_transaction(cast):
    """A department outside the operator's scope: nothing is written, not even the 核实."""
    other_city = make_region("430200", "株洲市", Region.Level.CITY, cast.province)
    far = make_org("株洲市市场监督管理局", Organisation.Kind.DEPARTMENT, other_city, code_seq=9)
    order = bad_rating(cast, "RP-4")
    r = act(cast.operator, order, "verify", valid="1", note="属实", department=far.pk)
    order = refresh(order)
    assert order.status == Status.PENDING_VERIFY and order.verified_at is None
    assert actions(order) == ["create"]
    assert r.status_code == 403 and error_code(r) == "department_out_of_scope"


@pytest.mark.parametrize("action", ["verify", "assign"])
def test_an_unknown_department_is_refused_not_replaced_by_the_default(cast, action):
    order = bad_rating(cast, f"RP-5-{action}")
    r = act(cast.operator, order, action, valid="1", department="987654321")
    assert r.status_code == 422 and error_code(r) == "unknown_department"
    assert "承办部门不存在" in r.content.decode()
    order = refresh(order)
    assert order.status == Status.PENDING_VERIFY and actions(order) == ["create"]


def test_an_unknown_co_department_is_refused(cast):
    order = bad_rating(cast, "RP-6")
    r = act(cast.operator, order, "assign", department=cast.dept_a.pk, co_departments=["987654321"])
    assert r.status_code == 422 and error_code(r) == "unknown_department"
    assert actions(refresh(order)) == ["create"]


def test_accepting_twice_says_it_is_done(cast):
    order = bad_rating(cast, "RP-7")
    act(cast.operator, order, "assign", department=cast.dept_a.pk)
    assert act(cast.handler_a, order, "accept").status_code == 302
    r = act(cast.handler_a, order, "accept")
    assert r.status_code == 200 and notice(r) == "已签收，无需重复"
    assert actions(order) == ["create", "assign", "accept"]
