"""A real `haocha serve` process (waitress on SQLite, granian on PostgreSQL) for tests that need it."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import url_of_test_database

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ProductionServer:
    """`haocha serve` in its own process group, stopped and started again on the same port."""

    def __init__(
        self,
        database_url: str | None = None,
        *,
        log_name: str = "channels-server.log",
        ready=(200,),
        args: tuple[str, ...] = (),
    ):
        self.args = args
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.ready = ready  # /healthz statuses that mean the server answers
        ARTIFACTS.mkdir(exist_ok=True)
        self.log_path = ARTIFACTS / log_name
        self.log = open(self.log_path, "ab")  # noqa: SIM115  closed in stop()
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url or url_of_test_database(),
            "HAOCHA_LOG_LEVEL": "ERROR",
        }

    def start(self):
        haocha = str(Path(sys.executable).parent / "haocha")
        cmd = [haocha, "serve", "--no-migrate", "--port", str(self.port), "--workers", "1", *self.args]
        self.proc = subprocess.Popen(
            cmd, env=self.env, stdout=self.log, stderr=self.log, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"haocha serve exited with {self.proc.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
                    if r.status in self.ready:
                        return
            except urllib.error.HTTPError as answer:
                if answer.code in self.ready:
                    return
                time.sleep(0.3)
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("haocha serve did not answer /healthz within 60 s")

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)
        self.proc = None

    def is_down(self) -> bool:
        try:
            urllib.request.urlopen(self.url + "/healthz", timeout=1)
        except OSError:
            return True
        return False
