"""Demo 差评 work orders, replayed through the real state machine at the moments they would have happened."""

import random
from datetime import datetime, timedelta

from haocha.accounts.access import Actor
from haocha.accounts.models import Role
from haocha.core.clock import replay_at
from haocha.core.errors import DomainError
from haocha.core.models import OutboxMessage
from haocha.evaluations.levels import BAD_LEVELS
from haocha.evaluations.models import Rating
from haocha.workorders import actions, citizen
from haocha.workorders.creation import work_order_for_rating
from haocha.workorders.models import Status, WorkOrder
from haocha.workorders.sweep import work_orders_sweep

CONTACT_OUTCOMES = [
    "已电话联系群众，了解具体情况并致歉",
    "电话联系上申请人，说明办理进度和原因",
    "已与群众当面沟通，约定补正材料时间",
    "短信告知处理安排，群众已回复确认",
]
RESULTS = [
    ("已向群众当面解释政策依据，并指定专人协助当日办结", "对窗口人员开展一次性告知培训"),
    ("已重新核对材料清单，群众补正后已办结", "修订办事指南，删除重复材料要求"),
    ("已调整窗口排班，高峰期增开综合窗口", "建立高峰时段弹性窗口机制"),
    ("对当事工作人员进行批评教育，已向群众道歉", "纳入月度服务考核，开展作风整顿"),
    ("系统故障已修复，群众业务已网上办结", "与信息中心建立故障快速响应机制"),
]
APPEALS = ["该群众当日未在本窗口办理业务，经调取监控核实", "评价内容与所办事项无关，系误操作"]


def _later(rng: random.Random, start: datetime, lo_minutes: int, hi_minutes: int) -> datetime:
    return start + timedelta(minutes=rng.randint(lo_minutes, hi_minutes))


def _step(when: datetime, now: datetime, fn, **kwargs) -> bool:
    """Run one service call as of `when` if that moment has passed; False when it lies in the future."""
    if when >= now:
        return False
    with replay_at(when):
        try:
            fn(**kwargs)
        except DomainError:
            return False
    return True


def replay_work_orders(*, seed: int, now: datetime) -> dict:
    """Every demo 差评 becomes a work order; older ones run the whole loop, recent ones stop where they are."""
    rng = random.Random(f"{seed}:work-orders")
    system = Actor(label="系统")
    operator = Actor(label="12345话务员", all_access=True, roles=frozenset({Role.OPERATOR_12345}))
    supervisor = Actor(label="市行政审批服务局监管员", all_access=True, roles=frozenset({Role.SUPERVISOR}))
    first_outbox = OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    counts = {"orders": 0}
    bad = (
        Rating.objects.filter(level__in=BAD_LEVELS)
        .select_related("region", "department")
        .order_by("rated_at", "pk")
    )
    for rating in bad:
        with replay_at(rating.received_at):
            order = work_order_for_rating(rating=rating, actor=system)
        if order is None:
            continue
        handler = Actor(
            label=f"{(order.department.short_name or order.department.name) if order.department else ''}处理人",
            all_access=True,
            roles=frozenset({Role.HANDLER}),
        )
        if order.rating_id == rating.pk:
            counts["orders"] += 1
            _loop(rng, order, now, operator, handler, supervisor, start=order.received_at)
        elif order.status == Status.PENDING_VERIFY:  # a 追评 差评 reopened a finished order: 核实 again
            _loop(rng, order, now, operator, handler, supervisor, start=rating.received_at)
        elif order.status == Status.HANDLING:  # a 追评 差评 joined an order being handled
            _again(rng, order, now, operator, handler, rating.received_at)
    # Notifications of the replayed past are history, not news: only the final sweep notifies.
    OutboxMessage.objects.filter(pk__gt=first_outbox).delete()
    with replay_at(now):
        swept = work_orders_sweep(now=now)
    counts.update(swept)
    for status in Status:
        counts[status.value] = WorkOrder.objects.filter(status=status).count()
    return counts


def _contact(order: WorkOrder, now, handler, contact_at: datetime, method: str, outcome: str) -> bool:
    """Record a contact a few minutes after it happened, as a handler would."""
    return _step(
        contact_at + timedelta(minutes=5),
        now,
        actions.work_order_contact,
        order=_fresh(order),
        actor=handler,
        contacted_at=contact_at,
        method=method,
        outcome=outcome,
    )


