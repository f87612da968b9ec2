"""`haocha mining refresh [--full]`: mine new 差评 comments into the keyword and theme tables."""

import time

from django.core.management.base import BaseCommand

from haocha.mining.models import MinedComment, ThemeCount
from haocha.mining.services import mining_rebuild, mining_refresh_all


class Command(BaseCommand):
    help = "差评文本挖掘：refresh 处理新增差评（--full 清空后全部重算）"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["refresh"])
        parser.add_argument("--full", action="store_true", help="清空挖掘结果后全部重算")

    def handle(self, *args, action, full=False, **opts):
        started = time.perf_counter()
        done = mining_rebuild() if full else mining_refresh_all()
        self.stdout.write(
            f"已处理评价 {done.get('ratings', 0):,} 条，新增差评文本 {done.get('added', 0):,} 条，"
            f"移出 {done.get('removed', 0):,} 条；累计差评文本 {MinedComment.objects.count():,} 条，"
            f"主题统计 {ThemeCount.objects.count():,} 行，用时 {time.perf_counter() - started:.1f} 秒"
        )
