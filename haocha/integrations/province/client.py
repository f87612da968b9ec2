"""The client of a provincial platform that is not haocha: the same batch upload.py gives ParentClient, sent
as the province's calls (service records first, then ratings, then validity changes), answered per record in
ParentClient's shape ({"status": accepted | duplicate | rejected, "code", "message"})."""

import urllib.error
import urllib.request

import orjson
from django.conf import settings

from haocha.integrations.docking import gm, signing
from haocha.integrations.docking.client import ParentUnavailable, no_redirect_opener
from haocha.integrations.province import fields, protocol

KIND_ORDER = ("service", "rating", "validity")


def configured_agreement() -> protocol.Agreement:
    """The agreement as the HAOCHA_PARENT_* settings give it (checked at start: province/checks.py)."""
    scheme = signing.scheme(settings.HAOCHA_PARENT_SIGNING)
    key = settings.HAOCHA_PARENT_SM2_PRIVATE_KEY if scheme.asymmetric else settings.HAOCHA_PARENT_SECRET
    sm4 = settings.HAOCHA_PARENT_SM4_KEY
    return protocol.Agreement(
        app_id=settings.HAOCHA_PARENT_APP_ID,
        scheme=scheme,
        key=key,
        sm4_key=gm.sm4_key(sm4) if sm4 else None,
        sm4_mode=settings.HAOCHA_PARENT_SM4_MODE,
        answer_key=settings.HAOCHA_PARENT_SM2_PUBLIC_KEY,
    )


def result_of(answer) -> dict:
    """The province's answer to one record, in ParentClient's shape. Its words decide: "…不可重复" is
    already there, "没有对应的服务数据" / "没有对应的评价数据" are "not yet" (upload.py sends those again)."""
    if not isinstance(answer, dict):
        return {"status": "rejected", "code": "no_result", "message": "省级平台未给出该条结果"}
    code, desc = str(answer.get("code") or ""), str(answer.get("desc") or "")
    if code == protocol.SUCCESS:
        return {"status": "accepted", "code": "", "message": ""}
    if protocol.DUPLICATE_WORDS in desc:
        return {"status": "duplicate", "code": "already_received", "message": desc}
    if protocol.SERVICE_MISSING in desc:
        return {"status": "rejected", "code": "service_record_missing", "message": desc}
    if protocol.RATING_MISSING in desc:
        return {"status": "rejected", "code": "rating_missing", "message": desc}
    return {"status": "rejected", "code": f"province_{code}"[:64], "message": desc or "省级平台拒收"}


class ProvinceClient:
    def __init__(self, url: str | None = None, agreement: protocol.Agreement | None = None):
        self.url = (url or settings.HAOCHA_PARENT_URL).rstrip("/")
        self.agreement = agreement or configured_agreement()
        self.prefix = settings.HAOCHA_PROVINCE_PROJECT_PREFIX
        self.timeout = settings.HAOCHA_DOCKING_TIMEOUT
        self._opener = no_redirect_opener()

    def upload(self, records: list[dict], counts: dict | None = None) -> list[dict]:
        """Send one batch (the daily counts are haocha's own exchange: the province takes none); the result
        for each record, in order. A call that fails fails the whole batch (ParentUnavailable): it is sent
        again, and what already went in then answers `duplicate`."""
        results: list[dict | None] = [None] * len(records)
        for kind in KIND_ORDER:
            todo = [i for i, rec in enumerate(records) if rec.get("type") == kind]
            for start in range(0, len(todo), protocol.MAX_PER_CALL):
                part = todo[start : start + protocol.MAX_PER_CALL]
                sent = [fields.BY_KIND[kind](records[i]["data"], self.prefix) for i in part]
                answers = self.call(protocol.CALLS[kind], sent)
                for i, answer in zip(part, answers, strict=True):
                    results[i] = result_of(answer)
        return [
            r or {"status": "rejected", "code": "unsupported_type", "message": "省级平台不接收该类记录"}
            for r in results
        ]

    def call(self, path: str, records: list[dict]) -> list:
        """One signed call; the platform's answer for each record."""
        body, headers = protocol.seal(self.agreement, path, {"records": records})
        request = urllib.request.Request(self.url + path, data=body, headers=headers, method="POST")
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                raw, answer_headers = response.read(), response.headers
        except urllib.error.HTTPError as exc:
            raise ParentUnavailable(f"省级平台答复 HTTP {exc.code}：{_desc(exc.read())}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise ParentUnavailable(f"无法连接省级平台：{exc}") from exc
        if self.agreement.answer_key and not protocol.answer_signed(
            self.agreement, path, headers[protocol.NONCE], answer_headers, raw
        ):
            raise ParentUnavailable("省级平台答复的签名无效，未采信")
        try:
            answer = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ParentUnavailable("省级平台的答复不是 JSON") from exc
        if not isinstance(answer, dict) or answer.get(protocol.CODE) != protocol.SUCCESS:
            raise ParentUnavailable(f"省级平台拒绝了整个请求：{_desc(raw)}")
        body = answer.get(protocol.BODY)
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list) or len(results) != len(records):
            raise ParentUnavailable("省级平台的答复缺少逐条结果")
        return results


def _desc(raw: bytes) -> str:
    try:
        answer = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw[:300].decode("utf-8", "replace")
    if isinstance(answer, dict) and protocol.DESC in answer:
        return f"{answer.get(protocol.DESC)}（{answer.get(protocol.CODE)}）"
    return raw[:300].decode("utf-8", "replace")
