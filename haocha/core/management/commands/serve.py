"""`haocha serve`: the production server (granian, WSGI) with migrations applied first."""

import os
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections

from haocha.env import default_workers


class Command(BaseCommand):
    help = "启动生产服务器（granian WSGI），默认 http://127.0.0.1:8000（PORT 覆盖端口）"

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--workers",
            type=int,
            help="工作进程数（默认 HAOCHA_WORKERS；未设置时 SQLite 为 1，PostgreSQL 为 2）",
        )
        parser.add_argument("--threads", type=int, default=int(os.environ.get("HAOCHA_THREADS", "1")))
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
        from granian import Granian
        from granian.constants import Interfaces

        db = settings.DATABASES["default"]
        if opts["workers"] is None:
            opts["workers"] = default_workers(connections["default"].vendor)
        self.stdout.write(
            f"haocha 服务启动：http://{opts['host']}:{opts['port']}/ "
            f"（数据库 {db['ENGINE'].rsplit('.', 1)[-1]}，{opts['workers']} 个工作进程）"
        )
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
        worker = None
        if opts["with_worker"]:
            worker = subprocess.Popen([sys.executable, "-m", "haocha.cli", "worker"])
        try:
            server.serve()
        finally:
            if worker is not None:
                worker.terminate()
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()
