"""What the 12345 page and the command show: per platform the push states, waiting and failed callbacks, and the
pushes that need a look — within the orders a user may see (None: all)."""

from django.db.models import Count, Q

from haocha.integrations.hotline12345.models import HotlinePlatform, PlatformEvent, PlatformOrder

S = PlatformOrder.State
E = PlatformEvent.State
# A push that needs a look: not yet out, given up, or an error on its latest try (an acknowledged order's 督办).
NEEDS_LOOK = Q(state__in=(S.QUEUED, S.STUCK)) | ~Q(last_error="")


def pushes_of(orders=None):
    rows = PlatformOrder.objects.all()
    return rows if orders is None else rows.filter(order__in=orders)


def events_of(orders=None):
    rows = PlatformEvent.objects.all()
    return rows if orders is None else rows.filter(order__in=orders)


def platform_summary(orders=None) -> list[dict]:
    """Per platform (those with any of `orders`, when given): pushes per state, callbacks waiting and failed."""
    pushes = pushes_of(orders)
    counts = {
        (p, s): n for p, s, n in pushes.values_list("platform", "state").annotate(n=Count("pk")).order_by()
    }
    events = {
        (p, s): n
        for p, s, n in events_of(orders)
        .filter(state__in=(E.WAITING, E.FAILED))
        .values_list("platform", "state")
        .annotate(n=Count("pk"))
        .order_by()
    }
    platforms = HotlinePlatform.objects.select_related("region").order_by("region__code")
    if orders is not None:  # a platform with none of the user's orders is not theirs to see
        platforms = platforms.filter(orders__in=pushes).distinct()
    return [
        {
            "platform": platform,
            "states": [(label, counts.get((platform.pk, state), 0)) for state, label in S.choices],
            "waiting": events.get((platform.pk, E.WAITING), 0),
            "failed": events.get((platform.pk, E.FAILED), 0),
        }
        for platform in platforms
    ]
