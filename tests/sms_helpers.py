"""Helpers for the SMS tests: the stand-in gateway process, signed webhook calls, a case with a phone."""

import hashlib
import hmac
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from haocha.catalogue.models import Case

GATEWAY_SCRIPT = Path(__file__).with_name("sms_gateway.py")
GATEWAY_KEY = "gw-test-key-7a1c"
SECRET = "webhook-secret-for-tests"
PHONE = "13812345678"


class Gateway:
    """The stand-in provider as a separate process on loopback."""

    def __init__(self, *, webhook: str = "", port: int = 0):
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(GATEWAY_SCRIPT),
                "--key",
                GATEWAY_KEY,
                "--port",
                str(port),
                "--webhook",
                webhook,
                "--secret",
                SECRET,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.stop()
            pytest.fail(f"the stand-in gateway did not start: {line!r}")
        self.port = int(line.split()[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def _call(self, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        req = urllib.request.Request(self.url + path, data=data, method="GET" if body is None else "POST")
        req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read())

    def messages(self) -> list[dict]:
        return self._call("/messages")["messages"]

    def attempts(self) -> int:
        return self._call("/messages")["attempts"]

    def mode(self, mode: str) -> None:
        self._call("/control", {"mode": mode})

    def reply(self, phone: str, text: str, message_id: str, times: int = 1) -> list[dict]:
        body = {"phone": phone, "text": text, "message_id": message_id, "times": times}
        return self._call("/control/reply", body)["answers"]

    def receipt(self, out_id: str, status: str = "delivered") -> dict:
        return self._call("/control/receipt", {"out_id": out_id, "status": status})


def use_gateway(settings, gateway: Gateway | None = None, *, url: str = "") -> None:
    settings.HAOCHA_SMS_BACKEND = "haocha.integrations.sms.backends.HttpBackend"
    settings.HAOCHA_SMS_HTTP_URL = url or (gateway.url + "/send")
    settings.HAOCHA_SMS_HTTP_KEY = GATEWAY_KEY
    settings.HAOCHA_SMS_HTTP_ACCOUNT = "haocha-test"
    settings.HAOCHA_SMS_HTTP_TIMEOUT = 1
    settings.HAOCHA_SMS_WEBHOOK_SECRET = SECRET


def sign(body: bytes, *, secret: str = SECRET, ts: int | None = None) -> dict:
    ts = str(int(time.time()) if ts is None else ts)
    sig = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Sms-Timestamp": ts, "X-Sms-Signature": sig}


def post_signed(client, path: str, body, **kw):
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return client.post("/api" + path, raw, content_type="application/json", headers=sign(raw, **kw))


def reply(client, text: str, message_id: str, phone: str = PHONE):
    return post_signed(client, "/sms/inbound", {"message_id": message_id, "phone": phone, "text": text})


def register_case(api, cast, case_no: str, *, finished_at: str, accepted_at: str, phone: str = PHONE):
    """Through the cases API, as an approval system does it."""
    body = {
        "item_code": cast.item_a.code,
        "applicant_type": "1",
        "applicant_name": "王小明",
        "applicant_phone": phone,
        "apply_channel": "hall",
        "window_code": cast.window_a.code,
        "status": "finished",
        "accepted_at": accepted_at,
        "finished_at": finished_at,
    }
    r = api.put(f"/cases/{case_no}", body)
    assert r.status_code in (200, 201), r.content
    return Case.objects.get(case_no=case_no)
