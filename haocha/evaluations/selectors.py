"""Permission-checked reads of ratings."""

import uuid

from haocha.accounts.access import Actor
from haocha.core.errors import NotFound
from haocha.evaluations.models import Rating


def rating_visible_to(actor: Actor, rating: Rating) -> bool:
    return actor.can_see_org(rating.department_id) or actor.can_see_org(rating.hall_id)


def get_rating_for_actor(actor: Actor, rating_id) -> Rating:
    try:
        public_id = uuid.UUID(str(rating_id))
    except ValueError as exc:
        raise NotFound("评价不存在或无权访问", code="rating_not_found") from exc
    rating = (
        Rating.objects.select_related("case", "indicator_set", "region", "window", "staff", "reply")
        .filter(public_id=public_id)
        .first()
    )
    if rating is None or not rating_visible_to(actor, rating):
        raise NotFound("评价不存在或无权访问", code="rating_not_found")
    return rating


def ratings_for_case(case) -> list[Rating]:
    return list(
        Rating.objects.filter(case=case)
        .select_related("case", "indicator_set", "region", "window", "staff", "reply")
        .order_by("kind")
    )
