"""Time travel over the real 2026 calendar: due times, the moment an order is late, and its 督办;
extensions, appeals, repeat flags, recomputation when a year is entered, and who may see what."""

from datetime import datetime, timedelta

import pytest
from django.core.management import call_command

from haocha.core.models import Message
from haocha.evaluations.models import Rating
from haocha.workcalendar.arithmetic import SHANGHAI
from haocha.workcalendar.services import workdays
from haocha.workorders.models import Appeal, RepeatFlag, Status, Supervision, WorkOrder
from haocha.workorders.sweep import work_orders_sweep
from tests.workorder_helpers import act, bad_rating, frozen, refresh, staff

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


def assigned_order(cast, case_no, at, complexity="simple", seq=1, window=None):
    with frozen(at):
        order = bad_rating(cast, case_no, seq=seq, window=window)
        assert (
            act(
                cast.operator, order, "verify", valid="1", complexity=complexity, department=cast.dept_a.pk
            ).status_code
            == 302
        )
    return refresh(order)


def test_national_day_deadlines_lateness_and_supervision(cast):
    order = assigned_order(cast, "TT-1", sh(2026, 9, 30, 16, 0))
    assert order.contact_due_at == sh(2026, 10, 9)  # 10-01..07 off: the 8th is the first working day
    assert order.finish_due_at == sh(2026, 10, 10)  # 10-08 and 10-09 are working days 1 and 2
    assert order.due_at == order.contact_due_at
    assert work_orders_sweep(now=sh(2026, 10, 8, 23, 59))["level1"] == 0
    assert work_orders_sweep(now=sh(2026, 10, 9, 0, 0))["level1"] == 1
    order = refresh(order)
    assert order.escalation_level == 1 and order.overdue
    assert work_orders_sweep(now=sh(2026, 10, 9, 0, 5))["level1"] == 0  # once only
    with frozen(sh(2026, 10, 9, 9, 0)):
        act(
            cast.handler_a,
            order,
            "contact",
            method="phone",
            outcome="已联系",
            contacted_at="2026-10-09T08:30",
        )
    order = refresh(order)
    assert order.due_at == order.finish_due_at == sh(2026, 10, 10)
    # second level two working days after the day the running clock fell due: 10-10 (make-up Saturday), 10-12
    assert work_orders_sweep(now=sh(2026, 10, 12, 23, 59))["level2"] == 0
    assert work_orders_sweep(now=sh(2026, 10, 13, 0, 0))["level2"] == 1
    levels = list(Supervision.objects.filter(order=order).values_list("kind", "level"))
    assert levels == [("auto", 1), ("auto", 2)]
    call_command("worker", "--once")
    assert Message.objects.filter(user=cast.handler_a, title__contains="2级督办").exists()
    assert Message.objects.filter(user=cast.supervisor, title__contains="1级督办").exists()
    with frozen(sh(2026, 10, 13, 10, 0)):
        act(cast.handler_a, order, "feedback", result="已办结")
        act(cast.operator, order, "callback", solved="1", satisfaction="basically_satisfied")
    order = refresh(order)
    assert order.status == Status.CLOSED
    assert order.contact_over_minutes == 8 * 60 + 30  # contacted 08:30 on a clock due at 00:00
    assert order.finish_over_minutes == (3 * 24 + 10) * 60
    assert not Supervision.objects.filter(order=order, resolved_at__isnull=True).exists()


@pytest.mark.parametrize(
    "assigned, complexity, contact_due, finish_due",
    [
        (sh(2026, 11, 28, 10, 0), "simple", sh(2026, 12, 1), sh(2026, 12, 2)),  # received on a Saturday
        (sh(2026, 9, 24, 17, 0), "simple", sh(2026, 9, 29), sh(2026, 9, 30)),  # eve of 中秋 09-25..27
        (
            sh(2026, 2, 13, 17, 0),
            "complex",
            sh(2026, 2, 15),
            sh(2026, 3, 6),
        ),  # Spring Festival, make-up 02-14/28
        (
            sh(2026, 9, 19, 9, 0),
            "simple",
            sh(2026, 9, 21),
            sh(2026, 9, 22),
        ),  # Saturday before make-up Sunday 09-20
    ],
)
def test_deadlines_over_holidays_and_weekends(cast, assigned, complexity, contact_due, finish_due):
    order = assigned_order(cast, "TT-2", assigned, complexity)
    assert (order.contact_due_at, order.finish_due_at) == (contact_due, finish_due)
    assert work_orders_sweep(now=contact_due - timedelta(seconds=1))["level1"] == 0
    assert work_orders_sweep(now=contact_due)["level1"] == 1


