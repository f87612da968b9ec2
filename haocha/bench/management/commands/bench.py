"""`haocha bench intake|import|all [--json]`: throughput of the rating intake over HTTP and of the bulk import."""

from datetime import date
from pathlib import Path

import orjson
from django.core.management.base import BaseCommand, CommandError

from haocha.env import default_workers


class Command(BaseCommand):
    help = (
        "压测：intake 用 wrk 向生产服务器（granian）提交评价，并与同一数据库的单行插入速度对比；"
        "import 计时批量导入；all 两者都做。每次使用全新的压测数据库（默认 var/bench/ 下的 SQLite）。"
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "action",
            choices=[
                "intake",
                "import",
                "sla",
                "analytics",
                "docking",
                "all",
                "_prepare",
                "_measure",
                "_import",
                "_sla",
                "_analytics_load",
                "_analytics_measure",
                "_docking_seed_child",
                "_docking_seed_parent",
                "_docking_trickle",
                "_docking_counts",
            ],
            help="intake、import 或 all（以下划线开头的是压测内部步骤）",
        )
        parser.add_argument("--json", action="store_true", help="只输出一个 JSON 对象")
        parser.add_argument(
            "--database-url", help="压测数据库（默认 var/bench/ 下的 SQLite；可用 postgres://…）"
        )
        parser.add_argument("--keep", action="store_true", help="保留压测数据库和中间文件")
        parser.add_argument("--duration", type=int, default=15, help="wrk 持续秒数（默认 15）")
        parser.add_argument("--connections", type=int, default=32, help="wrk 并发连接数（默认 32）")
        parser.add_argument("--wrk-threads", type=int, default=2, help="wrk 线程数（默认 2）")
        parser.add_argument(
            "--workers",
            type=int,
            help="服务器工作进程数（默认同 haocha serve：SQLite 为 1，PostgreSQL 为 2）",
        )
        parser.add_argument(
            "--server",
            choices=["waitress", "granian"],
            help="服务器（默认同 haocha serve：SQLite 用 waitress，PostgreSQL 用 granian）",
        )
        parser.add_argument(
            "--server-threads",
            type=int,
            help="每个工作进程的线程数（默认同 haocha serve：waitress 4，granian 1）",
        )
        parser.add_argument("--cases", type=int, default=30000, help="预建的已办结办件数（默认 30000）")
        parser.add_argument("--raw-rows", type=int, default=20000, help="单行插入基线最多插入的行数")
        parser.add_argument("--raw-seconds", type=float, default=5.0, help="单行插入基线的时长（秒）")
        parser.add_argument("--ratings", type=int, default=200000, help="import：生成的评价条数")
        parser.add_argument("--cases-import", type=int, default=20000, help="import：另外导入的办件条数")
        parser.add_argument("--batch", type=int, default=5000, help="import：每批条数")
        parser.add_argument("--repeats", type=int, default=40, help="analytics：每种请求的次数（默认 40）")
        parser.add_argument(
            "--backlog", type=int, default=100_000, help="docking：下级积压的评价数（另有同数办件）"
        )
        parser.add_argument("--docking-batch", type=int, default=1000, help="docking：每批上报条数")
        parser.add_argument(
            "--upload-processes", type=int, default=1, help="docking：下级同时上报的进程数（默认 1）"
        )
        parser.add_argument("--lag-rate", type=float, default=50.0, help="docking：稳态时下级每秒新增评价数")
        parser.add_argument("--lag-seconds", type=float, default=30.0, help="docking：稳态测量秒数")
        parser.add_argument("--outage-seconds", type=float, default=30.0, help="docking：上级停机秒数")
        parser.add_argument("--register", action="store_true", help=argparse_hidden())
        parser.add_argument("--rate", type=float, default=50.0, help=argparse_hidden())
        parser.add_argument("--seconds", type=float, default=30.0, help=argparse_hidden())
        parser.add_argument("--start", type=int, default=0, help=argparse_hidden())
        parser.add_argument("--since", help=argparse_hidden())
        parser.add_argument("--url", help=argparse_hidden())
        parser.add_argument("--acks", help=argparse_hidden())
        parser.add_argument("--raw-start", type=int, default=0, help=argparse_hidden())
        parser.add_argument("--dir", help=argparse_hidden())
        parser.add_argument("--receipts", type=int, default=1_000_000, help="sla：计算期限的受理次数")
        parser.add_argument("--open-orders", type=int, default=100_000, help="sla：逾期扫描的在办工单数")

    def handle(self, *args, **opts):
        action = opts["action"]
        if action.startswith("_"):
            return self._step(action, opts)
        from haocha.bench import runner

        if opts["workers"] is None:
            url = opts.get("database_url") or "sqlite://"
            opts["workers"] = default_workers("sqlite" if url.startswith("sqlite") else "postgresql")
        for name in (
            "duration",
            "connections",
            "wrk_threads",
            "workers",
            "server_threads",
            "cases",
            "ratings",
            "upload_processes",
        ):
            if opts[name] is not None and opts[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} 须为正整数")
        result: dict = {}
        try:
            if action in ("intake", "all"):
                if not opts["json"]:
                    self.stderr.write("正在进行 HTTP 评价提交压测 …")
                result.update(runner.intake(opts))
            if action in ("import", "all"):
                if not opts["json"]:
                    self.stderr.write("正在进行批量导入压测 …")
                result.update(runner.import_bench(opts))
            if action == "analytics":
                if not opts["json"]:
                    self.stderr.write(f"正在装载 {opts['ratings']:,} 条评价并压测统计请求 …")
                result.update(runner.analytics_bench(opts))
            if action == "docking":
                if not opts["json"]:
                    self.stderr.write(f"正在压测上下级对接（积压 {opts['backlog']:,} 条评价）…")
                from haocha.bench.docking import docking_bench

                result.update(docking_bench(opts))
            if action in ("sla", "all"):
                if not opts["json"]:
                    self.stderr.write("正在进行工作日期限与逾期扫描压测 …")
                result.update(sla_bench(opts))
        except runner.BenchError as exc:
            raise CommandError(str(exc)) from exc
        if opts["json"]:
            self.stdout.write(orjson.dumps(result).decode())
        else:
            self.stdout.write(summary_text(result))

    def _step(self, action: str, opts: dict):
        from haocha.bench import runner, stages

        if action == "_sla":
            from django.core.management import call_command

            from haocha.bench.sla import due_rates, sweep_rates

            call_command("migrate", interactive=False, verbosity=0)
            out = {**due_rates(opts["receipts"]), **sweep_rates(opts["open_orders"])}
        elif action == "_analytics_load":
            out = analytics_load(Path(opts["dir"]), opts["ratings"])
        elif action == "_analytics_measure":
            from haocha.bench.analytics import measure

            units = orjson.loads((Path(opts["dir"]) / "units.json").read_bytes())
            for name in ("staff", "items"):
                units[name] = {int(k): v for k, v in units[name].items()}
            end = date.fromisoformat(units["end"])
            out = {"requests": measure(opts["url"], units["key"], units, end, opts["repeats"])}
            worst = max(r["p95_ms"] for r in out["requests"].values())
            out.update(worst_p95_ms=worst, all_agree=all(r["agrees"] for r in out["requests"].values()))
        elif action.startswith("_docking"):
            from haocha.bench import docking

            if action == "_docking_seed_child":
                out = docking.seed_child(opts["backlog"], Path(opts["dir"]))
            elif action == "_docking_seed_parent":
                out = docking.seed_parent(opts["register"])
            elif action == "_docking_trickle":
                out = docking.trickle(opts["rate"], opts["seconds"], opts["start"])
            else:
                out = docking.parent_counts(opts["since"])
        elif action == "_prepare":
            out = stages.prepare(opts["cases"], opts["raw_rows"])
        elif action == "_measure":
            out = stages.measure(Path(opts["acks"]), opts["raw_start"], opts["raw_rows"], opts["raw_seconds"])
        else:
            workdir = Path(opts["dir"]) if opts["dir"] else runner.bench_dir()
            out = stages.run_import(workdir, opts["ratings"], opts["cases_import"], opts["batch"])
        self.stdout.write(orjson.dumps(out).decode())


