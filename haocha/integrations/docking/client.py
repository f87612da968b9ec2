"""The client of the parent system (the city's, the province's haocha or another vendor's platform)."""

import urllib.error
import urllib.request

import orjson
from django.conf import settings

from haocha.integrations.docking import signing

UPLOAD_PATH = "/api/docking/upload"


class ParentUnavailable(Exception):
    """The parent did not answer, or answered with a failure for the whole batch (retry later)."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def no_redirect_opener():
    """An opener that follows no redirect: a partner's answer comes from the address configured, or fails."""
    return urllib.request.build_opener(_NoRedirect)


def configured() -> bool:
    """A parent to upload to: its address, this system's app id, and the key it signs with (the shared
    secret, or the SM2 private key under sm2-sm3)."""
    if not (settings.HAOCHA_PARENT_URL and settings.HAOCHA_PARENT_APP_ID):
        return False
    if settings.HAOCHA_PARENT_SIGNING == "sm2-sm3":
        return bool(settings.HAOCHA_PARENT_SM2_PRIVATE_KEY)
    return bool(settings.HAOCHA_PARENT_SECRET)


def parent_client(haocha_client=None):
    """The client of the parent's protocol (HAOCHA_PARENT_PROTOCOL): `haocha`, another haocha's
    /api/docking/upload (`haocha_client`, default ParentClient: upload.py passes the name it holds, which
    tests replace), or `provincial`, a provincial platform's addEvaluateService / addEvaluate
    (haocha/integrations/province). Both answer `upload(records)` with a result per record."""
    if settings.HAOCHA_PARENT_PROTOCOL == "provincial":
        from haocha.integrations.province.client import ProvinceClient

        return ProvinceClient()
    return (haocha_client or ParentClient)()


class ParentClient:
    def __init__(self, url: str | None = None, app_id: str | None = None, secret: str | None = None):
        self.url = (url or settings.HAOCHA_PARENT_URL).rstrip("/")
        self.app_id = app_id or settings.HAOCHA_PARENT_APP_ID
        self.secret = secret or settings.HAOCHA_PARENT_SECRET
        self.timeout = settings.HAOCHA_DOCKING_TIMEOUT
        self._opener = no_redirect_opener()

    def upload(self, records: list[dict], counts: dict | None = None) -> list[dict]:
        """Send one batch; the parent's result for each record, in order."""
        return post_batch(
            self._opener,
            self.url,
            UPLOAD_PATH,
            {"records": records, "counts": counts or {}},
            len(records),
            app_id=self.app_id,
            secret=self.secret,
            timeout=self.timeout,
            who="上级系统",
            unavailable=ParentUnavailable,
        )


def post_batch(
    opener, base: str, path: str, payload: dict, n: int, *, app_id, secret, timeout, who, unavailable
):
    """POST one signed batch of `n` records (HMAC-SHA256, signing.py); the partner's result per record, in
    order. Anything else — no answer, an HTTP error, not JSON, a result missing — is `unavailable(reason)`:
    the whole batch is tried again later."""
    body = orjson.dumps(payload)
    headers = {
        "Content-Type": "application/json",
        **signing.signed_headers(app_id, secret, "POST", path, body),
    }
    request = urllib.request.Request(base + path, data=body, headers=headers, method="POST")
    try:
        with opener.open(request, timeout=timeout) as response:
            answer = orjson.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode("utf-8", "replace")
        raise unavailable(f"{who}答复 HTTP {exc.code}：{detail}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise unavailable(f"无法连接{who}：{exc}") from exc
    except orjson.JSONDecodeError as exc:
        raise unavailable(f"{who}的答复不是 JSON") from exc
    results = answer.get("results") if isinstance(answer, dict) else None
    if not isinstance(results, list) or len(results) != n:
        raise unavailable(f"{who}的答复缺少逐条结果")
    return results
