"""The client of an external 12345 platform: push one order, fetch what the platform has for one."""

import urllib.error
import urllib.parse
import urllib.request

import orjson
from django.conf import settings

from haocha.integrations.docking import signing
from haocha.integrations.docking.client import no_redirect_opener
from haocha.integrations.hotline12345.protocol import ORDERS_PATH


class PlatformDown(Exception):
    """No answer, or a failure worth trying again (5xx, 408, 429): retried with backoff."""


class PlatformRefused(Exception):
    """The platform refused the request as it is (4xx): not retried; shown as stuck until corrected."""


class PlatformClient:
    def __init__(self, platform):
        self.platform = platform
        self.base = platform.base_url.rstrip("/")
        self.using = signing.scheme(platform.signing)
        self.timeout = settings.HAOCHA_DOCKING_TIMEOUT
        self._opener = no_redirect_opener()

    def _call(self, method: str, path: str, body: bytes = b"") -> dict | None:
        if not self.base:
            raise PlatformRefused("未登记12345平台地址")
        headers = {
            "Content-Type": "application/json",
            **signing.signed_headers(
                self.platform.app_id, self.platform.secret, method, path, body, using=self.using
            ),
        }
        request = urllib.request.Request(
            self.base + path, data=body if method == "POST" else None, headers=headers, method=method
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                answer = orjson.loads(response.read() or b"{}")
            if not isinstance(answer, dict):
                raise PlatformDown("12345平台的答复不是 JSON 对象")
            return answer
        except urllib.error.HTTPError as exc:
            text = exc.read()[:200].decode("utf-8", "replace")
            if exc.code == 404 and method == "GET":
                return None
            if 400 <= exc.code < 500 and exc.code not in (401, 408, 409, 429):
                raise PlatformRefused(f"HTTP {exc.code} {text}") from exc
            raise PlatformDown(f"HTTP {exc.code} {text}") from exc
        except (OSError, ValueError) as exc:  # refused, reset, timed out, not JSON
            raise PlatformDown(f"12345平台无应答：{exc}") from exc

    def push(self, payload: dict) -> dict:
        return self._call("POST", ORDERS_PATH, orjson.dumps(payload)) or {}

    def fetch(self, order_no: str) -> dict | None:
        """The platform's record of one order with all its events; None when it does not know it."""
        return self._call("GET", f"{ORDERS_PATH}/{urllib.parse.quote(order_no)}")
