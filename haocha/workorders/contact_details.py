"""查看联系方式: the handler of the department an order is assigned to sees the citizen's name and phone number
in full, to make the contact the 1210 rule asks for (within 1 working day) — with a purpose, an audit entry and
the same daily quota as every other look at personal data (accounts/disclosure.py)."""

from haocha.accounts.access import Actor, Permission
from haocha.accounts.disclosure import personal_data_disclose
from haocha.accounts.models import Role
from haocha.core import identity
from haocha.core.errors import Conflict, Forbidden
from haocha.workorders import machine
from haocha.workorders.models import WorkOrder

CONTACT_DETAILS = Permission("查看联系方式", (Role.HANDLER,))
FIELDS = ("name", "phone")


def _while_contact_is_due(order: WorkOrder) -> bool:
    """While the department can still record a contact (签收 before, 反馈 after: machine's contact action)."""
    return order.status in machine.ACTIONS["contact"].sources


def may_see_contact_details(actor: Actor, order: WorkOrder) -> bool:
    """What the workbench offers: the actor handles orders for the order's department, and contact is due."""
    return (
        actor.client is None
        and actor.allows(CONTACT_DETAILS, order.department_id)
        and _while_contact_is_due(order)
    )


def work_order_contact_details(*, actor: Actor, order: WorkOrder, purpose: str, request=None) -> dict:
    """The rater's name and phone number for the handler of the order's department; each look audited and
    counted against the handler's daily quota."""
    if actor.client is not None or not actor.allows(CONTACT_DETAILS, order.department_id):
        raise Forbidden("只有承办部门的差评处理人员可以查看联系方式", code="contact_details_not_allowed")
    if not _while_contact_is_due(order):
        raise Conflict(
            f"工单当前为“{order.get_status_display()}”，无需联系群众，不能查看联系方式",
            code="contact_not_due",
        )
    rating = order.rating
    if not rating.evaluator_phone_enc:
        raise Conflict("评价人未留联系电话，请通过12345热线联系", code="no_phone")
    personal_data_disclose(
        actor=actor,
        obj=rating,
        region=rating.region,
        org_ids=(order.department_id,),
        what=f"查看联系方式（工单 {order.number}）",
        fields=FIELDS,
        purpose=purpose,
        request=request,
    )
    return {"name": rating.evaluator_name, "phone": identity.decrypt(rating.evaluator_phone_enc)}
