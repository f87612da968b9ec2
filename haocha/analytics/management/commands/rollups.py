"""`haocha rollups apply|rebuild|status`: the statistics rollups."""

import time

from django.core.management.base import BaseCommand

from haocha.analytics.models import CasePending, RatingPending, RatingRollup, RollupState
from haocha.analytics.services import STALE, definitions_current, rollups_apply_all, rollups_rebuild


class Command(BaseCommand):
    help = "统计汇总：apply 应用待汇总的变化；rebuild 由原始数据重算全部汇总；status 查看状态"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["apply", "rebuild", "status"])

    def handle(self, *args, action, **opts):
        started = time.perf_counter()
        if action == "apply":
            done = rollups_apply_all()
            self.stdout.write(
                f"已汇总评价变化 {done['ratings']:,} 条、办件变化 {done['cases']:,} 条，"
                f"重算工单月份 {done['order_months']} 个，用时 {time.perf_counter() - started:.1f} 秒"
            )
        elif action == "rebuild":
            done = rollups_rebuild()
            self.stdout.write(
                f"已由原始数据重算汇总：评价汇总 {done['rating_rows']:,} 行，工单月份 {done['order_months']} 个，"
                f"用时 {time.perf_counter() - started:.1f} 秒"
            )
        if not definitions_current():
            self.stderr.write(STALE)
        state = RollupState.objects.filter(pk=1).first()
        self.stdout.write(
            f"待汇总：评价 {RatingPending.objects.count():,}，办件 {CasePending.objects.count():,}；"
            f"评价汇总 {RatingRollup.objects.count():,} 行；"
            f"最近运行 {state.last_run_at if state else '—'}，最近重算 {state.last_rebuild_at if state else '—'}"
        )
