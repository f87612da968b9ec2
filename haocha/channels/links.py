"""Signed links that let a citizen act on one case without an account (QR codes, SMS, 办结 notices).

A link carries the case, the channel it was handed out through and optionally a pre-selected level
(one-tap rating). It is signed, not stored: nothing to look up, nothing to leak. It is "single-use"
in the sense the rules need: the case takes one first rating and one 追评 whatever link is used, so
a second use of the link shows the rating already given (and the 追评, reply and work-order
progress) instead of rating again.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing

from haocha.accounts.access import Actor
from haocha.catalogue.models import Case
from haocha.core.errors import DomainError, NotFound

SALT = "haocha.channels.rating-link"


@dataclass(frozen=True)
class LinkTarget:
    case: Case
    channel: str
    level: str


def rating_link_token(case: Case, *, channel: str, level: str = "") -> str:
    payload = {"c": case.case_no, "ch": channel}
    if level:
        payload["l"] = str(level)
    return signing.dumps(payload, salt=SALT, compress=True)


def rating_link_path(case: Case, *, channel: str, level: str = "") -> str:
    return f"/r/{rating_link_token(case, channel=channel, level=level)}/"


def rating_link_url(case: Case, *, channel: str, level: str = "") -> str:
    """The absolute link (HAOCHA_PUBLIC_URL) for texts that leave the site: SMS, printed notices."""
    return settings.HAOCHA_PUBLIC_URL.rstrip("/") + rating_link_path(case, channel=channel, level=level)


def target_from_token(token: str) -> LinkTarget:
    """The case a link points at; 404 for a forged or mangled link, 410 for an expired one."""
    max_age = timedelta(days=settings.HAOCHA_RATING_LINK_DAYS)
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise DomainError("评价链接已过期，请通过其他渠道评价", code="link_expired", status=410) from exc
    except (signing.BadSignature, ValueError) as exc:
        raise NotFound("评价链接无效", code="link_invalid") from exc
    case = (
        Case.objects.select_related("item", "department", "region", "hall", "window", "staff")
        .filter(case_no=data.get("c", ""))
        .first()
    )
    if case is None:
        raise NotFound("评价链接无效", code="link_invalid")
    return LinkTarget(case=case, channel=str(data.get("ch", "")), level=str(data.get("l", "")))


def actor_for_case(case: Case, *, label: str) -> Actor:
    """The citizen acting through a link or a terminal: may reach this one case's organisations only."""
    orgs = {case.department_id}
    if case.hall_id:
        orgs.add(case.hall_id)
    return Actor(label=label, org_ids=frozenset(orgs))
