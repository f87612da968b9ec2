"""What the machine says when an action's status allows it but something else does not (machine.py, the
`ready` conditions) or the order is not this system's to move: each refusal's code and its Chinese message,
as the workbench and the API answer them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from haocha.core.errors import Conflict
from haocha.workcalendar.services import workdays
from haocha.workorders import machine
from haocha.workorders.models import Appeal, Extension, InvalidReason, Status, WorkOrder
from tests.workorder_helpers import bad_rating

pytestmark = pytest.mark.django_db


def refusal(order, name) -> tuple[str, str]:
    with pytest.raises(Conflict) as err:
        machine.ensure(order, name)
    return err.value.code, err.value.message


def moved(order, **fields) -> WorkOrder:
    WorkOrder.objects.filter(pk=order.pk).update(**fields)
    return WorkOrder.objects.get(pk=order.pk)


def pending_extension(order):
    Extension.objects.create(
        order=order,
        days=3,
        reason="需调取档案",
        requested_by_label="差评处理人员",
        requested_at=timezone.now(),
    )


def pending_appeal(order):
    Appeal.objects.create(
        order=order,
        ground=InvalidReason.values[0],
        statement="评价人与办件无关",
        filed_by_label="差评处理人员",
        filed_at=timezone.now(),
    )


def test_feedback_before_contact(cast):
    order = moved(bad_rating(cast, "RF-1"), status=Status.HANDLING, assigned_at=timezone.now())
    assert refusal(order, "feedback") == ("contact_required", "请先联系群众并记录联系情况")


def test_extensions_one_at_a_time_and_a_decision_needs_one(cast):
    order = moved(bad_rating(cast, "RF-2"), status=Status.ACCEPTED, assigned_at=timezone.now())
    assert refusal(order, "decide_extension") == ("no_pending_extension", "没有待审批的延期申请")
    pending_extension(order)
    assert refusal(order, "request_extension") == ("extension_pending", "已有待审批的延期申请")
    machine.ensure(order, "decide_extension")  # now there is one to decide


def test_appeals_one_at_a_time_within_the_period_and_a_review_needs_one(cast):
    order = moved(bad_rating(cast, "RF-3"), status=Status.ACCEPTED, assigned_at=timezone.now())
    assert refusal(order, "review_appeal") == ("no_pending_appeal", "没有待复核的申诉")
    machine.ensure(order, "appeal")
    pending_appeal(order)
    assert refusal(order, "appeal") == ("appeal_pending", "已有待复核的申诉")
    machine.ensure(order, "review_appeal")
    Appeal.objects.update(status=Appeal.Status.REJECTED)
    late = moved(order, assigned_at=timezone.now() - timedelta(days=30))
    assert refusal(late, "appeal") == ("appeal_period_over", "已超过交办后5个工作日的申诉期限")


def test_the_appeal_period_runs_from_the_assignment_else_from_receipt(cast):
    order = bad_rating(cast, "RF-4")
    assert order.assigned_at is None
    assert machine.appeal_deadline(order) == workdays.due(order.received_at, 5)
    assigned = moved(order, assigned_at=order.received_at + timedelta(days=3))
    assert machine.appeal_deadline(assigned) == workdays.due(assigned.assigned_at, 5)


def test_an_order_a_child_system_handles_is_read_only_and_an_illegal_step_names_the_status(cast):
    order = bad_rating(cast, "RF-5")
    closed = moved(order, status=Status.CLOSED)
    assert refusal(closed, "verify") == ("illegal_transition", "工单当前为“已办结”，不能核实")
    elsewhere = moved(order, status=Status.PENDING_VERIFY, handled_by_id=cast.client_a.pk)
    assert refusal(elsewhere, "verify") == (
        "handled_elsewhere",
        "该工单由下级系统办理，本级只读（办理进度由下级系统上报）",
    )


def test_who_took_a_step_as_it_goes_to_another_system(cast, django_user_model):
    from haocha.workorders.models import Transition

    def step(action, user=None, label="系统"):
        return machine.step_actor(Transition(action=action, actor=user, actor_label=label))

    assert step("verify", cast.operator, "operator") == "12345话务员"  # the role the action is granted to
    assert step("contact", cast.handler_a, "handler_a") == "差评处理人员"
    assert (
        step("verify", cast.handler_a, "handler_a") == "差评处理人员"
    )  # a role it holds, if none is granted
    assert step("an_old_action", cast.handler_a, "handler_a") == "差评处理人员"  # not in the table (any more)
    admin = django_user_model.objects.create_superuser("root", password="x")
    assert step("verify", admin, "root") == "系统管理员"
    nobody = django_user_model.objects.create_user("nobody", password="x")
    assert step("verify", nobody, "nobody") == "工作人员"
    assert step("escalate") == "系统"  # no user: the label as logged
    assert step("verify", None, "岳麓区好差评系统·12345话务员") == "岳麓区好差评系统·12345话务员"
