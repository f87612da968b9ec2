"""`haocha worker`: delivers the outbox and runs every app's periodic jobs (core/jobs.py), in a loop.

Each job runs on its own: one that fails (a database hiccup, a bug) is logged with its traceback and the
loop goes on with the others and tries it again next round; `--once` stops with the error instead.
"""

import logging
import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from haocha.core.jobs import registered
from haocha.core.outbox import outbox_process

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "后台任务：投递待发消息（站内消息、短信等），并运行各模块的定时任务（逾期督办、短信邀评、统计汇总、差评挖掘等）"

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="只运行一轮后退出")
        parser.add_argument("--interval", type=float, default=5.0, help="投递间隔（秒）")
        parser.add_argument("--sweep-every", type=float, default=60.0, help="逾期扫描等定时任务的间隔（秒）")

    def handle(self, *args, once=False, interval=5.0, sweep_every=60.0, **opts):
        stopping = []
        signal.signal(signal.SIGTERM, lambda *a: stopping.append(1))
        self.once = once
        last_sweep = 0.0
        while True:
            if not once:
                close_old_connections()  # a long-running loop must not keep a broken connection
            if time.monotonic() - last_sweep >= sweep_every or once:
                for job in registered(sweep=True):
                    self._job(job.name, job.run)
                last_sweep = time.monotonic()
            for job in registered(sweep=False):
                self._job(job.name, job.run)
            self._job("消息投递", self._outbox)
            if once or stopping:
                return
            time.sleep(interval)

    def _job(self, name: str, fn) -> None:
        try:
            line = fn()
        except Exception:
            if self.once:
                raise
            log.exception("后台任务“%s”失败，下一轮重试", name)
            self.stderr.write(f"后台任务“{name}”失败，下一轮重试（详见日志）")
            close_old_connections()
            return
        if line:
            self.stdout.write(line)

    def _outbox(self) -> str | None:
        sent = outbox_process()
        if any(sent.values()):
            return f"消息投递：成功 {sent['done']}，重试 {sent['retry']}，失败 {sent['dead']}"
        return None
