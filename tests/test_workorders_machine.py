"""The work order's state machine: the table as the project states it, every (status, action) pair through the
workbench POST (outside the table: 409; inside: taken; where a repeat is recognised: a no-op or 409), one name
per action, and two stale copies of one order that cannot both move."""

import pytest
from django.db import transaction
from django.utils import timezone

from haocha.accounts.access import actor_for_user
from haocha.core.errors import Conflict
from haocha.workorders import actions, citizen, forms, machine
from haocha.workorders.models import Appeal, Extension, Status, Transition
from tests.workorder_helpers import act, bad_rating, error_code, notice, refresh

pytestmark = pytest.mark.django_db

PV, INV, PA, AC, HA, PC, CL, MG = (
    Status.PENDING_VERIFY,
    Status.INVALID,
    Status.PENDING_ACCEPT,
    Status.ACCEPTED,
    Status.HANDLING,
    Status.PENDING_CALLBACK,
    Status.CLOSED,
    Status.MERGED,
)
OPEN = {PV, PA, AC, HA, PC}

# name: (label, leaves from, may reach (None: stays), who, repeat recognised at, on an external 12345 order)
EXPECTED = {
    "create": ("生成工单", set(), {PV}, "system", set(), "here"),
    "acknowledge": ("12345受理", OPEN, {None}, "12345 platform", set(), "there"),
    "verify": ("核实", {PV}, {None}, "12345/supervisor over the order", {PA, AC}, "there"),
    "invalidate": ("核实为无效", {PV}, {INV}, "12345/supervisor over the order", {INV}, "there"),
    "assign": ("交办", {PV, PA, AC}, {PA}, "12345/supervisor over the order", set(), "there"),
    "set_complexity": ("调整问题类型", OPEN, {None}, "12345/supervisor over the order", set(), "there"),
    "merge": ("并单", OPEN, {MG, None}, "12345/supervisor over the order", {MG}, "not"),
    "decide_extension": ("审批延期", {AC, HA}, {None}, "12345/supervisor over the order", set(), "there"),
    "accept": ("签收", {PA}, {AC}, "department", {AC}, "there"),
    "return": ("退单", {PA, AC}, {PV}, "department", set(), "there"),
    "contact": ("联系群众", {PA, AC, HA}, {HA, None}, "department", set(), "there"),
    "request_extension": ("申请延期", {AC, HA}, {None}, "department", set(), "there"),
    "feedback": ("反馈办理结果", {HA}, {PC}, "department", {PC}, "there"),
    "on_the_spot": ("当场处置", {PV, PA, AC}, {PC}, "department/hall clerk", {PC}, "not"),
    "appeal": ("申诉", {PA, AC, HA, PC}, {None}, "department", set(), "not"),
    "review_appeal": ("申诉复核", OPEN | {CL}, {INV, None}, "supervisor over the order", {INV}, "here"),
    "supervise": ("督办", OPEN, {None}, "supervisor over the order", set(), "here"),
    "callback": ("回访", {PC}, {CL, HA}, "12345/supervisor over the order/citizen link", {CL}, "there"),
    "callback_failed": ("回访未成功", {PC}, {None}, "12345 platform", set(), "there"),
    "close": ("12345办结", {PC}, {CL}, "12345 platform", {CL}, "there"),
    "follow_up": ("追评补充", OPEN, {None}, "system", set(), "here"),
    "reopen": ("追评重办", {CL, INV}, {PV}, "system", set(), "here"),
    "escalate": ("逾期督办", {PA, AC, HA}, {None}, "system", set(), "here"),
    "recompute": ("重算期限", OPEN, {None}, "system", set(), "here"),
}
WHO = {
    machine.OPERATORS: "12345/supervisor over the order",
    machine.SUPERVISORS: "supervisor over the order",
    machine.DEPARTMENT: "department",
    machine.HALL_CLERKS: "hall clerk",
    machine.CITIZEN: "citizen link",
    machine.SYSTEM: "system",
    machine.PLATFORM: "12345 platform",
}


def test_the_table_is_the_one_the_project_states():
    got = {
        a.name: (
            a.label,
            set(a.sources),
            set(a.targets),
            "/".join(WHO[g] for g in a.grants),
            set(a.repeat_at),
            str(a.platform),
        )
        for a in machine.TABLE
    }
    assert got == EXPECTED


def test_one_name_per_action_for_url_service_and_log():
    assert set(forms.PARSERS) == set(machine.WORKBENCH_ACTIONS)
    for name in machine.WORKBENCH_ACTIONS:
        module = citizen if name == "callback" else actions
        assert forms.SERVICES[name] is getattr(module, f"work_order_{name}")


