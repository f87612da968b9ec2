"""A stand-in provincial 好差评 platform, its own process, for tests and demos (no Django, no database).

    python -m haocha.integrations.province.standin --app-id hc-430100 --secret S [--port 0]
    haocha province standin --app-id hc-430100 --signing sm2-sm3 --public-key HEX [--sm4-key HEX]

Prints `PORT <n>` once it listens. It speaks the platform side of protocol.py and checks what a real one
checks, with its own code tables (docs/interface.md): the signature (forged, stale and replayed requests are
refused), the fields and codes of each record, a rating's service record ("没有对应的服务数据"), one rating
per 办件 and assessNumber ("评价数据不可重复"). What it holds is kept in memory:

- POST /addEvaluateService, /addEvaluate, /updateEvaluateValid  the calls (protocol.CALLS)
- GET  /received[?full=1]  JSON: counts per kind, refusals by reason, refused calls (and every record)
- GET  /                   the same as a page
"""

import argparse
import html
import re
import sys
import threading
import time
from collections import Counter
from datetime import datetime
from http.server import BaseHTTPRequestHandler

import orjson

from haocha.integrations.docking import gm, signing
from haocha.integrations.province import protocol
from haocha.integrations.standin_server import listen

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_RECORDS = protocol.MAX_PER_CALL
# The platform's code tables (its own copy: a mismatch with what haocha sends shows as a refusal).
PF_CODES = ("1", "2", "3", "4", "5", "6", "7")  # 1 PC端 … 7 短信
PRO_STATUS = frozenset("12345")  # 1 已受理 2 办理中 3 已办结 4 不予受理 5 已撤件
USER_PROP = frozenset("1234569")  # GB/T 39046 A.4
PROMISE_TIME = frozenset("12")  # 1 即办件 2 承诺件
PRO_CHANNEL = frozenset("12")  # 1 线上 2 线下
PROMISE_TYPE = frozenset("0123")  # 0 天 1 工作日 2 月 3 年
TASK_TYPE = frozenset({"01", "05", "07", "08", "09", "10", "20", "99"})
SERVICE_REQUIRED = (
    "projectNo",
    "projectName",
    "areaCode",
    "deptCode",
    "taskCode",
    "taskName",
    "taskType",
    "proStatus",
    "proDepart",
    "userName",
    "userProp",
    "acceptDate",
    "promiseTime",
    "proChannel",
)
RATING_REQUIRED = ("projectNo", "areaCode", "pf", "satisfaction", "assessTime", "assessNumber")
VALIDITY_REQUIRED = ("projectNo", "assessNumber", "effectivEvalua")
AREA = re.compile(r"^\d{12}$")
DETAIL = re.compile(r"^[0-9A-Za-z]{1,16}(,[0-9A-Za-z]{1,16})*$")
DUPLICATE_CODES = frozenset({"2002", "2004", "2005"})  # 评价、服务、评价有效性数据不可重复
MAX_BODY = 32 * 1024 * 1024


class Bad(Exception):
    """One record refused: the platform's code and words."""

    def __init__(self, code: str, desc: str):
        super().__init__(desc)
        self.code, self.desc = code, desc


def _text(rec: dict, name: str) -> str:
    value = rec.get(name)
    return "" if value is None else str(value).strip()


def _required(rec: dict, names) -> None:
    for name in names:
        if _text(rec, name) == "":
            raise Bad("1001", f"{name}不能为空")


def _time(rec: dict, name: str) -> None:
    value = _text(rec, name)
    if value:
        try:
            datetime.strptime(value, TIME_FORMAT)  # noqa: DTZ007  a format check only
        except ValueError:
            raise Bad("1007", f"{name}时间格式应为 yyyy-MM-dd HH:mm:ss") from None


def _number(rec: dict, name: str) -> int | None:
    value = rec.get(name)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = _text(rec, name)
    return int(text) if text.isdigit() else None


def _in(rec: dict, name: str, table, label: str) -> None:
    if _text(rec, name) not in table:
        raise Bad("1006", f"{label} {name}“{_text(rec, name)}”不在代码表中")


