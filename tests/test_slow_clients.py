"""The server `make run` starts keeps answering while clients trickle headers or bodies (slowloris).

Against the real `haocha serve` process: before the embedded server was waitress, one client sending a
POST body a byte at a time stopped /healthz for as long as it kept sending.
"""

import socket
import threading
import time
import urllib.request

import pytest

from tests.servers import ProductionServer

SLOW_BODIES = 40
SLOW_HEADERS = 20


def _trickle(port: int, head: bytes, stop: threading.Event, opened: list) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(head)
        opened.append(1)
        while not stop.wait(0.5):
            try:
                s.sendall(b"x")
            except OSError:
                return


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_embedded_server_answers_while_dozens_of_clients_trickle_headers_and_bodies():
    server = ProductionServer(log_name="slow-clients-server.log", args=("--server", "waitress"))
    server.start()
    stop, opened = threading.Event(), []
    body = (
        b"POST /api/ratings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100000\r\n\r\n{"
    )
    header = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
    threads = [
        threading.Thread(target=_trickle, args=(server.port, head, stop, opened), daemon=True)
        for head in [body] * SLOW_BODIES + [header] * SLOW_HEADERS
    ]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while len(opened) < len(threads) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(opened) == len(threads)
        time.sleep(1)  # every slow request is now in the server, half-read
        answered = []
        for _ in range(10):
            started = time.monotonic()
            with urllib.request.urlopen(server.url + "/healthz", timeout=5) as r:
                assert r.status == 200
            with urllib.request.urlopen(server.url + "/login/", timeout=10) as r:
                assert r.status == 200
            answered.append(time.monotonic() - started)
            time.sleep(0.2)
        assert max(answered) < 5, answered
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=5)
        server.stop()
