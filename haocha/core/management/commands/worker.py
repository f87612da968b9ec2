"""`haocha worker`: delivers the outbox, runs the overdue sweep and keeps the rollups current, in a loop.

Each job runs on its own: one that fails (a database hiccup, a bug) is logged with its traceback and the
loop goes on with the others and tries it again next round; `--once` stops with the error instead.
"""

import logging
import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from haocha.analytics.services import rollups_apply
from haocha.channels.throttle import channels_housekeeping
from haocha.core.outbox import outbox_process
from haocha.evaluations.defaults import default_ratings_sweep
from haocha.integrations.sms.invitations import sms_sweep
from haocha.mining.services import mining_refresh
from haocha.workorders.sweep import work_orders_sweep

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "后台任务：投递待发消息（站内消息等），扫描逾期工单并自动督办，短信邀评，更新统计汇总和差评挖掘"

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="只运行一轮后退出")
        parser.add_argument("--interval", type=float, default=5.0, help="投递间隔（秒）")
        parser.add_argument("--sweep-every", type=float, default=60.0, help="逾期扫描间隔（秒）")

    def handle(self, *args, once=False, interval=5.0, sweep_every=60.0, **opts):
        stopping = []
        signal.signal(signal.SIGTERM, lambda *a: stopping.append(1))
        self.once = once
        last_sweep = 0.0
        while True:
            if not once:
                close_old_connections()  # a long-running loop must not keep a broken connection
            if time.monotonic() - last_sweep >= sweep_every or once:
                self._job("逾期扫描", self._overdue)
                self._job("短信邀评", self._sms)
                self._job("系统默认评价", self._defaults)
                self._job("渠道清理", channels_housekeeping)
                last_sweep = time.monotonic()
            self._job("统计汇总", self._rollups)
            self._job("差评挖掘", self._mining)
            self._job("消息投递", self._outbox)
            if once or stopping:
                return
            time.sleep(interval)

    def _job(self, name: str, fn) -> None:
        try:
            fn()
        except Exception:
            if self.once:
                raise
            log.exception("后台任务“%s”失败，下一轮重试", name)
            self.stderr.write(f"后台任务“{name}”失败，下一轮重试（详见日志）")
            close_old_connections()

    def _overdue(self):
        swept = work_orders_sweep()
        if any(swept.values()):
            self.stdout.write(
                f"逾期扫描：一级督办 {swept['level1']}，二级督办 {swept['level2']}，临期提醒 {swept['nearing']}"
            )

    def _sms(self):
        """SMS invitations: deferred sends, the one reminder, expiry."""
        sms = sms_sweep()
        if any(sms.values()):
            self.stdout.write(
                f"短信邀评：发送 {sms['sent']}，提醒 {sms['reminded']}，过期 {sms['expired']}，失败 {sms['failed']}"
            )

    def _defaults(self):
        defaults = default_ratings_sweep()
        if defaults["created"]:
            self.stdout.write(f"系统默认评价：生成 {defaults['created']}")

    def _rollups(self):
        rolled = rollups_apply()
        if rolled["ratings"] or rolled["cases"]:
            self.stdout.write(f"统计汇总：评价 {rolled['ratings']}，办件 {rolled['cases']}")

    def _mining(self):
        mined = mining_refresh()
        if mined["added"] or mined["removed"]:
            self.stdout.write(f"差评挖掘：新增 {mined['added']}，移出 {mined['removed']}")

    def _outbox(self):
        sent = outbox_process()
        if any(sent.values()):
            self.stdout.write(f"消息投递：成功 {sent['done']}，重试 {sent['retry']}，失败 {sent['dead']}")