class Platform:
    """What the platform holds and how it answers; one lock around everything (a stand-in, not a database)."""

    def __init__(self, agreement: protocol.Agreement, pf_codes=PF_CODES):
        self.agreement = agreement
        self.pf_codes = frozenset(pf_codes)
        self.lock = threading.Lock()
        self.services: dict[str, dict] = {}
        self.ratings: dict[tuple[str, int], dict] = {}
        self.validity: dict[tuple, dict] = {}
        self.outcomes: Counter = Counter()  # (kind, accepted | duplicate | rejected)
        self.reasons: Counter = Counter()  # refusal words
        self.rejects: list[dict] = []
        self.refused_calls: list[dict] = []
        self.nonces: dict[str, float] = {}

    # --- a call ------------------------------------------------------------------------------------

    def handle(self, path: str, headers, body: bytes) -> tuple[int, dict, str]:
        """(HTTP status, answer, the request's nonce or "")."""
        kind = next((k for k, p in protocol.CALLS.items() if p == path), None)
        if kind is None:
            return 404, {protocol.CODE: "4040", protocol.DESC: f"接口不存在：{path}", protocol.BODY: None}, ""
        with self.lock:
            try:
                payload, nonce = protocol.unseal(self.agreement, "POST", path, headers, body)
                self._once(nonce)
                records = payload.get("records")
                if not isinstance(records, list) or not records:
                    raise protocol.Refused(400, "4008", "报文格式不正确：records 应为非空数组")
                if len(records) > MAX_RECORDS:
                    raise protocol.Refused(400, "4009", f"每次最多 {MAX_RECORDS} 条记录")
            except protocol.Refused as exc:
                self.refused_calls.append(
                    {"path": path, "status": exc.status, "code": exc.code, "desc": exc.desc}
                )
                return exc.status, exc.answer(), ""
            results = [self._record(kind, rec) for rec in records]
        answer = {
            protocol.CODE: protocol.SUCCESS,
            protocol.DESC: "success",
            protocol.BODY: {"results": results},
        }
        return 200, answer, nonce

    def _once(self, nonce: str) -> None:
        now = time.time()
        for old in [n for n, at in self.nonces.items() if at < now - 2 * signing.MAX_SKEW_SECONDS]:
            del self.nonces[old]
        if nonce in self.nonces:
            raise protocol.Refused(409, "4006", "重复的请求（nonce 已使用）")
        self.nonces[nonce] = now

    def _record(self, kind: str, rec) -> dict:
        project_no = _text(rec, "projectNo") if isinstance(rec, dict) else ""
        try:
            if not isinstance(rec, dict):
                raise Bad("1000", "记录应为 JSON 对象")
            outcome = getattr(self, "_" + kind)(rec)
        except Bad as exc:
            self.reasons[exc.desc] += 1
            if exc.code in DUPLICATE_CODES:
                self.outcomes[(kind, "duplicate")] += 1
            else:
                self.outcomes[(kind, "rejected")] += 1
                self.rejects.append(
                    {"kind": kind, "projectNo": project_no, "code": exc.code, "desc": exc.desc}
                )
                del self.rejects[:-1000]
            return {"projectNo": project_no, "code": exc.code, "desc": exc.desc}
        self.outcomes[(kind, outcome)] += 1
        return {"projectNo": project_no, "code": protocol.SUCCESS, "desc": "success"}

    # --- the checks, per kind ----------------------------------------------------------------------

    def _service(self, rec: dict) -> str:
        _required(rec, SERVICE_REQUIRED)
        if not AREA.match(_text(rec, "areaCode")):
            raise Bad("1002", "区划代码 areaCode 应为12位数字")
        _in(rec, "proStatus", PRO_STATUS, "办件状态")
        _in(rec, "userProp", USER_PROP, "申请人类型")
        _in(rec, "promiseTime", PROMISE_TIME, "办件类型")
        _in(rec, "proChannel", PRO_CHANNEL, "申报渠道")
        _in(rec, "taskType", TASK_TYPE, "事项类型")
        if _text(rec, "promiseType"):
            _in(rec, "promiseType", PROMISE_TYPE, "承诺时限单位")
        for name in ("acceptDate", "resultDate", "anticipateDay", "serviceTime"):
            _time(rec, name)
        project_no = _text(rec, "projectNo")
        if self.services.get(project_no) == rec:
            raise Bad("2004", "服务数据不可重复")
        self.services[project_no] = rec  # a newer version of a 办件 replaces the older one
        return "accepted"

    def _rating(self, rec: dict) -> str:
        _required(rec, RATING_REQUIRED)
        if not AREA.match(_text(rec, "areaCode")):
            raise Bad("1002", "区划代码 areaCode 应为12位数字")
        if _text(rec, "pf") not in self.pf_codes:
            raise Bad("1005", f"评价渠道 pf“{_text(rec, 'pf')}”不在代码表中")
        satisfaction = _number(rec, "satisfaction")
        if satisfaction is None or not 1 <= satisfaction <= 5:
            raise Bad("1003", "满意度 satisfaction 应为1至5的整数（5 非常满意）")
        number = _number(rec, "assessNumber")
        if number not in (1, 2):
            raise Bad("1004", "评价次数 assessNumber 应为1（首次评价）或2（追评）")
        _time(rec, "assessTime")
        detail = _text(rec, "evalDetail")
        if detail and not DETAIL.match(detail):
            raise Bad("1009", "评价详情 evalDetail 应为逗号分隔的代码")
        if satisfaction < 3 and not (detail or _text(rec, "writingEvaluation")):
            raise Bad("1008", "差评必须勾选详情或填写文字评价")
        project_no = _text(rec, "projectNo")
        if project_no not in self.services:
            raise Bad("2001", protocol.SERVICE_MISSING)
        if (project_no, number) in self.ratings:
            raise Bad("2002", "评价数据不可重复")
        self.ratings[(project_no, number)] = {**rec, "effectivEvalua": "1"}
        return "accepted"

    def _validity(self, rec: dict) -> str:
        _required(rec, VALIDITY_REQUIRED)
        if _text(rec, "effectivEvalua") not in ("0", "1"):
            raise Bad("1006", "评价有效性 effectivEvalua 应为0（无效）或1（有效）")
        _time(rec, "changeTime")
        stored = self.ratings.get((_text(rec, "projectNo"), _number(rec, "assessNumber")))
        if stored is None:
            raise Bad("2003", protocol.RATING_MISSING)
        key = tuple(
            _text(rec, name) for name in ("projectNo", "assessNumber", "effectivEvalua", "changeTime")
        )
        if key in self.validity:
            raise Bad("2005", "评价有效性数据不可重复")
        stored["effectivEvalua"] = _text(rec, "effectivEvalua")
        self.validity[key] = rec
        return "accepted"

    # --- what it received --------------------------------------------------------------------------

    def summary(self, full: bool = False) -> dict:
        with self.lock:
            kinds = list(protocol.CALLS)
            body = {
                "counts": {
                    "service": len(self.services),
                    "rating": len(self.ratings),
                    "validity": len(self.validity),
                },
                "outcomes": {
                    k: {o: self.outcomes[(k, o)] for o in ("accepted", "duplicate", "rejected")}
                    for k in kinds
                },
                "reasons": dict(self.reasons.most_common()),
                "rejects": self.rejects[-50:],
                "refused_calls": self.refused_calls[-50:],
            }
            if full:
                body["services"] = list(self.services.values())
                body["ratings"] = list(self.ratings.values())
                body["validity"] = list(self.validity.values())
                body["rejects"] = list(self.rejects)
            return body


