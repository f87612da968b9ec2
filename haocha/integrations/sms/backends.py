"""SMS senders: the file backend (default, development and demo) and an HTTP backend for a provider.

`get_backend()` returns the one configured by HAOCHA_SMS_BACKEND. A backend returns the provider's
message id, raises PermanentError for a text that can never be sent as it is (the outbox gives up), and
any other exception for a transient failure (the outbox retries with backoff).
"""

import abc
import json
import re
import threading
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from haocha.core.outbox import PermanentError

_lock = threading.Lock()
_PHONE_IN_TEXT = re.compile(r"1[3-9]\d{9}")


class SmsBackend(abc.ABC):
    """What every sender implements (FileBackend, HttpBackend); a configured class without it fails to load."""

    @abc.abstractmethod
    def send(self, *, phone: str, text: str, key: str) -> str:
        """Send one text; return the provider's message id. Raise to have the outbox retry."""


class FileBackend(SmsBackend):
    """Development and demo: the 'sent' texts are lines in var/sms/outbox.jsonl (phone masked). Like a real
    provider it deduplicates on our key: a text handed over again (a worker killed after the send, before
    it recorded it) returns the first message id and is not 'sent' twice."""

    _ledgers: dict[str, tuple[dict, int]] = {}  # file -> (key -> message id, bytes read so far)

    def send(self, *, phone: str, text: str, key: str) -> str:
        from haocha.core.identity import mask_phone

        path = Path(settings.VAR_DIR) / "sms" / "outbox.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with _lock, path.open("a+", encoding="utf-8") as fh:
            seen = self._catch_up(str(path), fh)
            if key in seen:
                return seen[key]
            message_id = f"file-{uuid.uuid4().hex[:16]}"
            line = {"id": message_id, "key": key, "phone": mask_phone(phone), "text": text}
            line["sent_at"] = timezone.now().isoformat()
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
            fh.flush()
            seen[key] = message_id
            self._ledgers[str(path)] = (seen, fh.tell())
        return message_id

    def _catch_up(self, name: str, fh) -> dict:
        """The keys sent so far: those read before plus the lines appended since (by any process)."""
        seen, read_to = self._ledgers.get(name, ({}, 0))
        fh.seek(0, 2)
        if fh.tell() < read_to:  # the file was removed or truncated
            seen, read_to = {}, 0
        fh.seek(read_to)
        for raw in fh:
            try:
                entry = json.loads(raw)
            except ValueError:
                continue
            seen.setdefault(entry.get("key", ""), entry.get("id", ""))
        self._ledgers[name] = (seen, fh.tell())
        return seen


class SmsGatewayError(Exception):
    """A transient failure of the provider (down, slow, 5xx, 429): the outbox tries again later."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirected POST would lose its body: treat 3xx as an error


def _scrub(raw: bytes) -> str:
    """A provider's error text for our logs and the outbox row, without phone numbers in it."""
    text = raw[:300].decode("utf-8", "replace").strip()
    return _PHONE_IN_TEXT.sub(lambda m: m.group(0)[:3] + "****" + m.group(0)[-4:], text)


class HttpBackend(SmsBackend):
    """A provider's JSON API: POST {account, sign_name, phone, text, out_id} with `Authorization: Bearer`.

    Configured by HAOCHA_SMS_HTTP_URL, _ACCOUNT, _KEY, _TIMEOUT, _ID_FIELD and HAOCHA_SMS_SIGN_NAME.
    `out_id` is our idempotency key: a provider that deduplicates on it never sends a retried text twice,
    and echoes it in delivery receipts.
    """

    def __init__(self):
        self.url = settings.HAOCHA_SMS_HTTP_URL
        self.account = settings.HAOCHA_SMS_HTTP_ACCOUNT
        self.key = settings.HAOCHA_SMS_HTTP_KEY
        self.sign_name = settings.HAOCHA_SMS_SIGN_NAME
        self.timeout = settings.HAOCHA_SMS_HTTP_TIMEOUT
        self.id_field = settings.HAOCHA_SMS_HTTP_ID_FIELD
        self._opener = urllib.request.build_opener(_NoRedirect)

    def send(self, *, phone: str, text: str, key: str) -> str:
        if not self.url:
            raise PermanentError("未配置短信网关地址 HAOCHA_SMS_HTTP_URL")
        body = {"account": self.account, "sign_name": self.sign_name, "phone": phone, "text": text}
        body["out_id"] = key
        request = urllib.request.Request(
            self.url,
            data=json.dumps(body, ensure_ascii=False).encode(),
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Accept": "application/json",
                "Authorization": f"Bearer {self.key}",
            },
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                raw = response.read(65536)
        except urllib.error.HTTPError as exc:
            detail = _scrub(exc.read(2048) if exc.fp else b"")
            if 300 <= exc.code < 500 and exc.code not in (408, 425, 429):
                raise PermanentError(f"短信网关拒绝（HTTP {exc.code}）：{detail}") from None
            raise SmsGatewayError(f"短信网关暂时不可用（HTTP {exc.code}）：{detail}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SmsGatewayError(f"短信网关连接失败：{reason}") from None
        try:
            message_id = json.loads(raw).get(self.id_field)
        except (ValueError, AttributeError):
            message_id = None
        if not message_id:
            # Accepted or not? Unknown: try again (the provider deduplicates on out_id).
            raise SmsGatewayError(f"短信网关应答中没有消息编号（{self.id_field}）：{_scrub(raw)}")
        return str(message_id)


def get_backend() -> SmsBackend:
    return import_string(settings.HAOCHA_SMS_BACKEND)()
