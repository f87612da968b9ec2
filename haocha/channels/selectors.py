"""Permission-checked reads for the channel pages: windows, halls and devices in the actor's scope (ratings:
evaluations.access)."""

from haocha.accounts.access import Actor
from haocha.channels.models import Device
from haocha.core.errors import NotFound
from haocha.organisations.models import Organisation, Window


def windows_visible_to(actor: Actor):
    return Window.objects.filter(actor.org_filter("hall_id", "department_id"))


def get_window_for_actor(actor: Actor, code: str) -> Window:
    window = (
        windows_visible_to(actor)
        .select_related("hall", "hall__region", "department")
        .filter(code=code)
        .first()
    )
    if window is None:
        raise NotFound(f"窗口 {code} 不存在或无权访问", code="window_not_found")
    return window


def halls_visible_to(actor: Actor):
    return Organisation.objects.filter(kind__in=Organisation.HALL_KINDS).filter(actor.org_filter("pk"))


def get_hall_for_actor(actor: Actor, hall_id) -> Organisation:
    try:
        pk = int(hall_id)
    except (TypeError, ValueError) as exc:
        raise NotFound("大厅不存在或无权访问", code="hall_not_found") from exc
    hall = halls_visible_to(actor).filter(pk=pk).first()
    if hall is None:
        raise NotFound("大厅不存在或无权访问", code="hall_not_found")
    return hall


def get_device_for_actor(actor: Actor, code: str) -> Device:
    device = Device.objects.select_related("window", "window__hall", "hall").filter(code=code).first()
    visible = device is not None and (
        actor.can_see_org(device.hall_id)
        or (device.window_id is not None and actor.can_see_org(device.window.department_id))
    )
    if not visible:
        raise NotFound("设备不存在或无权访问", code="device_not_found")
    return device
