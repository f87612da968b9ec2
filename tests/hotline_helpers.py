"""Helpers for the external-12345 tests: a registered platform, signed callbacks, events."""

import secrets
from datetime import timedelta

import orjson
from django.test import Client
from django.utils import timezone

from haocha.integrations.docking import signing
from haocha.integrations.hotline12345.protocol import CALLBACK_PATH, format_time
from haocha.integrations.hotline12345.services import platform_register

CONTACT_KEY = "0123456789abcdef0123456789abcdef"


def external_platform(
    cast, *, url="http://127.0.0.1:9/", signing_name="hmac-sha256", contact_key=CONTACT_KEY
):
    platform, secret, key = platform_register(
        region_code=cast.city.code,
        name="长沙市12345政务服务便民热线",
        base_url=url,
        signing=signing_name,
        contact_key=contact_key,
    )
    platform.raw_secret, platform.raw_key = secret, key
    return platform


def event(order, seq, kind, data=None, *, at=None, event_id=None):
    return {
        "eventId": event_id or secrets.token_hex(8),
        "orderNo": order.number,
        "seq": seq,
        "type": kind,
        "time": format_time(at or timezone.now() - timedelta(seconds=1)),
        "data": data or {},
    }


def post_events(platform, events, *, secret=None, headers=None, using=None):
    body = orjson.dumps({"events": events})
    signed = headers or signing.signed_headers(
        platform.app_id,
        secret or platform.raw_secret,
        "POST",
        CALLBACK_PATH,
        body,
        using=using or signing.scheme(platform.signing),
    )
    return Client().post(CALLBACK_PATH, body, content_type="application/json", headers=signed)


def results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def steps_to_close(order, dept):
    """A whole 12345 handling, as the platform reports it."""
    return [
        ("accept", {"platformNo": "12345202612040001"}),
        ("verify", {"complexity": "simple", "note": "经核实属实"}),
        ("dispatch", {"departmentCode": dept.credit_code, "note": "请按时限办理"}),
        ("sign", {}),
        ("contact", {"method": "phone", "reached": True, "outcome": "已电话联系群众"}),
        ("result", {"result": "solved", "text": "已为群众补办", "measures": "加强培训"}),
        ("callback", {"success": True, "solved": True, "satisfaction": "satisfied", "reason": ""}),
    ]
