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


def forbidden(actor, order, name) -> tuple[str, str]:
    from haocha.core.errors import Forbidden

    with pytest.raises(Forbidden) as err:
        machine.authorize(actor, order, name)
    return err.value.code, err.value.message


def test_who_may_not_act_is_told_why(cast):
    from haocha.accounts.access import actor_for_user

    order = moved(bad_rating(cast, "RF-6"), status=Status.PENDING_ACCEPT, department=cast.dept_a)
    assert forbidden(actor_for_user(cast.handler_b), order, "accept") == (
        "not_your_department",
        "该工单不在您的办理范围，不能签收",
    )
    assert forbidden(actor_for_user(cast.handler_a), order, "verify") == (
        "role_not_allowed",
        "只有12345话务员或监管人员可以核实",
    )
    machine.authorize(actor_for_user(cast.handler_a), order, "accept")  # the department's own


def test_on_a_platforms_order_its_steps_are_the_platforms_and_some_are_not_taken(cast):
    from haocha.accounts.access import actor_for_user
    from tests.hotline_helpers import external_platform

    platform = external_platform(cast)
    order = moved(
        bad_rating(cast, "RF-7"),
        status=Status.PENDING_ACCEPT,
        department=cast.dept_a,
        platform=platform.client,
    )
    assert forbidden(actor_for_user(cast.handler_a), order, "accept") == (
        "handled_by_platform",
        "该工单由12345平台核实交办，“签收”在12345平台办理，办理进度由平台回传",
    )
    assert forbidden(actor_for_user(cast.supervisor), order, "merge") == (
        "not_for_platform_orders",
        "由12345平台办理的工单不能并单",
    )
    machine.authorize(actor_for_user(cast.supervisor), order, "supervise")  # 督办 stays here


def test_a_steps_label_on_the_timeline():
    from haocha.workorders.models import Transition

    def label(action, data=None):
        return machine.step_label(Transition(action=action, data=data or {}))

    assert label("assign") == "交办"
    assert label("assign", {"reassign": True}) == "改派"
    assert label("contact", {"reassign": True}) == "联系群众"  # only a 交办 becomes a 改派
    assert label("verify", {"remote": True, "label": "核实（区级）"}) == "核实（区级）"  # a child's own label
    assert label("verify", {"remote": True}) == "verify"


def test_the_previous_step_is_the_latest_by_its_time_and_counts_from_its_stated_time(cast):
    from haocha.workorders.models import Transition

    order = bad_rating(cast, "RF-8")
    created = order.transitions.get().at
    assert machine.previous_step_at(order) == created
    t1, t2 = created + timedelta(hours=1), created + timedelta(hours=3)
    Transition.objects.create(order=order, action="contact", to_status=Status.HANDLING, actor_label="x", at=t2,
                              stated_at=t1)  # fmt: skip
    assert machine.previous_step_at(order) == t1  # said to have happened at t1, recorded at t2
    # a step reported late by a partner, at the time it happened there: earlier, though written later
    Transition.objects.create(order=order, action="acknowledge", to_status=Status.HANDLING, actor_label="x",
                              at=created + timedelta(minutes=10))  # fmt: skip
    assert machine.previous_step_at(order) == t1
    Transition.objects.create(order=order, action="escalate", to_status=Status.HANDLING, actor_label="系统",
                              at=t2 + timedelta(hours=1))  # fmt: skip
    assert machine.previous_step_at(order) == t2 + timedelta(hours=1)
    assert machine.previous_step_at(order, clock_steps=False) == t1  # the clock's own 逾期督办 aside


def test_a_stale_copy_repeating_what_was_just_done_is_told_so_and_another_step_must_refresh(cast):
    from haocha.accounts.access import actor_for_user
    from haocha.workorders import actions
    from haocha.workorders.machine import AlreadyDone
    from haocha.workorders.models import Transition

    order = bad_rating(cast, "RF-9")
    operator = actor_for_user(cast.operator)
    first, second, third = (WorkOrder.objects.get(pk=order.pk) for _ in range(3))  # all read at 待核实
    actions.work_order_verify(order=first, actor=operator, complexity="simple", note="属实")
    with pytest.raises(AlreadyDone) as done:  # the same 核实 from a copy read before it: nothing twice
        actions.work_order_verify(order=second, actor=operator, complexity="simple", note="属实")
    assert (done.value.code, done.value.message) == ("already_done", "已核实，无需重复")
    with pytest.raises(Conflict) as stale:  # another step from a stale copy
        actions.work_order_invalidate(order=third, actor=operator, reason="mistaken", note="误评")
    assert (stale.value.code, stale.value.message) == ("concurrent_update", "工单已被他人处理，请刷新后重试")
    verify = Transition.objects.get(order=order, action="verify")
    assert (verify.from_status, verify.to_status, verify.note) == (
        Status.PENDING_VERIFY,
        Status.PENDING_VERIFY,
        "属实",
    )


def test_a_pending_extension_lapses_when_the_order_leaves_the_department(cast):
    from haocha.accounts.access import actor_for_user
    from haocha.workorders import actions

    order = moved(
        bad_rating(cast, "RF-10"),
        status=Status.HANDLING,
        department=cast.dept_a,
        assigned_at=timezone.now(),
        contacted_at=timezone.now(),
    )
    pending_extension(order)
    actions.work_order_feedback(order=order, actor=actor_for_user(cast.handler_a), result="已重新办理")
    lapsed = Extension.objects.get(order=order)
    assert (lapsed.status, lapsed.decided_by_label, lapsed.decision_note) == (
        Extension.Status.LAPSED,
        "系统",
        "工单已反馈办理结果，延期申请失效",
    )
