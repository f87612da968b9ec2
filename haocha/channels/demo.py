"""Channels in the demo city: tablets registered at the 市民之家 windows (activated from the 评价渠道 page), the
hall's self-service terminals, the demo clerk on duty at their window with a case being served."""

from datetime import timedelta

from django.utils import timezone

from haocha.catalogue.models import Case
from haocha.channels.models import Device, ServedCase, WindowDuty
from haocha.evaluations.models import Rating
from haocha.organisations.models import Staff, Window

DEMO_TABLETS = 8


def build_channel_demo(*, hall, terminal_codes, clerk) -> dict:
    """Register devices in `hall` (codes as the demo ratings carry them) and put `clerk` on duty."""
    now = timezone.now()
    windows = list(Window.objects.filter(hall=hall, is_active=True).order_by("number")[:DEMO_TABLETS])
    Device.objects.bulk_create(
        [
            Device(code=f"PJQ-{w.code}", kind=Device.Kind.TABLET, hall=hall, window=w, registered_by=clerk)
            for w in windows
        ]
        + [
            Device(code=code, kind=Device.Kind.TERMINAL, hall=hall, registered_by=clerk)
            for code in terminal_codes
        ]
    )
    staff = Staff.objects.filter(user=clerk).first()
    served = None
    if staff is not None:
        window = staff.windows.filter(hall=hall).order_by("number").first()
        if window is not None:
            WindowDuty.objects.create(
                window=window, staff=staff, started_at=now - timedelta(hours=1), started_by="演示数据"
            )
            rated = Rating.objects.filter(case__isnull=False, department_id=window.department_id).values(
                "case_id"
            )
            case = (
                Case.objects.filter(department_id=window.department_id, status=Case.Status.FINISHED)
                .exclude(pk__in=rated)
                .order_by("-finished_at")
                .first()
            )
            if case is not None:
                served = ServedCase.objects.create(
                    window=window, case=case, source=ServedCase.Source.QUEUE, set_by="演示数据", set_at=now
                )
    return {"tablets": len(windows), "terminals": len(terminal_codes), "served": served is not None}
