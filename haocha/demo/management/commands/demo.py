"""`haocha demo`: fill an empty database with a deterministic demo city (halls, items, cases, ratings)."""

import os
import secrets
from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from haocha.analytics.services import rollups_apply_all
from haocha.demo.builder import (
    DEFAULT_PASSWORD,
    DEMO_CLIENT_NAME,
    DemoBuilder,
    DemoSetupError,
    bad_share,
    good_share,
)
from haocha.evaluations.channels import Channel
from haocha.evaluations.levels import ORDERED, Level
from haocha.mining.services import mining_refresh_all
from haocha.organisations.models import Region


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"日期格式应为 YYYY-MM-DD：{value}") from exc


class Command(BaseCommand):
    help = "生成演示数据：长沙市的区划、部门、大厅窗口、事项、办件和评价（同一随机种子生成相同数据）"

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026, help="随机种子（默认 2026）")
        parser.add_argument("--ratings", type=int, default=50000, help="评价条数，含追评（默认 50000）")
        parser.add_argument("--months", type=int, default=12, help="覆盖最近几个月（默认 12）")
        parser.add_argument("--if-empty", action="store_true", help="数据库已有行政区划时什么也不做")
        parser.add_argument(
            "--password",
            default=None,
            help="演示账号的密码（默认取环境变量 HAOCHA_DEMO_PASSWORD，否则为 haocha-demo-2026）",
        )
        parser.add_argument(
            "--today", type=_date, default=None, help="以哪一天为“今天”（YYYY-MM-DD，默认当天），用于复现数据"
        )

    def handle(self, *args, **opts):
        if Region.objects.exists():
            if opts["if_empty"]:
                self.stdout.write("数据库中已有数据（行政区划），跳过演示数据生成。")
                return
            raise CommandError(
                "数据库中已有数据（行政区划），演示数据只能生成到空数据库；可加 --if-empty 跳过。"
            )
        if opts["ratings"] < 0 or opts["months"] < 1:
            raise CommandError("--ratings 不能为负数，--months 至少为 1")
        password = opts["password"] or os.environ.get("HAOCHA_DEMO_PASSWORD") or DEFAULT_PASSWORD
        verbose = opts["verbosity"] >= 2
        builder = DemoBuilder(
            seed=opts["seed"],
            ratings=opts["ratings"],
            months=opts["months"],
            password=password,
            today=opts["today"],
            log=(lambda message: self.stdout.write("  " + message)) if verbose else None,
        )
        self.stdout.write(
            f"正在生成演示数据（种子 {opts['seed']}，评价 {opts['ratings']:,} 条，"
            f"最近 {opts['months']} 个月，截至 {builder.today:%Y-%m-%d}）……"
        )
        try:
            result = builder.build()
        except DemoSetupError as exc:
            raise CommandError(str(exc)) from exc
        rollups_apply_all()  # the statistics pages read the rollups, not the ratings
        mining_refresh_all(batch=20000)  # keywords and 差评 themes, precomputed
        self._summary(result, password)
        if settings.HAOCHA_DEMO_12345 == "external":
            self._external_12345()

    def _external_12345(self):
        """From now on the city's 差评 go to a stand-in external 12345 platform (`haocha serve --with-worker`
        starts it); what the demo made before stays with the built-in workbench."""
        import orjson

        from haocha.integrations.hotline12345.services import platform_register

        port = settings.HAOCHA_12345_STANDIN_PORT
        platform, secret, _key = platform_register(
            region_code=settings.HAOCHA_REGION_CODE,
            name="12345政务服务便民热线（模拟平台）",
            base_url=f"http://127.0.0.1:{port}",
            contact_key=secrets.token_hex(16),
        )
        path = settings.STANDIN_12345_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_bytes(
            orjson.dumps({"app_id": platform.app_id, "secret": secret, "signing": platform.signing})
        )
        self.stdout.write(
            f"  新差评推送外部12345平台（模拟）：{platform.name}，页面 http://127.0.0.1:{port}/"
        )

    def _summary(self, result, password):
        c = result.counts
        w = self.stdout.write
        w(self.style.SUCCESS(f"演示数据生成完毕，用时 {result.seconds:.1f} 秒。"))
        w(f"  行政区划 {c['regions']} 个（其中街道 {c['streets']} 个）；部门 {c['departments']} 个；")
        w(f"  政务服务中心/大厅/分厅 {c['halls']} 个，窗口 {c['windows']} 个，工作人员 {c['staff']} 名；")
        w(
            f"  政务服务事项 {c['items']} 项；办件 {c['cases']:,} 件（未办结 {c['cases_open']}，已办结未评价 {c['cases_unrated']:,}）；"
        )
        w(
            f"  评价 {c['ratings']:,} 条（其中追评 {c['follow_ups']:,}，“一次一评”窗口评价 {c['visit_ratings']:,}），"
            f"差评 {c['bad']}，部门回复 {c['replies']}。"
        )
        total = sum(result.levels.values()) or 1
        shares = "，".join(f"{Level(level).label} {result.levels[level] / total:.2%}" for level in ORDERED)
        w(f"  满意度分布：{shares}")
        w(f"  好评率 {good_share(result.levels):.2%}，差评率 {bad_share(result.levels):.2%}。")
        channels = "，".join(f"{Channel(ch).label} {n:,}" for ch, n in result.channels.items())
        w(f"  评价渠道：{channels}")
        wo = result.work_orders
        if wo:
            w(
                f"  差评工单 {wo.get('orders', 0)} 张：已办结 {wo.get('closed', 0)}，在办 "
                f"{sum(wo.get(s, 0) for s in ('pending_verify', 'pending_accept', 'accepted', 'handling', 'pending_callback'))}，"
                f"核实无效 {wo.get('invalid', 0)}；本次逾期督办 {wo.get('level1', 0) + wo.get('level2', 0)} 张。"
            )
        w("演示账号（登录 /login/ 进入差评工单工作台，系统管理员可进入 /admin/）：")
        for username, role, scope, created in result.accounts:
            note = "" if created else "（账号已存在，未修改密码）"
            w(f"  {username:<11} {role}（{scope}）{note}")
        w(f"  密码：{password}")
        w(f"演示接口密钥（X-Api-Key，{DEMO_CLIENT_NAME}）：{result.api_key}")