# What each workbench action is sent in the table test, and who sends it.
FORMS = {
    "verify": ("operator", {"note": "属实"}),
    "invalidate": ("operator", {"reason": "mistaken", "note": "误评"}),
    "assign": ("operator", {"department": "dept_b"}),
    "set_complexity": ("operator", {"complexity": "complex", "reason": "涉及多个部门"}),
    "merge": ("operator", {"into": "spare"}),
    "decide_extension": ("operator", {"approve": "1", "note": "同意"}),
    "accept": ("handler_a", {}),
    "return": ("handler_a", {"reason": "非本部门职责"}),
    "contact": ("handler_a", {"method": "phone", "outcome": "已联系"}),
    "request_extension": ("handler_a", {"days": "3", "reason": "需现场核查"}),
    "feedback": ("handler_a", {"result": "已处理"}),
    "on_the_spot": ("handler_a", {"result": "当场办结"}),
    "appeal": ("handler_a", {"ground": "mistaken", "statement": "误评"}),
    "review_appeal": ("supervisor", {"uphold": "0", "note": "申诉不成立"}),
    "supervise": ("supervisor", {"note": "请加快办理"}),
    "callback": ("operator", {"solved": "1", "satisfaction": "satisfied"}),
}


def orders_in_every_status(cast) -> dict:
    """One order in each status, each brought there through the workbench."""
    orders = {s: bad_rating(cast, f"SM-{s}", seq=i + 1) for i, s in enumerate(Status.values)}
    steps = [
        (
            cast.operator,
            "verify",
            {"department": cast.dept_a.pk, "complexity": "simple"},
            {PA, AC, HA, PC, CL},
        ),
        (cast.handler_a, "accept", {}, {AC, HA, PC, CL}),
        (cast.handler_a, "contact", {"method": "phone", "outcome": "已联系"}, {HA, PC, CL}),
        (cast.handler_a, "feedback", {"result": "已处理"}, {PC, CL}),
        (cast.operator, "callback", {"solved": "1", "satisfaction": "satisfied"}, {CL}),
        (cast.operator, "invalidate", {"reason": "mistaken", "note": "误评"}, {INV}),
    ]
    for user, action, data, statuses in steps:
        for status in statuses:
            assert act(user, orders[status], action, **data).status_code == 302
    spare = bad_rating(cast, "SM-spare", seq=20)
    assert act(cast.operator, orders[MG], "merge", into=spare.number).status_code == 302
    for status, order in orders.items():
        assert refresh(order).status == status
    return {**orders, "spare": spare}


class _Undo(Exception):
    pass


def test_every_status_and_action_pair_through_the_workbench(cast):
    orders = orders_in_every_status(cast)
    wrong = []
    for name in machine.WORKBENCH_ACTIONS:
        action = machine.ACTIONS[name]
        who, form = FORMS[name]
        data = {k: getattr(cast, v).pk if k == "department" else v for k, v in form.items()}
        if "into" in data:
            data["into"] = orders["spare"].number
        for status in Status.values:
            order = refresh(orders[status])
            try:
                with transaction.atomic():
                    # what the action needs besides its status is there, so that a 409 is the status's doing
                    now = timezone.now()
                    if name == "decide_extension":
                        Extension.objects.create(
                            order=order, days=2, reason="需核查", requested_by_label="h", requested_at=now
                        )
                    if name == "review_appeal":
                        Appeal.objects.create(
                            order=order, ground="mistaken", statement="误评", filed_by_label="h", filed_at=now
                        )
                    r = act(getattr(cast, who), order, name, **data)
                    last = Transition.objects.filter(order=order).order_by("-at", "-id").first()
                    raise _Undo((r.status_code, notice(r), last.action, error_code(r)))
            except _Undo as undone:
                code, said, logged, refusal = undone.args[0]
            if status in action.sources:
                ok = code == 302 and logged == name
            elif status in action.repeat_at:
                ok = (code == 200 and "无需重复" in said) or (code == 409 and refusal == "illegal_transition")
            else:
                ok = code == 409 and refusal == "illegal_transition"  # the status's refusal, said as such
            if not ok:
                wrong.append((name, status, code, said, logged))
    assert wrong == []


def test_two_stale_copies_of_one_order_cannot_both_move(cast):
    order = bad_rating(cast, "SM-stale")
    act(cast.operator, order, "assign", department=cast.dept_a.pk)
    first, second = refresh(order), refresh(order)  # both read at 待签收
    operator = actor_for_user(cast.operator)
    actions.work_order_assign(order=first, actor=operator, department=cast.dept_b)
    with pytest.raises(Conflict) as refused:
        actions.work_order_assign(order=second, actor=operator, department=cast.dept_yuelu)
    assert refused.value.code == "concurrent_update"
    order = refresh(order)
    assert order.department == cast.dept_b and order.cycle == 2
    assert Transition.objects.filter(order=order, action="assign").count() == 2
