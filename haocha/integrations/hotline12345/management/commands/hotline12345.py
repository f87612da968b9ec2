"""`haocha hotline12345 platform | mode | status | push | reconcile | standin`: a region's external 12345."""

import argparse

from django.core.management.base import BaseCommand, CommandError

from haocha.core.errors import DomainError
from haocha.integrations.hotline12345 import standin


class Command(BaseCommand):
    help = "12345平台对接：登记外部12345平台、切换办理方式、查看推送状态、重新推送、对账；启动模拟12345平台"
    requires_system_checks = []

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("platform", help="为区划登记外部12345平台（打印签名密钥和接口密钥，仅此一次）")
        p.add_argument("--region", required=True, help="区划代码，如 430100")
        p.add_argument("--name", required=True, help="平台名称，如 长沙市12345政务服务便民热线")
        p.add_argument("--url", default="", help="平台地址（推送工单、查询进度）")
        p.add_argument("--app-id", default="", help="接入编号（默认 12345-<区划代码>）")
        p.add_argument("--signing", default="hmac-sha256", help="hmac-sha256 或 hmac-sm3")
        p.add_argument("--contact-key", default="", help="联系电话加密的 SM4 密钥（32位十六进制）")
        p.add_argument("--quiet-hours", type=int, default=4, help="无进展多少个工作小时后对账")
        m = sub.add_parser("mode", help="切换区划的12345办理方式")
        m.add_argument("--region", required=True)
        m.add_argument("mode", choices=("builtin", "external"))
        sub.add_parser("status", help="各平台推送状态与回调情况")
        r = sub.add_parser("push", help="重新推送（推送失败的工单，或指定工单）")
        r.add_argument("numbers", nargs="*", help="工单编号；省略则为全部推送失败的工单")
        sub.add_parser("reconcile", help="立即对账一轮")
        standin.add_arguments(
            sub.add_parser("standin", help="启动模拟12345平台（独立进程，打印 PORT <端口>）")
        )

    def handle(self, *args, action, **opts):
        if action == "standin":
            standin.serve(argparse.Namespace(**opts), out=self.stdout)
            return
        try:
            getattr(self, f"_{action}")(**opts)
        except (DomainError, ValueError) as exc:
            raise CommandError(getattr(exc, "message", str(exc))) from exc

    def _platform(self, *, region, name, url, app_id, signing, contact_key, quiet_hours, **_):
        from haocha.integrations.hotline12345.services import platform_register

        platform, secret, key = platform_register(
            region_code=region,
            name=name,
            base_url=url,
            app_id=app_id,
            signing=signing,
            contact_key=contact_key,
            quiet_hours=quiet_hours,
        )
        self.stdout.write(f"已登记 {platform.name}（{platform.region.name}，外部12345平台）")
        self.stdout.write(f"  接入编号 appId：{platform.app_id}")
        self.stdout.write(f"  签名密钥（双方签名用，仅显示一次）：{secret}")
        self.stdout.write(f"  接口密钥（12345热线评价 X-Api-Key，仅显示一次）：{key}")
        self.stdout.write(f"  回调地址：<本系统地址>{'/api/hotline12345/callback'}")

    def _mode(self, *, region, mode, **_):
        from haocha.integrations.hotline12345.services import platform_set_mode

        platform = platform_set_mode(region_code=region, mode=mode)
        self.stdout.write(f"{platform.region.name}：{platform.get_mode_display()}")

    def _status(self, **_):
        from haocha.integrations.hotline12345.selectors import platform_summary

        for row in platform_summary():
            p = row["platform"]
            self.stdout.write(
                f"{p.name}（{p.region.name}，{p.get_mode_display()}，{p.base_url or '未登记地址'}）"
            )
            self.stdout.write("  " + "，".join(f"{label} {n}" for label, n in row["states"]))
            self.stdout.write(f"  等待前序回调 {row['waiting']} 条，未能应用 {row['failed']} 条")

    def _push(self, *, numbers, **_):
        from haocha.integrations.hotline12345.models import PlatformOrder
        from haocha.integrations.hotline12345.push import requeue

        rows = PlatformOrder.objects.all()
        rows = (
            rows.filter(order__number__in=numbers)
            if numbers
            else rows.filter(state=PlatformOrder.State.STUCK)
        )
        n = 0
        for push in rows:
            requeue(push)
            n += 1
        self.stdout.write(f"已重新排队 {n} 张工单，后台任务将推送")

    def _reconcile(self, **_):
        from haocha.integrations.hotline12345.push import reconcile

        self.stdout.write(reconcile() or "12345对账：没有需要核查的工单")