def analytics_load(workdir: Path, ratings: int) -> dict:
    import time

    from django.db import connection
    from django.utils import timezone

    from haocha.analytics.models import RatingRollup
    from haocha.analytics.services import rollups_apply_all
    from haocha.bench.analytics import build_units, load_ratings

    units = build_units()
    end = timezone.localdate()
    load_seconds = load_ratings(units, ratings, end=end)
    started = time.perf_counter()
    rollups_apply_all()
    rollup_seconds = time.perf_counter() - started
    (workdir / "units.json").write_bytes(
        orjson.dumps({**units, "end": end.isoformat()}, option=orjson.OPT_NON_STR_KEYS)
    )
    return {
        "database": connection.vendor,
        "ratings": ratings,
        "load_ratings_per_s": round(ratings / load_seconds) if load_seconds else None,
        "load_seconds": round(load_seconds, 1),
        "rollup_seconds": round(rollup_seconds, 1),
        "rollup_ratings_per_s": round(ratings / rollup_seconds) if rollup_seconds else None,
        "rollup_rows": RatingRollup.objects.count(),
    }


def sla_bench(opts: dict) -> dict:
    """Deadlines and the overdue sweep, in a fresh bench database of their own."""
    from haocha.bench import runner

    with (
        runner.run_dir("sla", opts["keep"]) as workdir,
        runner.bench_database(opts.get("database_url"), workdir, opts["keep"]) as url,
    ):
        args = [
            "bench",
            "_sla",
            "--receipts",
            str(opts["receipts"]),
            "--open-orders",
            str(opts["open_orders"]),
        ]
        out = runner.run_step(args, url, timeout=1800) or {}
    return {f"sla_{k}" if k == "database" else k: v for k, v in out.items()}


