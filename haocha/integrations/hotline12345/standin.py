"""A stand-in external 12345 platform, its own process, for tests and demos (no Django, no database).

    haocha hotline12345 standin --app-id 12345-430100 --secret S --haocha http://127.0.0.1:8000 [--port 0]
    haocha hotline12345 standin --config var/12345-standin.json --haocha http://127.0.0.1:8000 --port 8012

Prints `PORT <n>` once it listens. It speaks the platform side of protocol.py: it checks haocha's signed
pushes (forged, stale and replayed ones refused), gives each order a 12345 工单编号, and calls haocha back,
signed, with one event per step, numbered per order. A callback haocha does not answer is sent again every
few seconds. What it holds is kept in memory:

- POST /api/orders, GET /api/orders/<orderNo>   haocha's calls (push; what the platform has for an order)
- GET  /                                      a page listing the orders, with a button for each next step
- POST /act                                   take a step (form fields, or JSON {orderNo, type, data})
- POST /control                               JSON {down, hold, release, reverse, drop}: outages for tests
- GET  /received                              JSON: the orders, their events and haocha's answers
"""

import argparse
import html
import secrets
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler

import orjson

from haocha.integrations.docking import signing
from haocha.integrations.standin_server import listen

ORDERS_PATH = "/api/orders"
CALLBACK_PATH = "/api/hotline12345/callback"
BEIJING = timezone(timedelta(hours=8))
MAX_BODY = 1024 * 1024
RETRY_SECONDS = 2.0

# The buttons of the page: (type, label, data of the step). departmentCode comes from the order's push.
STEPS = (
    ("accept", "受理", {}),
    ("verify", "核实属实", {"complexity": "simple", "note": "经核实，情况属实"}),
    ("invalid", "核实无效", {"reason": "mistaken", "note": "经核实，系误评"}),
    ("dispatch", "派单", {"note": "请按时限办理"}),
    ("sign", "签收", {}),
    ("contact", "联系", {"method": "phone", "reached": True, "outcome": "已电话联系群众，说明处理方案"}),
    ("extension", "延期", {"days": 3, "reason": "需协调相关部门", "approved": True}),
    ("result", "办理结果", {"result": "solved", "text": "已为群众补办手续", "measures": "加强窗口培训"}),
    ("return", "退单", {"reason": "非本部门职责"}),
    ("callback", "回访", {"success": True, "solved": True, "satisfaction": "satisfied", "reason": ""}),
    ("callback_failed", "回访未成功", {"success": False, "reason": "电话无人接听"}),
    ("close", "办结", {"note": "12345平台办结"}),
)
LABELS = {t: label for t, label, _ in STEPS}


def now_text() -> str:
    return datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