LABELS = {
    "service": "服务数据（addEvaluateService）",
    "rating": "评价数据（addEvaluate）",
    "validity": "评价有效性",
}


def page(summary: dict) -> str:
    rows = "".join(
        f"<tr><td>{LABELS[k]}</td><td>{summary['counts'][k]}</td><td>{o['accepted']}</td>"
        f"<td>{o['duplicate']}</td><td>{o['rejected']}</td></tr>"
        for k, o in summary["outcomes"].items()
    )
    reasons = (
        "".join(f"<li>{html.escape(desc)}：{n} 条</li>" for desc, n in summary["reasons"].items())
        or "<li>无</li>"
    )
    calls = (
        "".join(
            f"<li>{html.escape(c['path'])}：{html.escape(c['desc'])}（{c['code']}）</li>"
            for c in summary["refused_calls"]
        )
        or "<li>无</li>"
    )
    return (
        "<!doctype html><html lang='zh-CN'><meta charset='utf-8'><title>省级好差评平台（模拟）</title>"
        "<h1>省级好差评平台（模拟）</h1><table border='1' cellpadding='4'>"
        "<tr><th>类型</th><th>现存条数</th><th>接收</th><th>重复</th><th>拒收</th></tr>"
        f"{rows}</table><h2>拒收原因</h2><ul>{reasons}</ul><h2>被拒绝的请求</h2><ul>{calls}</ul></html>"
    )