def argparse_hidden():
    import argparse

    return argparse.SUPPRESS


def summary_text(r: dict) -> str:
    lines = []
    if "http_ratings_per_s" in r:
        durable = "是" if r["durable"] else "否"
        lines += [
            f"HTTP 评价提交（{r['database']}，{r['workers']} 个工作进程，{r['connections']} 个连接，"
            f"{r['duration_s']:.0f} 秒）：",
            f"  速度 {r['http_ratings_per_s']:,.0f} 条/秒；延迟 p50 {r['p50_ms']} 毫秒，p99 {r['p99_ms']} 毫秒；"
            f"每条评价服务器 CPU {r['server_cpu_ms_per_rating']} 毫秒",
            f"  确认 {r['acknowledged']} 条，已存储 {r['stored']} 条，丢失 {r['lost']} 条，"
            f"错误 {r['errors']} 个，重放 {r['replayed']} 条",
            f"  同一数据库单行插入（每行一次提交）{r['raw_inserts_per_s']:,.0f} 行/秒，HTTP/单行 = {r['ratio']}",
            f"  持久化设置：{r['durability']}（持久：{durable}）",
            f"  服务器进程树 CPU {r['server_cpu_s']} 秒（用户态+内核态，除以已存储条数），wrk CPU {r['wrk_cpu_s']} 秒",
        ]
    if "import_ratings_per_s" in r:
        lines += [
            f"批量导入（{r['database']}）：评价 {r['import_ratings']} 条，导入 {r['import_ratings_imported']} 条，"
            f"用时 {r['import_seconds']} 秒，速度 {r['import_ratings_per_s']:,.0f} 条/秒；"
            f"重复执行 {r['import_rerun_per_s']:,.0f} 条/秒（全部跳过 {r['import_rerun_duplicates']} 条）",
        ]
        if r.get("import_db_copy_per_s"):
            lines.append(
                f"  数据库自身复制同样的 {r['import_db_copy_rows']} 行（INSERT … SELECT，每批一次提交，"
                f"无 Python 逐行处理）{r['import_db_copy_per_s']:,.0f} 行/秒，导入/复制 = {r['import_ratio']}"
            )
        if "import_cases_per_s" in r:
            lines.append(f"  办件导入 {r['import_cases']} 条，速度 {r['import_cases_per_s']:,.0f} 条/秒")
    if "due_per_s" in r:
        lines += [
            f"工作日期限：{r['due_receipts']:,} 次计算，{r['due_per_s']:,} 次/秒（逐日推算基线 "
            f"{r['due_baseline_day_walk_per_s']:,} 次/秒，倍数 {r['due_ratio']}，不一致 {r['due_mismatches']} 次）",
            f"逾期扫描（{r['sla_database']}）：在办工单 {r['sweep_open_orders']:,} 张，逾期 {r['sweep_overdue_found']:,} 张，"
            f"督办 {r['sweep_escalations']:,} 次，用时 {r['sweep_seconds']} 秒（{r['sweep_escalations_per_s']:,} 次/秒）；"
            f"无新增逾期时再次扫描 {r['sweep_steady_seconds']} 秒；纯 SQL 查找逾期 {r['sweep_baseline_select_seconds']} 秒",
        ]
    return "\n".join(lines)
