"""The citizen's side of an order: the signed progress link, and the 回访 (by the link, or by 12345 on the
phone) that closes the order or sends it back to the department."""

from datetime import timedelta

from django.core import signing
from django.db import transaction

from haocha.accounts.access import Actor
from haocha.accounts.models import Role
from haocha.core import clock
from haocha.core.errors import Conflict, InvalidInput, NotFound
from haocha.workorders import machine
from haocha.workorders.clocks import closing_minutes, new_cycle
from haocha.workorders.inputs import checked_text
from haocha.workorders.models import Status, Supervision, WorkOrder
from haocha.workorders.notifications import notify
from haocha.workorders.policy import order_policy

CALLBACK_CHOICES = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}
SOLVED_CHOICES = {"1": True, "0": False}


def parse_solved(value) -> bool | None:
    """A form's answer to 是否已解决: "1" or "0"; anything else is no answer (None)."""
    return SOLVED_CHOICES.get(value)


CITIZEN_SALT = "haocha.workorder.citizen"


def citizen_link_token(order: WorkOrder) -> str:
    return signing.dumps({"o": str(order.citizen_token)}, salt=CITIZEN_SALT, compress=True)


def order_from_citizen_token(token: str) -> WorkOrder:
    """The order a signed citizen link points at, while the link is younger than the region's policy allows."""
    try:
        data = signing.loads(token, salt=CITIZEN_SALT)
    except (signing.BadSignature, ValueError) as exc:
        raise NotFound("链接无效或已过期", code="link_invalid") from exc
    order = (
        WorkOrder.objects.select_related("rating", "department", "case__item", "region")
        .filter(citizen_token=data.get("o"))
        .first()
    )
    if order is None:
        raise NotFound("链接无效或已过期", code="link_invalid")
    days = order_policy(order.region).callback_link_days
    try:
        signing.loads(token, salt=CITIZEN_SALT, max_age=timedelta(days=days))
    except signing.SignatureExpired as exc:
        raise NotFound(f"链接已超过{days}天有效期，请联系12345热线", code="link_expired") from exc
    return order


def citizen_steps(order: WorkOrder):
    """The steps of an order a citizen sees on the progress page."""
    return order.transitions.exclude(action__in=machine.HIDDEN_FROM_CITIZEN).order_by("at", "id")


@transaction.atomic
def work_order_callback(
    *,
    order: WorkOrder,
    actor: Actor,
    solved: bool | None,
    satisfaction: str,
    comment: str = "",
    via_link: bool = False,
) -> WorkOrder:
    """回访: solved and not dissatisfied → 办结; otherwise back to the department in a new cycle (重办).

    Both answers are the citizen's: neither has a default, and a missing one is refused."""
    machine.authorize(actor, order, "callback", via_link=via_link)
    if solved is None:
        raise InvalidInput("请选择问题是否已解决", code="solved_required")
    if not satisfaction:
        raise InvalidInput("请选择对处理情况是否满意", code="satisfaction_required")
    if satisfaction not in CALLBACK_CHOICES:
        raise InvalidInput("对处理情况的评价应为满意、基本满意或不满意", code="invalid_satisfaction")
    comment = checked_text(comment, (WorkOrder, "callback_comment"), label="回访意见")
    if via_link and order.callback_token_used:
        raise Conflict("您已答复过本次回访，感谢您的反馈", code="link_used")

    def repeat(o: WorkOrder) -> str | None:
        if via_link:
            return None
        same = (o.callback_solved, o.callback_satisfaction, o.callback_comment) == (
            solved,
            satisfaction,
            comment,
        )
        return "已登记回访，无需重复" if o.status == Status.CLOSED and same else None

    machine.ensure(order, "callback", repeat=repeat)
    now = clock.now()
    common = {
        "callback_solved": solved,
        "callback_satisfaction": satisfaction,
        "callback_comment": comment,
        "callback_token_used": True,
    }
    data = {"solved": solved, "satisfaction": satisfaction, "via": "link" if via_link else "phone"}
    note = f"{'已解决' if solved else '未解决'}，{CALLBACK_CHOICES[satisfaction]}" + (
        f"：{comment}" if comment else ""
    )
    if solved and satisfaction != "dissatisfied":
        order = machine.move(
            order,
            "callback",
            actor=actor,
            to=Status.CLOSED,
            repeat=repeat,
            now=now,
            note=note,
            data=data,
            changes={**common, "closed_at": now, **closing_minutes(order)},
        )
        Supervision.objects.filter(order=order, resolved_at__isnull=True).update(resolved_at=now)
        return order
    changes = {
        **common,
        **new_cycle(order, start=now),
        "reopen_count": order.reopen_count + 1,
        "on_the_spot": False,
    }
    order = machine.move(
        order,
        "callback",
        actor=actor,
        to=Status.HANDLING,
        repeat=repeat,
        now=now,
        note=note,
        data=data,
        changes=changes,
    )
    notify(
        order,
        key=f"reopen-{order.version}",
        title=f"工单 {order.number} 回访不满意，请重新办理",
        body=note,
        org_ids=[order.department_id],
        roles=(Role.HANDLER, Role.DEPARTMENT_ADMIN),
    )
    return order
