"""Who may see a work order, and the one permission-checked lookup every view and service goes through."""

from django.db.models import Q

from haocha.accounts.access import Actor, Permission
from haocha.accounts.models import Role
from haocha.core.errors import NotFound
from haocha.workorders.models import WorkOrder

# Roles that see the orders of ratings in their scope even before (or after) the order is assigned there.
OVERSEEING_ROLES = (Role.OPERATOR_12345, Role.SUPERVISOR)
OVERSEE = Permission("监督工单", OVERSEEING_ROLES)
# The department's hands: the queue of orders assigned (or co-assigned) to it.
DEPARTMENT_QUEUE = Permission("办理部门工单", (Role.HANDLER, Role.DEPARTMENT_ADMIN))
# Window staff see their hall's 差评 that can still be settled on the spot (当场处置).
ON_THE_SPOT = Permission("当场处置", (Role.WINDOW_CLERK,))


def order_org(order: WorkOrder) -> int | None:
    """The organisation an order belongs to: its department, else the rating's department or hall."""
    return order.department_id or order.rating.department_id or order.rating.hall_id


def order_visible_to(actor: Actor, order: WorkOrder) -> bool:
    if actor.all_access or actor.can_see_org(order.department_id):
        return True
    if any(actor.can_see_org(pk) for pk in order.co_departments.values_list("pk", flat=True)):
        return True
    if actor.can_see_org(order.rating.hall_id):  # hall staff see the orders of ratings made at their hall
        return True
    return actor.allows(OVERSEE, order.rating.department_id)


def get_work_order_for_actor(actor: Actor, number: str) -> WorkOrder:
    order = (
        WorkOrder.objects.select_related(
            "rating", "case", "department", "region", "rating__item", "rating__window"
        )
        .filter(number=number)
        .first()
    )
    if order is None or not order_visible_to(actor, order):
        raise NotFound(f"工单 {number} 不存在或无权访问", code="work_order_not_found")
    return order


def work_orders_visible_to(actor: Actor):
    qs = WorkOrder.objects.all()
    if actor.all_access:
        return qs
    q = (
        Q(department_id__in=actor.org_ids)
        | Q(co_departments__in=actor.org_ids)
        | Q(rating__hall_id__in=actor.org_ids)
    )
    if actor.holds(OVERSEE):
        q |= actor.filter_for(OVERSEE, "rating__department_id")
    return qs.filter(q).distinct()


def department_queue_filter(actor: Actor) -> Q:
    """The orders in the hands of the departments the actor handles orders for."""
    return actor.filter_for(DEPARTMENT_QUEUE, "department_id", "co_departments")
