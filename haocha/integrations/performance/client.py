"""The client of the 政务服务成效管理系统: one signed POST per batch of records (docking/signing.py headers)."""

import urllib.error
import urllib.request

import orjson
from django.conf import settings

from haocha.integrations.docking import signing
from haocha.integrations.docking.client import no_redirect_opener

RECORDS_PATH = "/api/performance/records"


class PerformanceUnavailable(Exception):
    """The system did not answer, or refused the whole batch (sent again later)."""


def configured() -> bool:
    """Nothing is pushed unless the address, this system's app id and the shared secret are all set."""
    return bool(
        settings.HAOCHA_PERFORMANCE_URL
        and settings.HAOCHA_PERFORMANCE_APP_ID
        and settings.HAOCHA_PERFORMANCE_SECRET
    )


class PerformanceClient:
    def __init__(self, url: str | None = None, app_id: str | None = None, secret: str | None = None):
        self.url = (url or settings.HAOCHA_PERFORMANCE_URL).rstrip("/")
        self.app_id = app_id or settings.HAOCHA_PERFORMANCE_APP_ID
        self.secret = secret or settings.HAOCHA_PERFORMANCE_SECRET
        self.timeout = settings.HAOCHA_PERFORMANCE_TIMEOUT
        self._opener = no_redirect_opener()

    def push(self, records: list[dict]) -> list[dict]:
        """Send one batch; the system's result for each record, in order."""
        body = orjson.dumps({"records": records})
        headers = {
            "Content-Type": "application/json",
            **signing.signed_headers(self.app_id, self.secret, "POST", RECORDS_PATH, body),
        }
        request = urllib.request.Request(self.url + RECORDS_PATH, data=body, headers=headers, method="POST")
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                answer = orjson.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode("utf-8", "replace")
            raise PerformanceUnavailable(f"成效管理系统答复 HTTP {exc.code}：{detail}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise PerformanceUnavailable(f"无法连接成效管理系统：{exc}") from exc
        except orjson.JSONDecodeError as exc:
            raise PerformanceUnavailable("成效管理系统的答复不是 JSON") from exc
        results = answer.get("results") if isinstance(answer, dict) else None
        if not isinstance(results, list) or len(results) != len(records):
            raise PerformanceUnavailable("成效管理系统的答复缺少逐条结果")
        return results