def test_a_complexity_change_and_an_approved_extension_move_the_deadline(cast):
    order = assigned_order(cast, "TT-3", sh(2026, 11, 2, 9, 0))  # Monday
    assert order.finish_due_at == sh(2026, 11, 5)
    with frozen(sh(2026, 11, 2, 10, 0)):
        assert (
            act(
                cast.operator, order, "set_complexity", complexity="complex", reason="涉及两个部门"
            ).status_code
            == 302
        )
        assert refresh(order).finish_due_at == sh(2026, 11, 17)
        act(cast.handler_a, order, "contact", method="phone", outcome="已联系")
        assert (
            act(cast.handler_a, order, "request_extension", days="3", reason="需现场核查").status_code == 302
        )
        assert act(cast.handler_a, order, "request_extension", days="2", reason="再延").status_code == 409
        assert act(cast.operator, order, "decide_extension", approve="1", note="同意").status_code == 302
    order = refresh(order)
    assert (
        order.extension_days == 3
        and order.finish_due_at == sh(2026, 11, 20)
        and order.due_at == sh(2026, 11, 20)
    )


def test_an_upheld_appeal_invalidates_the_rating_never_deletes_it(cast):
    order = assigned_order(cast, "TT-4", sh(2026, 11, 2, 9, 0))
    with frozen(sh(2026, 11, 3, 9, 0)):
        r = act(
            cast.handler_a, order, "appeal", ground="malicious", statement="该群众当日未到窗口办理，监控为证"
        )
        assert r.status_code == 302
        assert act(cast.handler_a, order, "appeal", ground="malicious", statement="again").status_code in (
            403,
            409,
        )
        assert act(cast.handler_a, order, "review_appeal", uphold="1", note="x").status_code == 403
        assert (
            act(cast.supervisor, order, "review_appeal", uphold="1", note="经调取监控核实").status_code == 302
        )
    order = refresh(order)
    rating = Rating.objects.get(pk=order.rating_id)
    assert order.status == Status.INVALID and order.invalid_reason == "malicious"
    assert not rating.is_valid and "申诉成立" in rating.invalid_reason and rating.comment
    assert rating.flags.get().kind == "invalid"
    assert Appeal.objects.get().status == Appeal.Status.UPHELD


def test_a_late_appeal_is_refused(cast):
    order = assigned_order(cast, "TT-5", sh(2026, 11, 2, 9, 0))
    with frozen(sh(2026, 11, 10, 9, 0)):  # five working days after 11-02 ended at 11-09 24:00
        r = act(cast.handler_a, order, "appeal", ground="mistaken", statement="误评")
    assert r.status_code == 409 and "申诉期限" in r.content.decode()


def test_repeated_bad_ratings_on_one_window_are_flagged(cast):
    for i in range(3):
        with frozen(sh(2026, 11, 2 + i, 10, 0)):
            bad_rating(cast, f"TT-6-{i}", seq=10 + i, window=cast.window_a)
    flag = RepeatFlag.objects.get(subject="window")
    assert flag.count == 3 and flag.subject_id == cast.window_a.pk
    assert WorkOrder.objects.filter(repeat_flag=True).count() == 3
    board = staff(cast.supervisor).get("/workorders/board/").content.decode()
    assert "重复差评" in board and cast.window_a.name in board


def test_a_later_bad_rating_joins_the_flag_of_its_period(cast):
    for i in range(4):
        with frozen(sh(2026, 11, 2 + i, 10, 0)):
            bad_rating(cast, f"TT-6b-{i}", seq=20 + i, window=cast.window_a)
    flag = RepeatFlag.objects.get(subject="window")
    assert flag.count == 4
    assert flag.orders.count() == 4
    assert WorkOrder.objects.filter(repeat_flag=True).count() == 4


def test_entering_a_missing_year_recomputes_open_deadlines(
    cast, tmp_path, django_capture_on_commit_callbacks
):
    order = assigned_order(cast, "TT-7", sh(2026, 12, 30, 10, 0))
    # 2027 not entered: 01-01 (元旦, a Friday) is off by statute, so the second working day is Monday 01-04.
    assert order.finish_due_at == sh(2027, 1, 5)
    f = tmp_path / "2027.csv"  # an arrangement with a make-up working Saturday
    f.write_text("2027-01-01,休,元旦\n2027-01-02,班,元旦调休\n", encoding="utf-8")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("workdays", "load", str(f))
    order = refresh(order)
    assert order.finish_due_at == sh(2027, 1, 3) and order.contact_due_at == sh(2027, 1, 1)
    assert order.transitions.filter(action="recompute").exists()


def test_department_b_can_neither_see_nor_act_on_department_a_orders(cast):
    order = assigned_order(cast, "TT-8", sh(2026, 11, 2, 9, 0))
    assert staff(cast.handler_b).get(f"/workorders/{order.number}/").status_code == 404
    assert act(cast.handler_b, order, "accept").status_code == 404
    assert act(cast.outsider, order, "supervise", note="x").status_code == 404
    assert order.number not in staff(cast.handler_b).get("/workorders/queue/department/").content.decode()
    assert order.number not in staff(cast.outsider).get("/workorders/board/").content.decode()
    assert order.number in staff(cast.handler_a).get("/workorders/queue/department/").content.decode()
    assert refresh(order).status == Status.PENDING_ACCEPT


