"""A stand-in SMS provider for tests, run as its own process on loopback.

    python tests/sms_gateway.py --key KEY [--webhook http://host:port --secret SECRET]

Prints `PORT <n>` once it listens. It speaks the provider side of HttpBackend:

- POST /send            {account, sign_name, phone, text, out_id} with `Authorization: Bearer KEY`
                        → {"message_id": "gw-…"}; deduplicates on out_id like real providers do
- GET  /messages        every text it accepted, in order, and how many send attempts it saw
- POST /control         {"mode": "up" | "down" (503) | "reject" (400) | "slow" (sleeps) | "lose" (accepts,
                        then answers 500 as if the answer was lost)}
- POST /control/reply   {"phone", "text", "message_id", "times"} → signs and posts the reply to the
                        webhook `times` times; returns every answer it got
- POST /control/receipt {"out_id", "status"} → signs and posts a delivery receipt
"""

import argparse
import contextlib
import hashlib
import hmac
import json
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class State:
    def __init__(self, key: str, webhook: str, secret: str):
        self.key, self.webhook, self.secret = key, webhook.rstrip("/"), secret
        self.lock = threading.Lock()
        self.mode = "up"
        self.messages: list[dict] = []
        self.by_out_id: dict[str, dict] = {}
        self.attempts = 0

    def post_signed(self, path: str, body: dict) -> dict:
        raw = json.dumps(body, ensure_ascii=False).encode()
        ts = str(int(time.time()))
        sig = hmac.new(self.secret.encode(), ts.encode() + b"." + raw, hashlib.sha256).hexdigest()
        req = urllib.request.Request(
            self.webhook + path,
            data=raw,
            method="POST",
            headers={"Content-Type": "application/json", "X-Sms-Timestamp": ts, "X-Sms-Signature": sig},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return {"status": r.status, "body": json.loads(r.read()), "headers": dict(r.headers)}
        except urllib.error.HTTPError as exc:
            return {"status": exc.code, "body": json.loads(exc.read() or b"null"), "headers": {}}


class Handler(BaseHTTPRequestHandler):
    state: State

    def log_message(self, *args):
        pass

    def _json(self, status: int, body) -> None:
        raw = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def do_GET(self):
        if self.path == "/messages":
            with self.state.lock:
                return self._json(200, {"messages": self.state.messages, "attempts": self.state.attempts})
        return self._json(404, {"error": "not found"})

    def do_POST(self):
        st = self.state
        body = self._body()
        if self.path == "/send":
            return self._send(st, body)
        if self.path == "/control":
            st.mode = body["mode"]
            return self._json(200, {"mode": st.mode})
        if self.path == "/control/reply":
            reply = {"message_id": body["message_id"], "phone": body["phone"], "text": body["text"]}
            answers = [st.post_signed("/api/sms/inbound", reply) for _ in range(body.get("times", 1))]
            return self._json(200, {"answers": answers})
        if self.path == "/control/receipt":
            with st.lock:
                sent = st.by_out_id[body["out_id"]]
            receipt = {"message_id": sent["message_id"], "out_id": sent["out_id"], "status": body["status"]}
            return self._json(200, st.post_signed("/api/sms/receipts", {"receipts": [receipt]}))
        return self._json(404, {"error": "not found"})

    def _send(self, st: State, body: dict):
        with st.lock:
            st.attempts += 1
            mode = st.mode
        if self.headers.get("Authorization") != f"Bearer {st.key}":
            return self._json(401, {"code": "auth", "message": "bad key"})
        if mode == "down":
            return self._json(503, {"code": "busy"})
        if mode == "reject":
            return self._json(400, {"code": "invalid_mobile", "message": f"号码 {body.get('phone')} 无效"})
        if mode == "slow":
            time.sleep(3)
        with st.lock:
            sent = st.by_out_id.get(body["out_id"])
            if sent is None:
                sent = {
                    "message_id": f"gw-{len(st.messages) + 1:06d}",
                    "out_id": body["out_id"],
                    "phone": body["phone"],
                    "text": body["text"],
                    "sign_name": body.get("sign_name", ""),
                    "account": body.get("account", ""),
                }
                st.messages.append(sent)
                st.by_out_id[body["out_id"]] = sent
        if mode == "lose":
            return self._json(500, {"code": "internal"})
        return self._json(200, {"code": "OK", "message_id": sent["message_id"]})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--key", required=True)
    parser.add_argument("--webhook", default="")
    parser.add_argument("--secret", default="")
    args = parser.parse_args()
    Handler.state = State(args.key, args.webhook, args.secret)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    sys.exit(0)


if __name__ == "__main__":
    main()
