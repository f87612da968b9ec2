"""`haocha docking child | children | status | upload | requeue | monitor`: docking between levels by hand."""

import time

import orjson
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from haocha.accounts.access import Actor
from haocha.core.errors import DomainError
from haocha.core.models import OutboxMessage
from haocha.core.outbox import outbox_process
from haocha.integrations.docking import monitor, upload
from haocha.integrations.docking.client import configured
from haocha.integrations.docking.models import ChildSystem, RecordKind, Upload
from haocha.integrations.docking.services import child_register


class Command(BaseCommand):
    help = "上下级对接：登记下级系统、查看上报状态、立即上报、重新上报被拒记录、运行监测"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        child = sub.add_parser("child", help="登记一个下级系统（打印其接入编号与签名密钥，仅显示一次）")
        child.add_argument("--name", required=True)
        child.add_argument("--region", required=True, help="下级系统覆盖的区划代码，如 430102")
        child.add_argument("--app-id", default="")
        child.add_argument("--vendor", default=ChildSystem.Vendor.HAOCHA, choices=ChildSystem.Vendor.values)
        child.add_argument("--url", default="", help="下级系统地址（下发差评、反查办件用）")
        sub.add_parser("children", help="列出已登记的下级系统及其监测数据")
        sub.add_parser("status", help="本系统向上级上报的状态")
        up = sub.add_parser("upload", help="立即收集并上报，直到没有待发记录（或达到 --rounds）")
        up.add_argument("--rounds", type=int, default=1000)
        requeue = sub.add_parser("requeue", help="把上级拒收的记录重新上报（更正数据后）")
        requeue.add_argument("--kind", choices=RecordKind.values)
        requeue.add_argument("ids", nargs="*", type=int)
        sub.add_parser("monitor", help="运行一次下级系统监测（告警）")
        lookup = sub.add_parser("lookup", help="向下级系统反查一笔办件（服务数据、评价、处置数据）")
        lookup.add_argument("--child", required=True, help="下级系统的接入编号（appId）")
        lookup.add_argument("case_no")

    def handle(self, *args, action, **opts):
        try:
            getattr(self, "_" + action)(**opts)
        except DomainError as exc:
            raise CommandError(f"{exc.message}（{exc.code}）") from exc

    def _child(self, *, name, region, app_id, vendor, url, **opts):
        child, secret = child_register(
            name=name, region_code=region, app_id=app_id, vendor=vendor, base_url=url
        )
        self.stdout.write(f"已登记下级系统 {child.name}（区划 {child.region.code}）。下级系统的配置：")
        self.stdout.write(f"  HAOCHA_PARENT_APP_ID={child.app_id}")
        self.stdout.write(f"  HAOCHA_PARENT_SECRET={secret}")
        self.stdout.write("  HAOCHA_PARENT_URL=<本系统地址>（密钥仅显示这一次）")

    def _children(self, **opts):
        for child in monitor.children_for(Actor(label="命令行", all_access=True)):
            f = monitor.child_figures(child)
            last = f"{f['last_upload_at']:%Y-%m-%d %H:%M:%S}" if f["last_upload_at"] else "从未上报"
            self.stdout.write(
                f"{child.name}（{child.region.code}，{child.app_id}）最近上报 {last}；"
                f"近24小时接收 {f['accepted_24h']} 条、拒收 {f['rejected_24h']} 条；"
                f"滞后 p95 {f['lag_p95_seconds'] if f['lag_p95_seconds'] is not None else '—'} 秒；"
                f"评价率 {f['rating_rate'] if f['rating_rate'] is not None else '—'}%"
            )

    def _status(self, **opts):
        target = settings.HAOCHA_PARENT_URL or "未配置（HAOCHA_PARENT_URL）"
        self.stdout.write(f"上级系统：{target}，接入编号 {settings.HAOCHA_PARENT_APP_ID or '—'}")
        counts = {
            (k, s): n
            for k, s, n in Upload.objects.values_list("kind", "status").annotate(n=Count("pk")).order_by()
        }
        for kind, kind_label in RecordKind.choices:
            parts = [f"{label} {counts.get((kind, status), 0)}" for status, label in Upload.Status.choices]
            self.stdout.write(f"  {kind_label}：" + "，".join(parts))

    def _upload(self, *, rounds, **opts):
        if not configured():
            raise CommandError(
                "未配置上级系统：须设置 HAOCHA_PARENT_URL、HAOCHA_PARENT_APP_ID、HAOCHA_PARENT_SECRET"
            )
        for _ in range(rounds):
            added, _released, _claimed = upload.upload_round()
            outbox_process(limit=1000)
            pending = OutboxMessage.objects.filter(
                topic=upload.TOPIC, status=OutboxMessage.Status.PENDING
            ).exists()
            waiting = Upload.objects.filter(
                status__in=(Upload.Status.QUEUED, Upload.Status.RETRYING)
            ).exists()
            if not (added or pending or waiting):
                break
            if not added and not pending:
                time.sleep(1)  # only retries left: not yet due, or their service record not there yet
        self._status()

    def _requeue(self, *, kind, ids, **opts):
        n = upload.requeue(ids or None, kind=kind)
        self.stdout.write(f"已重新排队 {n} 条记录")

    def _lookup(self, *, child, case_no, **opts):
        from haocha.integrations.docking.dispatch import fetch_case

        system = ChildSystem.objects.filter(app_id=child).first()
        if system is None or not system.base_url:
            raise CommandError(f"下级系统 {child} 不存在或未登记地址")
        self.stdout.write(orjson.dumps(fetch_case(system, case_no), option=orjson.OPT_INDENT_2).decode())

    def _monitor(self, **opts):
        self.stdout.write(f"新告警 {monitor.check_alerts()} 条")
