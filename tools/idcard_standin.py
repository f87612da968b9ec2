"""A stand-in for the local ID-card reader agent of a self-service terminal: it answers the agent contract of
docs/terminal.md on 127.0.0.1, so the terminal page can be tried and tested without a reader.

    python tools/idcard_standin.py --port 18089 --card 王小明,430102198503120011
    HAOCHA_TERMINAL_IDCARD_AGENT_URL=http://127.0.0.1:18089/card make run

`--card` places a card once the server runs; more cards are placed with
`curl -X POST http://127.0.0.1:18089/card -d '{"name": "王小明", "id_number": "430102198503120011"}'`.

The contract: `GET /card` answers 204 while no card is on the reader and, once per card placed, 200 with
`{"name": …, "id_number": …}` (JSON, UTF-8); every answer allows the terminal page to read it (CORS, and
Chrome's Private Network Access preflight)."""

import argparse
import contextlib
import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PATH = "/card"


class StandInReader:
    """The agent in a thread: `present()` places a card, the page's next poll reads it (once)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.cards: deque = deque()
        self.reads = 0  # cards handed out
        self.polls = 0  # GETs answered
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer((host, port), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{PATH}"

    def start(self) -> "StandInReader":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def present(self, name: str, id_number: str) -> None:
        with self._lock:
            self.cards.append({"name": name, "id_number": id_number})

    def _take(self):
        with self._lock:
            self.polls += 1
            if not self.cards:
                return None
            self.reads += 1
            return self.cards.popleft()

    def _handler(self):
        reader = self

        class Handler(BaseHTTPRequestHandler):
            def _headers(self, status: int, length: int = 0, kind: str = "") -> None:
                self.send_response(status)
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Access-Control-Allow-Private-Network", "true")
                self.send_header("Access-Control-Allow-Methods", "GET")
                self.send_header("Cache-Control", "no-store")
                if kind:
                    self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(length))
                self.end_headers()

            def do_OPTIONS(self):
                self._headers(204)

            def do_GET(self):
                if self.path.split("?")[0] != PATH:
                    self._headers(404)
                    return
                card = reader._take()
                if card is None:
                    self._headers(204)
                    return
                body = json.dumps(card, ensure_ascii=False).encode()
                self._headers(200, len(body), "application/json; charset=utf-8")
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    card = json.loads(self.rfile.read(length) or b"{}")
                    reader.present(str(card["name"]), str(card["id_number"]))
                except (ValueError, KeyError, TypeError):
                    self._headers(400)
                    return
                self._headers(204)

            def log_message(self, *args):
                pass

        return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description="Stand-in for a terminal's local ID-card reader agent")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18089)
    parser.add_argument("--card", action="append", default=[], help="姓名,身份证号码 (may be repeated)")
    args = parser.parse_args()
    reader = StandInReader(args.host, args.port)
    for card in args.card:
        name, _, id_number = card.partition(",")
        reader.present(name, id_number)
    print(f"ID-card reader stand-in at {reader.url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        reader.server.serve_forever()


if __name__ == "__main__":
    main()