class Platform:
    """What the platform holds; one lock around everything (a stand-in, not a database)."""

    def __init__(self, app_id: str, secret: str, scheme: str, haocha: str, auto_accept: bool = True):
        self.app_id, self.secret, self.scheme = app_id, secret, signing.scheme(scheme)
        self.haocha = haocha.rstrip("/")
        self.auto_accept = auto_accept
        self.lock = threading.Lock()
        self.send_lock = threading.Lock()  # one sender at a time: callbacks leave in order
        self.orders: dict[str, dict] = {}
        self.nonces: dict[str, float] = {}
        self.refused: list[dict] = []
        self.unsent: list[dict] = []  # events haocha has not answered yet, oldest first
        self.held: list[dict] = []  # events kept back by /control hold
        self.down = False
        self.hold = False
        self.drop = 0  # the next n events are made but never sent (lost callbacks)
        self.counter = 0

    # --- haocha's calls -----------------------------------------------------------------------------

    def check(self, method: str, path: str, headers, body: bytes) -> str | None:
        """None when the call is haocha's, signed, fresh and new; otherwise the refusal."""
        app, ts, nonce, given = (headers.get(h, "") for h in signing.HEADERS)
        if app != self.app_id:
            return "unknown app"
        if not signing.fresh(ts):
            return "stale"
        if not self.scheme.verify(self.secret, given, method, path, ts, nonce, body):
            return "bad signature"
        cutoff = time.time() - 2 * signing.MAX_SKEW_SECONDS
        self.nonces = {n: t for n, t in self.nonces.items() if t > cutoff}
        if nonce in self.nonces:
            return "replayed"
        self.nonces[nonce] = time.time()
        return None

    def receive(self, payload: dict) -> dict:
        number = payload.get("orderNo")
        if not isinstance(number, str) or not number:
            raise ValueError("orderNo required")
        order = self.orders.get(number)
        if order is None:
            self.counter += 1
            order = {
                "orderNo": number,
                "platformNo": f"12345{datetime.now(BEIJING):%Y%m%d}{self.counter:05d}",
                "received_at": now_text(),
                "pushes": [],
                "events": [],
                "status": "新工单",
            }
            self.orders[number] = order
        order["pushes"].append(payload)
        if payload.get("supervision"):
            order.setdefault("supervisions", []).append(payload["supervision"])
        if payload.get("reason") != "supervise":
            order["payload"] = payload
        if self.auto_accept and not any(e["type"] == "accept" for e in order["events"]):
            self.step(number, "accept", {"platformNo": order["platformNo"]})
        return {"platformNo": order["platformNo"], "status": "received"}

    # --- steps and callbacks ------------------------------------------------------------------------

    def step(self, number: str, kind: str, data: dict | None = None) -> dict:
        order = self.orders[number]
        if kind == "callback_failed":
            kind = "callback"
        data = dict(data or {})
        if kind in ("dispatch", "reassign") and not data.get("departmentCode"):
            department = (order.get("payload") or {}).get("department") or {}
            data["departmentCode"] = department.get("code", "")
        if kind == "accept":
            data.setdefault("platformNo", order["platformNo"])
        event = {
            "eventId": secrets.token_hex(8),
            "orderNo": number,
            "seq": len(order["events"]) + 1,
            "type": kind,
            "time": now_text(),
            "data": data,
            "answer": None,
        }
        order["events"].append(event)
        order["status"] = LABELS.get(kind, kind)
        if self.drop > 0:
            self.drop -= 1
            event["answer"] = {"status": "lost"}
        elif self.hold:
            self.held.append(event)
        else:
            self.unsent.append(event)
        return event

    def release(self, reverse: bool = False) -> None:
        held, self.held = self.held, []
        self.unsent.extend(reversed(held) if reverse else held)

    def wire(self, event: dict) -> dict:
        return {k: v for k, v in event.items() if k != "answer"}

    def send_one(self, event: dict) -> bool:
        body = orjson.dumps({"events": [self.wire(event)]})
        headers = {
            "Content-Type": "application/json",
            **signing.signed_headers(
                self.app_id, self.secret, "POST", CALLBACK_PATH, body, using=self.scheme
            ),
        }
        request = urllib.request.Request(
            self.haocha + CALLBACK_PATH, data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                [answer] = orjson.loads(response.read())["results"]
        except urllib.error.HTTPError as exc:
            event["answer"] = {
                "status": "error",
                "http": exc.code,
                "body": exc.read()[:300].decode("utf-8", "replace"),
            }
            return exc.code < 500 and exc.code not in (401, 408, 429)
        except (OSError, ValueError) as exc:
            event["answer"] = {"status": "error", "error": str(exc)[:200]}
            return False
        event["answer"] = answer
        return True

    def flush(self) -> None:
        """Send what haocha has not answered, in order; stop at the first failure (sent again later)."""
        with self.send_lock:
            while True:
                with self.lock:
                    if self.down or not self.unsent:
                        return
                    event = self.unsent[0]
                done = self.send_one(event)
                with self.lock:
                    if not done:
                        return
                    if self.unsent and self.unsent[0] is event:
                        self.unsent.pop(0)

    def fetch(self, number: str) -> dict | None:
        order = self.orders.get(number)
        if order is None:
            return None
        return {"platformNo": order["platformNo"], "events": [self.wire(e) for e in order["events"]]}

    def state(self) -> dict:
        return {
            "orders": list(self.orders.values()),
            "refused": self.refused,
            "unsent": len(self.unsent),
            "held": len(self.held),
            "down": self.down,
        }


# --- the page --------------------------------------------------------------------------------------

PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>12345平台（模拟）</title>
<style>body{{font:15px/1.5 sans-serif;margin:24px;color:#222}}table{{border-collapse:collapse;width:100%}}
td,th{{border:1px solid #ccc;padding:6px 8px;vertical-align:top;text-align:left}}th{{background:#f3f5f8}}
button{{margin:2px;padding:4px 10px;font-size:14px}}.ev{{font-size:13px;color:#555}}</style></head><body>
<h1>12345政务服务便民热线平台（模拟）</h1>
<p>接收“好差评”系统推送的差评工单，每一步以签名回调告知好差评系统。{status}</p>
<table id="orders"><tr><th>12345工单编号</th><th>好差评工单</th><th>差评内容</th><th>当前</th><th>流转</th><th>操作</th></tr>
{rows}</table></body></html>"""


def supervised(order: dict) -> str:
    notes = order.get("supervisions") or []
    if not notes:
        return ""
    last = notes[-1]
    return f'<div class="ev supervision">{html.escape(last["kind"])} {len(notes)} 次：{html.escape(last["note"])}</div>'


def page(platform: Platform) -> str:
    rows = []
    for order in platform.orders.values():
        payload = order.get("payload") or {}
        buttons = "".join(
            f'<button type="submit" name="type" value="{t}" data-step="{t}">{html.escape(label)}</button>'
            for t, label, _ in STEPS
        )
        events = "<br>".join(
            f"{e['seq']}. {html.escape(LABELS.get(e['type'], e['type']))} {e['time']}"
            f" → {html.escape(str((e['answer'] or {}).get('state') or (e['answer'] or {}).get('status') or '待发送'))}"
            for e in order["events"]
        )
        rows.append(
            f'<tr data-order="{html.escape(order["orderNo"])}"><td class="platform-no">{html.escape(order["platformNo"])}</td>'
            f"<td>{html.escape(order['orderNo'])}</td><td>{html.escape(str(payload.get('content', '')))}"
            f'<div class="ev">{html.escape(str(payload.get("itemName", "")))}</div></td>'
            f'<td class="status">{html.escape(order["status"])}{supervised(order)}</td><td class="ev">{events}</td>'
            f'<td><form method="post" action="/act"><input type="hidden" name="orderNo" '
            f'value="{html.escape(order["orderNo"])}">{buttons}</form></td></tr>'
        )
    status = "（平台停机中）" if platform.down else ""
    return PAGE.format(rows="".join(rows) or '<tr><td colspan="6">尚无工单</td></tr>', status=status)


def make_handler(platform: Platform):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, data) -> None:
            self._send(status, orjson.dumps(data))

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(min(length, MAX_BODY))

        def do_GET(self):
            path = urllib.parse.urlsplit(self.path).path
            if path == "/":
                with platform.lock:
                    text = page(platform)
                return self._send(200, text.encode(), "text/html; charset=utf-8")
            if path == "/received":
                with platform.lock:
                    return self._json(200, platform.state())
            if path.startswith(ORDERS_PATH + "/"):
                with platform.lock:
                    if platform.down:
                        return self._json(503, {"message": "平台维护中"})
                    refusal = platform.check("GET", path, self.headers, b"")
                    if refusal:
                        platform.refused.append({"path": path, "why": refusal})
                        return self._json(401, {"message": refusal})
                    found = platform.fetch(urllib.parse.unquote(path[len(ORDERS_PATH) + 1 :]))
                if found is None:
                    return self._json(404, {"message": "无此工单"})
                return self._json(200, found)
            return self._json(404, {"message": "not found"})

        def do_POST(self):
            path = urllib.parse.urlsplit(self.path).path
            body = self._body()
            if path == ORDERS_PATH:
                with platform.lock:
                    if platform.down:
                        return self._json(503, {"message": "平台维护中"})
                    refusal = platform.check("POST", path, self.headers, body)
                    if refusal:
                        platform.refused.append({"path": path, "why": refusal})
                        return self._json(401, {"message": refusal})
                    try:
                        answer = platform.receive(orjson.loads(body))
                    except ValueError as exc:
                        return self._json(400, {"message": str(exc)})
                threading.Thread(target=platform.flush, daemon=True).start()
                return self._json(200, answer)
            if path == "/act":
                form = self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded")
                if form:
                    fields = dict(urllib.parse.parse_qsl(body.decode()))
                    kind = fields.get("type", "")
                    data = next((d for t, _, d in STEPS if t == kind), None)
                    number = fields.get("orderNo", "")
                else:
                    given = orjson.loads(body or b"{}")
                    number, kind, data = given.get("orderNo", ""), given.get("type", ""), given.get("data")
                with platform.lock:
                    if number not in platform.orders or (data is None and kind not in LABELS):
                        return self._json(400, {"message": "无此工单或步骤"})
                    event = platform.step(number, kind, data)
                platform.flush()
                if form:
                    self.send_response(303)
                    self.send_header("Location", "/")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                return self._json(200, event)
            if path == "/control":
                given = orjson.loads(body or b"{}")
                with platform.lock:
                    for name in ("down", "hold"):
                        if name in given:
                            setattr(platform, name, bool(given[name]))
                    if "drop" in given:
                        platform.drop = int(given["drop"])
                    if given.get("release"):
                        platform.hold = False
                        platform.release(reverse=bool(given.get("reverse")))
                platform.flush()
                with platform.lock:
                    return self._json(
                        200, {"down": platform.down, "hold": platform.hold, "unsent": len(platform.unsent)}
                    )
            return self._json(404, {"message": "not found"})

    return Handler


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed as PORT <n>)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--app-id", default="", help="平台在好差评系统的接入编号")
    parser.add_argument("--secret", default="", help="双方约定的签名密钥")
    parser.add_argument(
        "--config", default="", help="JSON 文件：app_id、secret、signing（演示用，代替上两项）"
    )
    parser.add_argument("--signing", default="hmac-sha256", help="hmac-sha256 或 hmac-sm3")
    parser.add_argument("--haocha", required=True, help="好差评系统地址（回调 /api/hotline12345/callback）")
    parser.add_argument("--no-auto-accept", action="store_true", help="收到工单后不自动受理")


def serve(args, out=sys.stdout) -> None:
    if args.config:
        with open(args.config, "rb") as f:
            config = orjson.loads(f.read())
        args.app_id, args.secret = config["app_id"], config["secret"]
        args.signing = config.get("signing", args.signing)
    if not (args.app_id and args.secret):
        raise SystemExit("须提供 --app-id 和 --secret，或 --config")
    platform = Platform(
        args.app_id, args.secret, args.signing, args.haocha, auto_accept=not args.no_auto_accept
    )

    def resend():
        while True:
            time.sleep(RETRY_SECONDS)
            platform.flush()

    threading.Thread(target=resend, daemon=True).start()
    listen(args.host, args.port, make_handler(platform), out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="12345平台（模拟）：接收差评工单，签名回调工单进度")
    add_arguments(parser)
    serve(parser.parse_args(argv))


if __name__ == "__main__":
    main()
