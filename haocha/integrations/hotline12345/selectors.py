"""What the 12345 page and the command show: per platform the push states, waiting and failed callbacks."""

from django.db.models import Count

from haocha.integrations.hotline12345.models import HotlinePlatform, PlatformEvent, PlatformOrder

S = PlatformOrder.State
E = PlatformEvent.State


def platform_summary() -> list[dict]:
    counts = {
        (p, s): n
        for p, s, n in PlatformOrder.objects.values_list("platform", "state")
        .annotate(n=Count("pk"))
        .order_by()
    }
    events = {
        (p, s): n
        for p, s, n in PlatformEvent.objects.filter(state__in=(E.WAITING, E.FAILED))
        .values_list("platform", "state")
        .annotate(n=Count("pk"))
        .order_by()
    }
    return [
        {
            "platform": platform,
            "states": [(label, counts.get((platform.pk, state), 0)) for state, label in S.choices],
            "waiting": events.get((platform.pk, E.WAITING), 0),
            "failed": events.get((platform.pk, E.FAILED), 0),
        }
        for platform in HotlinePlatform.objects.select_related("region").order_by("region__code")
    ]


def problems(limit: int = 50) -> dict:
    """Orders stuck or not yet acknowledged, and callbacks waiting or failed: what needs a look."""
    stuck = PlatformOrder.objects.filter(state__in=(S.STUCK, S.QUEUED)).select_related("order", "platform")
    events = PlatformEvent.objects.filter(state__in=(E.WAITING, E.FAILED)).select_related("order", "platform")
    return {
        "orders": list(stuck.order_by("-queued_at")[:limit]),
        "events": list(events.order_by("-received_at")[:limit]),
    }
