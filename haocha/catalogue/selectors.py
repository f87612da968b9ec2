"""Permission-checked reads of cases."""

from django.db import connection

from haocha.accounts.access import Actor
from haocha.catalogue.models import Case
from haocha.core.errors import NotFound
from haocha.organisations.models import Region


def case_visible_to(actor: Actor, case: Case) -> bool:
    return actor.can_see_org(case.department_id) or actor.can_see_org(case.hall_id)


def get_case_for_actor(actor: Actor, case_no: str, *, for_update: bool = False) -> Case:
    """The case with this 办件编号 if the actor may see it; 404 otherwise (existence is not revealed)."""
    qs = Case.objects.select_related("item", "department", "region", "hall", "window", "staff")
    case = next(iter(qs.filter(case_no=case_no).order_by()[:1]), None)  # unique key: no ORDER BY
    if case is None or not case_visible_to(actor, case):
        raise NotFound(f"办件 {case_no} 不存在或无权访问", code="case_not_found")
    return case


_RATING_CASE_SQL: str | None = None
_REGION_FIELDS = [f.attname for f in Region._meta.concrete_fields]


def _rating_case_sql() -> str:
    """The case and its region in one query, written once: the ORM compiles a query on every call."""
    global _RATING_CASE_SQL
    if _RATING_CASE_SQL is None:
        qn = connection.ops.quote_name
        region_cols = ", ".join(
            f"r.{qn(Region._meta.get_field(name).column)} AS {qn('region__' + name)}"
            for name in _REGION_FIELDS
        )
        _RATING_CASE_SQL = (
            f"SELECT c.*, {region_cols} FROM {qn(Case._meta.db_table)} c "
            f"JOIN {qn(Region._meta.db_table)} r ON r.{qn(Region._meta.pk.column)} = "
            f"c.{qn(Case._meta.get_field('region').column)} "
            f"WHERE c.{qn(Case._meta.get_field('case_no').column)} = %s"
        )
    return _RATING_CASE_SQL


def get_case_for_rating(actor: Actor, case_no: str) -> Case:
    """get_case_for_actor for the rating intake: the case with its region only, without ORM compilation."""
    case = next(iter(Case.objects.raw(_rating_case_sql(), [case_no])), None)
    if case is None or not case_visible_to(actor, case):
        raise NotFound(f"办件 {case_no} 不存在或无权访问", code="case_not_found")
    case.region = Region(**{name: getattr(case, "region__" + name) for name in _REGION_FIELDS})
    return case
