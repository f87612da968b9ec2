"""Who may do what with a rating, each in the scope of the role that allows it, and the permission-checked
lookups every page, API endpoint and service goes through.

A rating belongs to its department and to the hall where it was made. A user holding two roles (a
department's handler who is also the window clerk of a hall) acts with each role over that role's
organisations only: the clerk role at the hall does not let the handler role reveal or reply to ratings of
other departments made at that hall.
"""

import uuid

from django.db.models import F, Q, QuerySet

from haocha.accounts.access import Actor, Permission
from haocha.accounts.models import ApiClient, Role
from haocha.catalogue.models import Case
from haocha.catalogue.selectors import get_case_for_actor
from haocha.core.errors import Forbidden, NotFound
from haocha.evaluations.models import Rating
from haocha.organisations.models import Organisation

# Window clerks are left out on purpose: staff who can see each press come under pressure (and may press).
READ = Permission(
    "查看评价记录",
    (Role.SUPERVISOR, Role.DEPARTMENT_ADMIN, Role.HANDLER, Role.OPERATOR_12345),
    ApiClient.Scope.RATINGS_READ,
)
REPLY = Permission("回复评价", (Role.DEPARTMENT_ADMIN, Role.HANDLER), ApiClient.Scope.REPLIES_WRITE)
FLAG = Permission("标记评价", (Role.SUPERVISOR,))
REVEAL = Permission("查看评价人完整身份信息", (Role.SUPERVISOR, Role.OPERATOR_12345, Role.HANDLER))
# Staff record what a citizen said through the hotline, a call-back or as a supervisor (never rate themselves).
RECORD = Permission("代录评价", (Role.OPERATOR_12345, Role.SUPERVISOR))

_REFUSALS = {
    READ: ("只有监管人员、部门管理员、差评处理人员和12345话务员可以查看评价记录", "forbidden"),
    REPLY: ("只有被评部门的管理员或处理人员可以回复", "reply_not_allowed"),
    FLAG: ("只有监管人员可以标记评价", "flag_not_allowed"),
    REVEAL: ("无权查看评价人完整身份信息", "identity_not_allowed"),
    RECORD: ("工作人员不得代替办事群众评价", "staff_cannot_rate"),
}
_CLIENT_REFUSALS = {
    READ: "该接入系统没有查询评价的权限",
    REPLY: "该接入系统没有回复评价的权限",
}


def rating_orgs(permission: Permission, rating: Rating) -> tuple:
    """The organisations a rating belongs to for `permission`: a reply is the department's (a hall's when
    no department was rated); everything else is allowed over the department or the hall."""
    if permission is REPLY:
        return (rating.department_id or rating.hall_id,)
    return (rating.department_id, rating.hall_id)


def refuse(actor: Actor, permission: Permission) -> Forbidden:
    if actor.client is not None:
        message = _CLIENT_REFUSALS.get(permission, f"接入系统不能{permission.label}")
        return Forbidden(message, code="scope_missing")
    message, code = _REFUSALS.get(permission, (f"无权{permission.label}", "forbidden"))
    return Forbidden(message, code=code)


def require(actor: Actor, permission: Permission) -> None:
    """403 for an actor that holds `permission` nowhere (a role or API scope that never allows it)."""
    if not actor.holds(permission):
        raise refuse(actor, permission)


def may(actor: Actor, permission: Permission, rating: Rating) -> bool:
    return actor.allows(permission, *rating_orgs(permission, rating))


def check(actor: Actor, permission: Permission, rating: Rating) -> None:
    """403 unless the actor holds `permission` over this rating's organisation (services call it too)."""
    if not may(actor, permission, rating):
        raise refuse(actor, permission)


WIDE_SCOPE_SHARE = 4  # a scope holding at least 1/4 of all organisations is "wide"


def ratings_for(actor: Actor, permission: Permission = READ, *, newest_first: bool = False) -> QuerySet:
    """The ratings over whose department or hall the actor holds `permission` (every path lists through this).

    `newest_first`: the caller lists them newest first, a page at a time. For a wide scope (a city's
    supervisor) the organisation test is then written so that no index can serve it, and the database
    walks the ratings by time from the newest, keeping those in scope: otherwise it reads every rating of
    every organisation in the period and sorts them all for one page. Measured on 8.4 million ratings
    over a year, a city supervisor's /ratings/ (30 days, 657,000 ratings; the page's query and its count):
    8.3 s before, 5.7 s with the count capped alone, 30 ms with both. A narrow scope keeps the
    organisations' indexes, which read only its ratings."""
    orgs = actor.orgs_for(permission)
    if orgs is None:
        return Rating.objects.all()
    if newest_first and len(orgs) * WIDE_SCOPE_SHARE >= Organisation.objects.count():
        ids = list(orgs)
        return Rating.objects.alias(_department=F("department_id") + 0, _hall=F("hall_id") + 0).filter(
            Q(_department__in=ids) | Q(_hall__in=ids)
        )
    return Rating.objects.filter(actor.filter_for(permission, "department_id", "hall_id"))


def get_rating_for(actor: Actor, rating_id, permission: Permission = READ) -> Rating:
    """The rating with this public id if the actor holds `permission` over it: 403 for an actor no role of
    which allows it anywhere, or who may read the rating but not do this with it; 404 for a rating it may
    neither read nor do this with (existence is not revealed)."""
    require(actor, permission)
    try:
        public_id = uuid.UUID(str(rating_id))
    except ValueError as exc:
        raise NotFound("评价不存在或无权访问", code="rating_not_found") from exc
    rating = (
        Rating.objects.select_related("case", "indicator_set", "region", "window", "staff", "reply")
        .filter(public_id=public_id)
        .first()
    )
    if rating is None or not (may(actor, permission, rating) or may(actor, READ, rating)):
        raise NotFound("评价不存在或无权访问", code="rating_not_found")
    check(actor, permission, rating)
    return rating


def get_case_to_read_ratings(actor: Actor, case_no: str) -> Case:
    """The case whose ratings the actor asks for, if it may read ratings of the case's department or hall:
    403 for an actor no role of which reads ratings, 404 otherwise (even when the case itself is visible to
    it, as to the clerk of the hall where it was handled)."""
    require(actor, READ)
    case = get_case_for_actor(actor, case_no)
    if not actor.allows(READ, case.department_id, case.hall_id):
        raise NotFound(f"办件 {case_no} 不存在或无权访问", code="case_not_found")
    return case


def ratings_of_case_for(actor: Actor, case_no: str) -> list[Rating]:
    """A case's ratings (first and 追评) for an actor allowed to read them."""
    case = get_case_to_read_ratings(actor, case_no)
    return list(
        ratings_for(actor)
        .filter(case=case)
        .select_related("case", "indicator_set", "region", "window", "staff", "reply")
        .order_by("kind")
    )


def check_may_record(actor: Actor, *org_ids: int | None) -> None:
    """A member of staff records a citizen's rating only with a role that allows it over the rated unit."""
    if actor.user is not None and not actor.allows(RECORD, *org_ids):
        raise refuse(actor, RECORD)
