"""`haocha mining refresh [--full]`: mine new 差评 comments into the keyword and theme tables.
`haocha mining classify`: JSON lines with `text` (and optional `reasons`, `channel`) on standard input, one JSON
line per input with `themes` (taxonomy names, main first) and `confidence` on standard output."""

import json
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from haocha.mining.models import MinedComment, ThemeCount
from haocha.mining.services import mining_rebuild, mining_refresh_all

BATCH = 2000


class Command(BaseCommand):
    help = "差评文本挖掘：refresh 处理新增差评（--full 清空后全部重算）；classify 从标准输入逐行读取 JSON 并输出主题"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["refresh", "classify"])
        parser.add_argument("--full", action="store_true", help="清空挖掘结果后全部重算")
        parser.add_argument("--region", default="", help="classify：按该区划代码加入地方自定义主题")
        parser.add_argument(
            "--no-embedding", action="store_true", help="classify：只用规则，不用语义模型兜底"
        )

    def handle(self, *args, action, full=False, region="", no_embedding=False, **opts):
        if action == "classify":
            return self.classify(region=region, fallback=not no_embedding)
        started = time.perf_counter()
        done = mining_rebuild() if full else mining_refresh_all()
        self.stdout.write(
            f"已处理评价 {done.get('ratings', 0):,} 条，新增差评文本 {done.get('added', 0):,} 条，"
            f"移出 {done.get('removed', 0):,} 条；累计差评文本 {MinedComment.objects.count():,} 条，"
            f"主题统计 {ThemeCount.objects.count():,} 行，用时 {time.perf_counter() - started:.1f} 秒"
        )

    def classify(self, *, region: str, fallback: bool):
        from haocha.evaluations.models import ReasonOption
        from haocha.mining.classifier import classify_many
        from haocha.mining.themes import themes_for_region
        from haocha.organisations.models import Region

        path = ""
        if region:
            found = Region.objects.filter(code=region).first()
            if found is None:
                raise CommandError(f"区划代码 {region} 不存在")
            path = found.path
        themes = themes_for_region(path)
        names = {t.code: t.name for t in themes}
        # a reason may come as its code (ON401) or its text (办理时间过长)
        reason_text = dict(ReasonOption.objects.values_list("code", "text"))
        started = time.perf_counter()
        count = 0
        out = sys.stdout if self.stdout._out is sys.stdout else self.stdout._out
        batch: list[tuple[int, str, list]] = []

        def flush():
            results = classify_many([(t, r) for _, t, r in batch], themes=themes, fallback=fallback)
            for (_, _, _), result in zip(batch, results, strict=True):
                out.write(
                    json.dumps(
                        {"themes": [names[c] for c in result.themes], "confidence": result.confidence},
                        ensure_ascii=False,
                    )
                    + "\n"
                )
            batch.clear()

        for number, line in enumerate(sys.stdin, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                text = item["text"]
                reasons = item.get("reasons") or []
                if not isinstance(text, str) or not isinstance(reasons, list):
                    raise TypeError
            except (ValueError, KeyError, TypeError) as exc:
                raise CommandError(f"第 {number} 行不是含 text 字段的 JSON 对象") from exc
            batch.append((number, text, [reason_text.get(str(r), str(r)) for r in reasons]))
            count += 1
            if len(batch) >= BATCH:
                flush()
        if batch:
            flush()
        out.flush()
        seconds = time.perf_counter() - started
        self.stderr.write(
            f"已归类 {count:,} 条，用时 {seconds:.1f} 秒（{count / seconds if seconds else 0:,.0f} 条/秒）"
        )
