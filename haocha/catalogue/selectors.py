"""Permission-checked reads of cases."""

from django.db import connection

from haocha.accounts.access import Actor
from haocha.catalogue.caseno import normalise_case_no
from haocha.catalogue.models import Case
from haocha.core.errors import NotFound
from haocha.core.rawrows import fetch_row
from haocha.organisations.models import Region


def case_visible_to(actor: Actor, case: Case) -> bool:
    return actor.can_see_org(case.department_id) or actor.can_see_org(case.hall_id)


def find_case_for_actor(actor: Actor, case_no: str) -> Case | None:
    """The case with this 办件编号 if the actor may see it, else None (the caller says 404)."""
    qs = Case.objects.select_related("item", "department", "region", "hall", "window", "staff")
    case = next(
        iter(qs.filter(case_no=normalise_case_no(case_no)).order_by()[:1]), None
    )  # unique key: no ORDER BY
    if case is None or not case_visible_to(actor, case):
        return None
    return case


def get_case_for_actor(actor: Actor, case_no: str, *, for_update: bool = False) -> Case:
    """The case with this 办件编号 if the actor may see it; 404 otherwise (existence is not revealed)."""
    case = find_case_for_actor(actor, case_no)
    if case is None:
        raise NotFound(f"办件 {case_no} 不存在或无权访问", code="case_not_found")
    return case


_CASE_FIELDS = tuple(Case._meta.concrete_fields)
_REGION_FIELDS = tuple(Region._meta.concrete_fields)
_RATING_CASE_SQL: dict[str, str] = {}


def _rating_case_sql() -> str:
    """The case and its region in one query, written once: the ORM compiles a query on every call."""
    sql = _RATING_CASE_SQL.get(connection.vendor)
    if sql is None:
        qn = connection.ops.quote_name
        cols = [f"c.{qn(f.column)}" for f in _CASE_FIELDS] + [f"r.{qn(f.column)}" for f in _REGION_FIELDS]
        sql = _RATING_CASE_SQL[connection.vendor] = (
            f"SELECT {', '.join(cols)} FROM {qn(Case._meta.db_table)} c "
            f"JOIN {qn(Region._meta.db_table)} r ON r.{qn(Region._meta.pk.column)} = "
            f"c.{qn(Case._meta.get_field('region').column)} "
            f"WHERE c.{qn(Case._meta.get_field('case_no').column)} = %s"
        )
    return sql


def find_case_for_rating(actor: Actor, case_no: str) -> Case | None:
    """find_case_for_actor for the rating intake: the case with its region only, in one hand-written query."""
    row = fetch_row(_rating_case_sql(), [normalise_case_no(case_no)], _CASE_FIELDS + _REGION_FIELDS)
    if row is None:
        return None
    n = len(_CASE_FIELDS)
    case = Case.from_db(connection.alias, [f.attname for f in _CASE_FIELDS], row[:n])
    if not case_visible_to(actor, case):
        return None
    case.region = Region.from_db(connection.alias, [f.attname for f in _REGION_FIELDS], row[n:])
    return case
