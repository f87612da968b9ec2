"""`haocha serve`: the server (waitress or granian, WSGI) with migrations applied first.

Two servers, chosen by where haocha runs (`--server` / HAOCHA_SERVER overrides):
- waitress for the embedded SQLite setup (`make run`, a hall or a small county without a reverse
  proxy): its I/O thread reads every request whole before a worker thread sees it, so clients that
  trickle headers or bodies hold a socket, not a thread (measured: 100 clients sending one byte a
  second, /healthz answered 39 of 39; granian with one thread: 0 of 2 with one such client).
- granian for PostgreSQL (production, several worker processes): faster (same-run A/B on intake,
  2 cores: 4.5-4.8 ms of server CPU per rating against waitress's 5.4-7.0, p99 half), but a body
  that never ends holds one of its threads, so in production it runs behind a reverse proxy that
  buffers requests (README: "Production").
"""

import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections

from haocha.env import default_workers


class Command(BaseCommand):
    help = (
        "启动服务器（SQLite 用 waitress，PostgreSQL 用 granian），默认 http://127.0.0.1:8000（PORT 覆盖端口）"
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--workers",
            type=int,
            help="工作进程数（默认 HAOCHA_WORKERS；未设置时 SQLite 为 1，PostgreSQL 为 2）",
        )
        parser.add_argument(
            "--server",
            choices=["waitress", "granian"],
            default=os.environ.get("HAOCHA_SERVER") or None,
            help="服务器（默认 HAOCHA_SERVER；未设置时 SQLite 用 waitress，PostgreSQL 用 granian）",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=int(os.environ["HAOCHA_THREADS"]) if os.environ.get("HAOCHA_THREADS") else None,
            help="每个工作进程的线程数（默认 waitress 4，granian 1）",
        )
        parser.add_argument("--no-migrate", action="store_true", help="不自动执行数据库迁移")
        parser.add_argument("--access-log", action="store_true")
        parser.add_argument(
            "--with-worker",
            action="store_true",
            help="同时启动后台任务进程（消息投递、逾期督办），随服务器退出",
        )

    def handle(self, *args, **opts):
        if not opts["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        db = settings.DATABASES["default"]
        vendor = connections["default"].vendor
        kind = opts["server"] or ("waitress" if vendor == "sqlite" else "granian")
        if kind == "waitress":
            opts["workers"] = 1  # one process: waitress serves with threads
        elif opts["workers"] is None:
            opts["workers"] = default_workers(vendor)
        if opts["threads"] is None:
            opts["threads"] = 4 if kind == "waitress" else 1
        self.stdout.write(
            f"haocha 服务启动：http://{opts['host']}:{opts['port']}/ （{kind}，"
            f"数据库 {db['ENGINE'].rsplit('.', 1)[-1]}，{opts['workers']} 个工作进程，每个 {opts['threads']} 个线程）"
        )
        worker = None
        standin = None
        if opts["with_worker"]:
            worker = subprocess.Popen([sys.executable, "-m", "haocha.cli", "worker"])
            standin = self._standin_12345(opts)
            # A SIGTERM (systemd, kill) ends the server through the finally below: no child outlives it.
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            if kind == "waitress":
                self._waitress(opts)
            else:
                self._granian(opts)
        finally:
            for child in (worker, standin):
                if child is None:
                    continue
                child.terminate()
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()

    def _standin_12345(self, opts):
        """The demo's stand-in 12345 platform (HAOCHA_DEMO_12345=external wrote its file), calling back here."""
        path = settings.STANDIN_12345_FILE
        if not path.exists():
            return None
        port = settings.HAOCHA_12345_STANDIN_PORT
        self.stdout.write(f"模拟12345平台：http://127.0.0.1:{port}/ （外部12345平台演示）")
        return subprocess.Popen(
            [sys.executable, "-m", "haocha.cli", "hotline12345", "standin", "--config", str(path),
             "--port", str(port), "--haocha", f"http://127.0.0.1:{opts['port']}"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip

    def _waitress(self, opts):
        import waitress

        from haocha.wsgi import application

        connections.close_all()
        waitress.serve(
            application,
            host=opts["host"],
            port=opts["port"],
            threads=opts["threads"],
            connection_limit=1000,  # sockets held by slow clients cost no thread; the default is 100
            channel_timeout=60,  # a connection that sends nothing for a minute is closed
            max_request_body_size=settings.HAOCHA_MAX_REQUEST_BYTES,
            ident="haocha",
            _quiet=True,
        )

    def _granian(self, opts):
        from granian import Granian
        from granian.constants import Interfaces

        server = Granian(
            "haocha.wsgi:application",
            address=opts["host"],
            port=opts["port"],
            interface=Interfaces.WSGI,
            workers=opts["workers"],
            blocking_threads=opts["threads"],
            log_access=opts["access_log"],
            backpressure=max(opts["threads"], 1) * 64,
            respawn_failed_workers=True,
        )
        connections.close_all()  # the workers are forked: none may inherit this process's connection
        server.serve()