class Handler(BaseHTTPRequestHandler):
    platform: Platform
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status: int, body: bytes, content_type: str, extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if path == "/received":
            body = orjson.dumps(self.platform.summary(full="full=1" in query))
            self._send(200, body, "application/json")
        elif path == "/":
            self._send(200, page(self.platform.summary()).encode(), "text/html; charset=utf-8")
        elif path == "/healthz":
            self._send(200, b"ok", "text/plain")
        else:
            self._send(404, "未找到".encode(), "text/plain; charset=utf-8")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(413, "请求体过大".encode(), "text/plain; charset=utf-8")
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        status, answer, nonce = self.platform.handle(self.path, self.headers, body)
        raw = orjson.dumps(answer)
        signed = protocol.answer_headers(self.platform.agreement, self.path, nonce, raw) if nonce else {}
        self._send(status, raw, "application/json;charset=utf-8", signed)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed as PORT <n>)")
    parser.add_argument("--app-id", required=True, help="the child's app id (C-App-Id)")
    parser.add_argument("--signing", default="hmac-sha256", choices=list(signing.SCHEMES))
    parser.add_argument("--secret", default="", help="the shared HMAC secret (hmac-sha256, hmac-sm3)")
    parser.add_argument("--public-key", default="", help="the child's SM2 public key (sm2-sm3)")
    parser.add_argument("--sm4-key", default="", help="32 hex digits: bodies are SM4-encrypted")
    parser.add_argument("--sm4-mode", default="cbc", choices=gm.SM4_MODES)
    parser.add_argument("--private-key", default="", help="the platform's SM2 private key: answers signed")
    parser.add_argument("--pf-codes", default=",".join(PF_CODES), help="the pf code table, comma-separated")


def agreement_from(args) -> protocol.Agreement:
    scheme = signing.scheme(args.signing)
    key = gm.sm2_public_key(args.public_key) if scheme.asymmetric else args.secret
    if not key:
        raise SystemExit("须提供 --public-key（sm2-sm3）或 --secret（HMAC）")
    return protocol.Agreement(
        app_id=args.app_id,
        scheme=scheme,
        key=key,
        sm4_key=gm.sm4_key(args.sm4_key) if args.sm4_key else None,
        sm4_mode=args.sm4_mode,
        answer_key=gm.sm2_private_key(args.private_key) if args.private_key else "",
    )


def serve(args, out=sys.stdout) -> None:
    platform = Platform(agreement_from(args), [c.strip() for c in args.pf_codes.split(",") if c.strip()])
    handler = type("PlatformHandler", (Handler,), {"platform": platform})
    listen(args.host, args.port, handler, out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="省级好差评平台（模拟）：接收 addEvaluateService / addEvaluate"
    )
    add_arguments(parser)
    serve(parser.parse_args(argv))


if __name__ == "__main__":
    main()
