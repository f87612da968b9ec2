"""A stand-in 政务服务成效管理系统, its own process, for tests and demos (no Django, no database).

    python -m haocha.integrations.performance.standin --app-id hc-430100 --secret S [--port 0]
    haocha performance standin --app-id hc-430100 --secret S

Prints `PORT <n>` once it listens. It checks what the real system checks: the signature (X-Hc-App,
X-Hc-Timestamp, X-Hc-Nonce, X-Hc-Signature, docking/signing.py; forged, stale and replayed requests are
refused) and each record's fields; it keeps each record once per (id, version): the same version again is
`duplicate`, an older one `duplicate` too (code stale_version), a newer one replaces it. In memory only:

- POST /api/performance/records  a batch: {"records": [{id, version, kind, unit, period, data}]}
- GET  /received                 JSON: the records held (latest version), every version received, counts
- GET  /                         the same as a page
- POST /control                  {"down": true|false, "reject": [record ids]}: answer 503 to every batch
                                 while down (an outage), refuse the listed records (tests and demos)
"""

import argparse
import html
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler

import orjson

from haocha.integrations.docking import signing
from haocha.integrations.standin_server import listen

RECORDS_PATH = "/api/performance/records"
MAX_BODY = 16 * 1024 * 1024
MAX_RECORDS = 1000
KINDS = frozenset({"monthly", "assessment"})


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class System:
    """What the stand-in holds and how it answers; one lock around everything."""

    def __init__(self, app_id: str, secret: str):
        self.app_id, self.secret = app_id, secret
        self.lock = threading.Lock()
        self.records: dict[str, dict] = {}
        self.versions: dict[str, list[int]] = {}
        self.outcomes: Counter = Counter()
        self.refused_calls: list[dict] = []
        self.nonces: dict[str, float] = {}
        self.down = False
        self.reject: set[str] = set()
        self.batches = 0

    def handle(self, headers, body: bytes) -> tuple[int, dict]:
        with self.lock:
            try:
                if self.down:
                    raise Refused(503, "unavailable", "系统维护中，请稍后再试")
                self._check(headers, body)
                try:
                    payload = orjson.loads(body)
                except orjson.JSONDecodeError:
                    raise Refused(400, "invalid_body", "请求体不是 JSON") from None
                records = payload.get("records") if isinstance(payload, dict) else None
                if not isinstance(records, list) or not records:
                    raise Refused(400, "invalid_body", "records 应为非空数组")
                if len(records) > MAX_RECORDS:
                    raise Refused(400, "too_many", f"每次最多 {MAX_RECORDS} 条记录")
            except Refused as exc:
                self.refused_calls.append({"status": exc.status, "code": exc.code, "message": exc.message})
                del self.refused_calls[:-100]
                return exc.status, {"code": exc.code, "message": exc.message}
            self.batches += 1
            return 200, {"results": [self._record(r) for r in records]}

    def _check(self, headers, body: bytes) -> None:
        app, timestamp, nonce, given = (headers.get(h, "") for h in signing.HEADERS)
        if not (app and timestamp and nonce and given):
            raise Refused(401, "signature_missing", "缺少签名请求头")
        if app != self.app_id:
            raise Refused(403, "unknown_system", f"未登记的接入编号：{app[:40]}")
        if not signing.fresh(timestamp):
            raise Refused(403, "signature_expired", "签名时间戳无效或已过期")
        if not 16 <= len(nonce) <= 64:
            raise Refused(400, "invalid_nonce", "X-Hc-Nonce 应为16至64个字符")
        if not signing.matches(self.secret, given, "POST", RECORDS_PATH, timestamp, nonce, body):
            raise Refused(403, "signature_invalid", "签名不正确")
        now = time.time()
        for old in [n for n, at in self.nonces.items() if at < now - 2 * signing.MAX_SKEW_SECONDS]:
            del self.nonces[old]
        if nonce in self.nonces:
            raise Refused(409, "replayed", "重复的请求（nonce 已使用）")
        self.nonces[nonce] = now

    def _record(self, rec) -> dict:
        rid = rec.get("id") if isinstance(rec, dict) else None
        version = rec.get("version") if isinstance(rec, dict) else None
        answer = {"id": rid, "version": version}
        unit = rec.get("unit") if isinstance(rec, dict) else None
        if (
            not isinstance(rid, str)
            or not rid
            or isinstance(version, bool)
            or not isinstance(version, int)
            or version < 1
            or rec.get("kind") not in KINDS
            or not isinstance(unit, dict)
            or not unit.get("code")
            or not rec.get("period")
            or not isinstance(rec.get("data"), dict)
        ):
            self.outcomes["rejected"] += 1
            return {**answer, "status": "rejected", "code": "invalid_record", "message": "记录缺少必填字段"}
        if rid in self.reject:
            self.outcomes["rejected"] += 1
            return {**answer, "status": "rejected", "code": "unit_unknown", "message": "单位未在本系统登记"}
        held = self.records.get(rid)
        if held is not None and held["version"] >= version:
            self.outcomes["duplicate"] += 1
            code = "same_version" if held["version"] == version else "stale_version"
            return {**answer, "status": "duplicate", "code": code, "message": "已接收该版本或更新的版本"}
        self.records[rid] = rec
        self.versions.setdefault(rid, []).append(version)
        self.outcomes["accepted"] += 1
        return {**answer, "status": "accepted"}

    def control(self, body: bytes) -> dict:
        command = orjson.loads(body or b"{}")
        with self.lock:
            if "down" in command:
                self.down = bool(command["down"])
            if "reject" in command:
                self.reject = {str(x) for x in command["reject"]}
            return {"down": self.down, "reject": sorted(self.reject)}

    def summary(self) -> dict:
        with self.lock:
            return {
                "records": dict(self.records),
                "versions": dict(self.versions),
                "outcomes": {k: self.outcomes[k] for k in ("accepted", "duplicate", "rejected")},
                "batches": self.batches,
                "refused_calls": list(self.refused_calls),
                "down": self.down,
            }


