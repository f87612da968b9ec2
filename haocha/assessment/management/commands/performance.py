"""`haocha performance push | status | standin`: the 政务服务成效管理系统 by hand."""

import argparse
import time

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from haocha.assessment import publish
from haocha.core.errors import DomainError
from haocha.core.models import OutboxMessage
from haocha.core.outbox import outbox_process
from haocha.integrations.performance import delivery, standin
from haocha.integrations.performance.client import configured
from haocha.integrations.performance.models import PerformanceRecord

S = PerformanceRecord.Status


class Command(BaseCommand):
    help = "政务服务成效管理系统：推送月度评价结果和年度目标考核结果、查看推送状态、启动模拟系统"
    requires_system_checks = []  # the stand-in is another party; push and status need no more than the database

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        push = sub.add_parser("push", help="排队并推送（内容未变化的记录不重复推送）")
        push.add_argument("--year", type=int, required=True)
        push.add_argument("--month", type=int, help="只推送该月的月度评价结果")
        push.add_argument("--assessment", action="store_true", help="推送该年度的年度目标考核结果")
        push.add_argument("--no-send", action="store_true", help="只排队，由后台任务推送")
        push.add_argument("--rounds", type=int, default=100, help="最多发送几轮（对方不可用时等待重试）")
        sub.add_parser("status", help="各类记录的推送状态")
        standin.add_arguments(
            sub.add_parser("standin", help="启动模拟成效管理系统（独立进程，打印 PORT <端口>）")
        )

    def handle(self, *args, action, **opts):
        try:
            getattr(self, "_" + action)(**opts)
        except DomainError as exc:
            raise CommandError(f"{exc.message}（{exc.code}）") from exc

    def _push(self, *, year, month, assessment, no_send, rounds, **opts):
        if not configured():
            raise CommandError(
                "未配置成效管理系统：须设置 HAOCHA_PERFORMANCE_URL、HAOCHA_PERFORMANCE_APP_ID、HAOCHA_PERFORMANCE_SECRET"
            )
        if month is not None and not 1 <= month <= 12:
            raise CommandError("--month 须为 1–12")
        counts = publish.push(year=year, month=month, assessment=assessment)
        self.stdout.write(
            f"已排队：新增 {counts['new']} 条，内容变更 {counts['changed']} 条，未变化 {counts['unchanged']} 条（不重复推送）"
        )
        if not no_send:
            for _ in range(rounds):
                delivery.send()
                outbox_process(limit=1000)
                pending = OutboxMessage.objects.filter(
                    topic=delivery.TOPIC, status=OutboxMessage.Status.PENDING
                )
                waiting = PerformanceRecord.objects.filter(status__in=(S.QUEUED, S.RETRYING, S.SENT))
                if not pending.exists() and not waiting.exists():
                    break
                time.sleep(1)  # retries not yet due: the system is down
        self._status()

    def _status(self, **opts):
        counts = {
            (k, s): n
            for k, s, n in PerformanceRecord.objects.values_list("kind", "status")
            .annotate(n=Count("pk"))
            .order_by()
        }
        for kind, label in PerformanceRecord.Kind.choices:
            parts = [f"{status_label} {counts.get((kind, status), 0)}" for status, status_label in S.choices]
            self.stdout.write(f"  {label}：" + "，".join(parts))

    def _standin(self, **opts):
        standin.serve(argparse.Namespace(**opts), out=self.stdout)