def _again(rng, order: WorkOrder, now, operator, handler, start: datetime) -> None:
    """The second cycle of a reopened order: contact the citizen, report back, 回访."""
    contact_at = _later(rng, start, 30, 600)
    if not _contact(order, now, handler, contact_at, "phone", "追评差评后再次联系群众"):
        return
    done_at = _later(rng, contact_at, 60, 2000)
    result, measures = rng.choice(RESULTS)
    if _step(
        done_at,
        now,
        actions.work_order_feedback,
        order=_fresh(order),
        actor=handler,
        result=result,
        measures=measures,
    ):
        _step(
            _later(rng, done_at, 120, 2880),
            now,
            citizen.work_order_callback,
            order=_fresh(order),
            actor=operator,
            solved=True,
            satisfaction="basically_satisfied",
            comment="",
        )


def _loop(rng, order: WorkOrder, now, operator, handler, supervisor, start: datetime) -> None:
    t = _later(rng, start, 15, 240)
    roll = rng.random()
    if roll < 0.04:
        _step(
            t,
            now,
            actions.work_order_invalidate,
            order=order,
            actor=operator,
            reason=rng.choice(["mistaken", "malicious"]),
            note="经电话核实，评价人表示系误操作",
        )
        return
    if roll < 0.10 and order.rating.window_id:
        if _step(
            t,
            now,
            actions.work_order_on_the_spot,
            order=order,
            actor=handler,
            result="窗口负责人当场向群众致歉并协助办结",
        ):
            _step(
                _later(rng, t, 60, 1440),
                now,
                citizen.work_order_callback,
                order=_fresh(order),
                actor=operator,
                solved=True,
                satisfaction="satisfied",
                comment="当场就解决了",
            )
        return
    complexity = "complex" if rng.random() < 0.3 else "simple"
    if not _step(
        t,
        now,
        actions.work_order_assign,
        order=order,
        actor=operator,
        complexity=complexity,
        note="核实属实，交办承办部门",
    ):
        return
    order = _fresh(order)
    t = _later(rng, t, 20, 300)
    if not _step(t, now, actions.work_order_accept, order=order, actor=handler):
        return
    if now - start < timedelta(days=12) and rng.random() < 0.35:
        return  # a slow department: recent orders left open, so the board has late ones to supervise
    if rng.random() < 0.03:
        _step(
            _later(rng, t, 60, 600),
            now,
            actions.work_order_appeal,
            order=_fresh(order),
            actor=handler,
            ground="malicious",
            statement=rng.choice(APPEALS),
        )
        _step(
            _later(rng, t, 1500, 3000),
            now,
            actions.work_order_review_appeal,
            order=_fresh(order),
            actor=supervisor,
            uphold=rng.random() < 0.6,
            note="经复核",
        )
        if _fresh(order).status == Status.INVALID:
            return
    late = rng.random() < 0.08
    contact_at = (
        _later(rng, t, 10, 300)
        if not late
        else _fresh(order).contact_due_at + timedelta(hours=rng.randint(1, 20))
    )
    method = rng.choice(["phone", "phone", "sms", "in_person"])
    if not _contact(order, now, handler, contact_at, method, rng.choice(CONTACT_OUTCOMES)):
        return
    for attempt in range(2):
        if attempt:  # reopened: a new cycle starts with contacting the citizen again
            contact_at = _later(rng, contact_at, 30, 600)
            if not _contact(order, now, handler, contact_at, "phone", "回访不满意后再次联系群众"):
                return
        order = _fresh(order)
        due = order.finish_due_at
        span = max(int((due - contact_at).total_seconds() // 60) - 30, 30)
        done_at = (
            _later(rng, contact_at, 30, span)
            if rng.random() > 0.07
            else due + timedelta(hours=rng.randint(2, 48))
        )
        result, measures = rng.choice(RESULTS)
        if not _step(
            done_at,
            now,
            actions.work_order_feedback,
            order=order,
            actor=handler,
            result=result,
            measures=measures,
        ):
            return
        satisfied = attempt == 1 or rng.random() > 0.1
        answer_at = _later(rng, done_at, 120, 2880)
        if not _step(
            answer_at,
            now,
            citizen.work_order_callback,
            order=_fresh(order),
            actor=operator,
            solved=satisfied,
            satisfaction=rng.choice(["satisfied", "satisfied", "basically_satisfied"])
            if satisfied
            else "dissatisfied",
            comment="" if satisfied else "问题还没有彻底解决",
        ):
            return
        if satisfied:
            return
        contact_at = answer_at


def _fresh(order: WorkOrder) -> WorkOrder:
    return WorkOrder.objects.select_related("rating", "region", "department").get(pk=order.pk)