def test_a_sweep_long_after_the_deadline_records_both_levels(cast):
    order = assigned_order(cast, "TT-9", sh(2026, 11, 2, 9, 0))  # contact due 11-04 00:00
    counts = work_orders_sweep(now=sh(2026, 11, 20, 9, 0))
    assert (counts["level1"], counts["level2"]) == (1, 1)
    assert list(Supervision.objects.filter(order=order).values_list("level", flat=True)) == [1, 2]
    assert work_orders_sweep(now=sh(2026, 11, 21, 9, 0))["level2"] == 0


def test_deadlines_follow_the_region_policy(cast):
    from haocha.workorders.models import WorkOrderPolicy

    WorkOrderPolicy.objects.create(region=cast.city, contact_days=1, simple_days=5, complex_days=15)
    order = assigned_order(cast, "TT-10", sh(2026, 11, 2, 9, 0))
    assert order.finish_due_at == sh(2026, 11, 10)  # five working days: 11-03..11-09


def test_merge_and_manual_supervision(cast):
    first = assigned_order(cast, "TT-11", sh(2026, 11, 2, 9, 0))
    with frozen(sh(2026, 11, 2, 11, 0)):
        dup = bad_rating(cast, "TT-12", seq=2)
        r = act(cast.operator, dup, "merge", into=first.number, note="同一群众重复反映")
        assert r.status_code == 302
        assert act(cast.operator, first, "merge", into=first.number).status_code == 409
        r = act(cast.supervisor, first, "supervise", note="请今天内联系群众", deadline="2026-11-02T18:00")
        assert r.status_code == 302
        assert act(cast.handler_a, first, "supervise", note="x").status_code == 403
    dup = refresh(dup)
    assert dup.status == Status.MERGED and dup.merged_into == first
    sup = Supervision.objects.get(order=first)
    assert sup.kind == "manual" and sup.deadline == sh(2026, 11, 2, 18, 0)
    call_command("worker", "--once")
    assert Message.objects.filter(user=cast.handler_a, title__contains="督办").exists()


def test_a_reopened_order_gets_fresh_clocks_and_can_be_supervised_again(cast):
    order = assigned_order(cast, "TT-13", sh(2026, 3, 2, 9, 0))  # Monday
    assert work_orders_sweep(now=sh(2026, 3, 20, 9, 0))["level2"] == 1  # very late in the first cycle
    with frozen(sh(2026, 3, 20, 10, 0)):
        act(cast.handler_a, order, "contact", method="phone", outcome="已联系")
        act(cast.handler_a, order, "feedback", result="已处理")
        act(cast.operator, order, "callback", solved="0", satisfaction="dissatisfied")
    order = refresh(order)
    assert order.cycle == 2 and order.escalation_level == 0 and order.contact_due_at == sh(2026, 3, 24)
    assert work_orders_sweep(now=sh(2026, 3, 20, 11, 0))["level1"] == 0  # not late in the new cycle
    assert work_orders_sweep(now=sh(2026, 3, 24, 0, 0))["level1"] == 1
    assert list(Supervision.objects.filter(order=order).values_list("cycle", "level")) == [
        (1, 1),
        (1, 2),
        (2, 1),
    ]


def test_reassignment_after_a_return_restarts_the_clocks_for_the_new_department(cast):
    order = assigned_order(cast, "TT-14", sh(2026, 3, 2, 9, 0))
    with frozen(sh(2026, 3, 4, 9, 0)):
        work_orders_sweep(now=sh(2026, 3, 4, 9, 0))
        assert act(cast.handler_a, refresh(order), "return", reason="非本部门职责").status_code == 302
        r = act(cast.operator, refresh(order), "assign", department=cast.dept_b.pk)
        assert r.status_code == 302
    order = refresh(order)
    assert order.department == cast.dept_b and order.escalation_level == 0 and order.cycle == 2
    assert order.contact_due_at == sh(2026, 3, 6) and order.due_at == sh(2026, 3, 6)  # end of 03-05


def test_one_role_never_lends_its_scope_to_another(cast):
    """A handler of department A who is also a 12345 operator over the city cannot handle B's orders."""
    from haocha.accounts.models import Role, RoleAssignment

    RoleAssignment.objects.create(user=cast.handler_a, role=Role.OPERATOR_12345, region=cast.city)
    order = assigned_order(cast, "TT-15", sh(2026, 11, 2, 9, 0))
    with frozen(sh(2026, 11, 2, 10, 0)):
        assert act(cast.operator, order, "assign", department=cast.dept_b.pk).status_code == 302
        assert act(cast.handler_a, refresh(order), "accept").status_code == 403
        assert act(cast.handler_a, refresh(order), "contact", method="phone", outcome="x").status_code == 403
    assert refresh(order).status == Status.PENDING_ACCEPT