def page(summary: dict) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(rid)}</td><td>{html.escape(str(r['unit'].get('name', '')))}</td>"
        f"<td>{html.escape(str(r['period']))}</td><td>{r['version']}</td></tr>"
        for rid, r in sorted(summary["records"].items())
    )
    o = summary["outcomes"]
    state = "维护中（拒绝所有请求）" if summary["down"] else "正常"
    return (
        "<!doctype html><html lang='zh-CN'><meta charset='utf-8'><title>政务服务成效管理系统（模拟）</title>"
        f"<h1>政务服务成效管理系统（模拟）</h1><p>状态：{state}；收到批次 {summary['batches']}；"
        f"接收 {o['accepted']}，重复 {o['duplicate']}，拒收 {o['rejected']}；"
        f"被拒绝的请求 {len(summary['refused_calls'])}</p>"
        "<table border='1' cellpadding='4'><tr><th>记录</th><th>单位</th><th>统计期</th><th>版本</th></tr>"
        f"{rows}</table></html>"
    )


class Handler(BaseHTTPRequestHandler):
    system: System
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.partition("?")[0]
        if path == "/received":
            self._send(200, orjson.dumps(self.system.summary()))
        elif path == "/":
            self._send(200, page(self.system.summary()).encode(), "text/html; charset=utf-8")
        elif path == "/healthz":
            self._send(200, b"ok", "text/plain")
        else:
            self._send(404, orjson.dumps({"code": "not_found", "message": "未找到"}))

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(413, orjson.dumps({"code": "too_large", "message": "请求体过大"}))
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        path = self.path.partition("?")[0]
        if path == RECORDS_PATH:
            status, answer = self.system.handle(self.headers, body)
            self._send(status, orjson.dumps(answer))
        elif path == "/control":
            self._send(200, orjson.dumps(self.system.control(body)))
        else:
            self._send(404, orjson.dumps({"code": "not_found", "message": "接口不存在"}))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed as PORT <n>)")
    parser.add_argument("--app-id", required=True, help="this system's app id (X-Hc-App)")
    parser.add_argument("--secret", required=True, help="the shared HMAC-SHA256 secret")


def serve(args, out=sys.stdout) -> None:
    system = System(args.app_id, args.secret)
    handler = type("PerformanceHandler", (Handler,), {"system": system})
    listen(args.host, args.port, handler, out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="政务服务成效管理系统（模拟）：接收各单位评价结果与年度考核")
    add_arguments(parser)
    serve(parser.parse_args(argv))


if __name__ == "__main__":
    main()
