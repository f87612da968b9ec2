"""Permission-checked reads of cases."""

from haocha.accounts.access import Actor
from haocha.catalogue.models import Case
from haocha.core.errors import NotFound


def case_visible_to(actor: Actor, case: Case) -> bool:
    return actor.can_see_org(case.department_id) or actor.can_see_org(case.hall_id)


def get_case_for_actor(actor: Actor, case_no: str, *, for_update: bool = False) -> Case:
    """The case with this 办件编号 if the actor may see it; 404 otherwise (existence is not revealed)."""
    qs = Case.objects.select_related("item", "department", "region", "hall", "window", "staff")
    case = qs.filter(case_no=case_no).first()
    if case is None or not case_visible_to(actor, case):
        raise NotFound(f"办件 {case_no} 不存在或无权访问", code="case_not_found")
    return case
