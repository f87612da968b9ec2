"""Helpers for the channel tests: a registered and activated tablet or terminal, a clerk who is window staff,
SMS codes read back from the outbox."""

import re

from django.test import Client

from haocha.accounts.access import actor_for_user
from haocha.channels import devices
from haocha.channels.devices import COOKIE
from haocha.core.identity import decrypt
from haocha.core.models import OutboxMessage


def clerk_is_staff(cast):
    """The cast's clerk (window clerk of the hall) is staff member 李娜 (SJ0001) at window A01."""
    cast.staff_a.user = cast.clerk
    cast.staff_a.save(update_fields=["user"])
    return cast.staff_a


def activate(client: Client, code: str):
    """Open the activation link on the device (a tap on 确认激活); the device cookie is then in the client."""
    return client.post(f"/devices/activate/{code}/")


def tablet_client(cast, window, *, interval=None) -> tuple[Client, object]:
    device, code = devices.tablet_register(actor=actor_for_user(cast.clerk), window=window)
    if interval is not None:
        device.min_interval_seconds = interval
        device.save(update_fields=["min_interval_seconds"])
    client = Client()
    response = activate(client, code)
    assert response.status_code == 302 and response["Location"] == f"/tablet/{window.code}/"
    assert client.cookies[COOKIE].value
    device.refresh_from_db()
    return client, device


def terminal_client(cast) -> tuple[Client, object]:
    device, code = devices.terminal_register(actor=actor_for_user(cast.clerk), hall=cast.hall)
    client = Client()
    assert activate(client, code).status_code == 302
    device.refresh_from_db()
    return client, device


def sent_codes() -> list[tuple[str, str]]:
    """(phone, code) of every SMS code queued so far, oldest first."""
    out = []
    for msg in OutboxMessage.objects.filter(topic="sms.send").order_by("created_at", "id"):
        match = re.search(r"验证码(\d{6})", msg.payload["text"])
        if match:
            out.append((decrypt(msg.payload["phone_enc"]), match.group(1)))
    return out


def rate_on_tablet(client, window, **body):
    body.setdefault("age_ms", 0)
    return client.post(f"/tablet/{window.code}/ratings", body, content_type="application/json")
