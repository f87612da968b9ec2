"""`haocha bench docking`: a child's backlog uploaded to a parent through the real path (the child's
`haocha docking upload` → the parent's `haocha serve` → /api/docking/upload), beside the parent's own bulk
import of the same records in the same run; then the lag under steady intake at the child with its worker
running, and an outage of the parent caught up. Child on SQLite, parent on PostgreSQL (both on this machine).

Keys: upload_records_per_s, backlog_records, lag_p95_s, lost, duplicated, outage_s, catch_up_s,
parent_import_per_s, ratio (upload ÷ import), parent_database.
"""

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import orjson
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from haocha.bench import runner
from haocha.bench.setup import CLIENT_NAME, build_reference, case_no, create_cases

CHILD_REGION = "430100"  # the bench reference is one city; its system uploads to a parent over it


# --- steps run inside a bench database -----------------------------------------------------------------


def seed_child(backlog: int, workdir: Path) -> dict:
    """Reference data, `backlog` finished cases and a rating each; the import files of the same records."""
    from haocha.catalogue.models import Case
    from haocha.evaluations.models import IndicatorSet, Rating

    ref = build_reference()
    create_cases(ref, 0, backlog)
    aset = IndicatorSet.objects.get(code="offline", is_active=True)
    now = timezone.now()
    ids = list(Case.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), 5000):
        with transaction.atomic():
            Rating.objects.bulk_create(
                [
                    Rating(
                        case_id=pk,
                        department_id=ref["department_id"],
                        item_id=ref["item_id"],
                        region_id=ref["region_id"],
                        level="satisfied" if i % 100 else "dissatisfied",
                        is_bad=not i % 100,
                        comment="" if i % 100 else "窗口排队时间太长",
                        indicator_set=aset,
                        channel="tablet",
                        rated_at=now - timedelta(hours=2),
                    )
                    for i, pk in enumerate(ids[start : start + 5000], start)
                ],
                batch_size=1000,
            )
    _export(workdir)
    return {"cases": backlog, "ratings": backlog}


def _export(workdir: Path) -> None:
    """The same cases and ratings as `haocha import` files (what the parent would import instead)."""
    from haocha.catalogue.models import Case
    from haocha.evaluations.levels import to_satisfaction
    from haocha.evaluations.models import Rating

    with open(workdir / "cases.jsonl", "wb") as out:
        for no, code, dept, accepted, finished in Case.objects.order_by("pk").values_list(
            "case_no", "item__code", "department__credit_code", "accepted_at", "finished_at"
        ):
            row = {
                "projectNo": no,
                "taskCode": code,
                "proDepartCode": dept,
                "userProp": "1",
                "userName": "申*",
                "proStatus": "finished",
                "acceptDate": accepted.isoformat(),
                "finishDate": finished.isoformat(),
            }
            out.write(orjson.dumps(row) + b"\n")
    with open(workdir / "ratings.jsonl", "wb") as out:
        for no, level, comment, rated_at in Rating.objects.order_by("pk").values_list(
            "case__case_no", "level", "comment", "rated_at"
        ):
            row = {
                "projectNo": no,
                "pf": "4",
                "satisfaction": to_satisfaction(level),
                "writingEvaluation": comment,
                "assessTime": rated_at.isoformat(),
                "assessNumber": 1,
            }
            out.write(orjson.dumps(row) + b"\n")


def seed_parent(register: bool) -> dict:
    """The same reference data; with `register`, the child system over the city (its app id and secret)."""
    from haocha.integrations.docking.services import child_register

    build_reference()
    if not register:
        return {}
    child, secret = child_register(name="压测下级系统", region_code=CHILD_REGION)
    return {"app_id": child.app_id, "secret": secret}


def trickle(rate: float, seconds: float, start: int) -> dict:
    """Finished cases rated at the child at `rate` a second for `seconds` (the steady intake)."""
    from haocha.accounts.models import ApiClient
    from haocha.catalogue.models import Case
    from haocha.evaluations.models import IndicatorSet, Rating
    from haocha.organisations.models import Region

    ref = {
        "client_id": ApiClient.objects.get(name=CLIENT_NAME).pk,
        "region_id": Region.objects.get(code=CHILD_REGION).pk,
    }
    first = Case.objects.order_by("pk").first()
    ref.update(item_id=first.item_id, department_id=first.department_id)
    aset = IndicatorSet.objects.get(code="offline", is_active=True)
    made, began, index = 0, time.monotonic(), start
    while time.monotonic() - began < seconds:
        create_cases(ref, index, 1, finished_ago=timedelta(minutes=30))
        case = Case.objects.get(case_no=case_no(index))
        Rating.objects.create(
            case=case,
            department_id=case.department_id,
            item_id=case.item_id,
            region_id=case.region_id,
            level="satisfied",
            indicator_set=aset,
            channel="tablet",
            rated_at=timezone.now(),
        )
        made, index = made + 1, index + 1
        pause = began + made / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    return {"made": made, "next": index}


def parent_counts(since_iso: str | None) -> dict:
    from datetime import datetime

    from haocha.evaluations.models import Rating
    from haocha.integrations.docking import monitor
    from haocha.integrations.docking.models import ChildSystem, ReceivedRecord, RecordKind

    child = ChildSystem.objects.get()
    ratings = Rating.objects.filter(source=child.client).count()
    received = ReceivedRecord.objects.filter(child=child, kind=RecordKind.RATING)
    lags = []
    if since_iso:
        since = datetime.fromisoformat(since_iso)
        lags = sorted(
            (r - h).total_seconds()
            for r, h in received.filter(happened_at__gte=since).values_list("received_at", "happened_at")
        )
    p95 = monitor.p95(lags)
    return {"ratings": ratings, "received": received.count(), "lag_p95_s": p95, "lag_samples": len(lags)}


# --- the bench -----------------------------------------------------------------------------------------


def _pending(child_db: Path) -> int:
    with sqlite3.connect(child_db, timeout=60) as db:
        return db.execute("select count(*) from docking_upload where status <> 'accepted'").fetchone()[0]


def _child_ratings(child_db: Path) -> int:
    with sqlite3.connect(child_db, timeout=60) as db:
        return db.execute("select count(*) from evaluations_rating").fetchone()[0]


def _step(args, url, timeout, extra=None) -> dict:
    return runner.run_step(args, url, timeout, env=extra) or {}


def _wait(check, timeout: float, what: str) -> float:
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if check():
            return time.monotonic() - began
        time.sleep(0.5)
    raise runner.BenchError(f"{timeout:.0f} 秒内未完成：{what}")


def docking_bench(opts: dict) -> dict:
    backlog = opts["backlog"]
    pg = opts.get("database_url") or "postgres://postgres@127.0.0.1:5432/haocha_bench_parent"
    if not pg.startswith("postgres"):
        raise runner.BenchError("docking 压测的上级数据库须为 PostgreSQL（--database-url postgres://…）")
    import_url = pg.rsplit("/", 1)[0] + "/" + pg.rsplit("/", 1)[1] + "_import"
    with (
        runner.run_dir("docking", opts["keep"]) as workdir,
        runner.bench_database(None, workdir, opts["keep"]) as child,
        runner.bench_database(pg, workdir, opts["keep"]) as parent,
        runner.bench_database(import_url, workdir, opts["keep"]) as import_db,
    ):
        child_db = workdir / "bench.sqlite3"
        for url in (child, parent, import_db):
            runner.run_step(["migrate", "--no-input", "-v0", "--skip-checks"], url, timeout=900)
        args = ["bench", "_docking_seed_child", "--dir", str(workdir), "--backlog", str(backlog)]
        runner.run_step(args, child, timeout=1800)
        keys = runner.run_step(["bench", "_docking_seed_parent", "--register"], parent, timeout=300)
        runner.run_step(["bench", "_docking_seed_parent"], import_db, timeout=300)

        # the parent's own bulk import of the same records (the baseline, same machine, same run)
        began = time.monotonic()
        runner.run_step(["import", str(workdir / "cases.jsonl"), "--kind", "cases"], import_db, timeout=3600)
        runner.run_step(
            ["import", str(workdir / "ratings.jsonl"), "--kind", "ratings"], import_db, timeout=3600
        )
        import_s = time.monotonic() - began

        server = runner.Server(
            parent, workers=opts["workers"] or 2, threads=None, log_path=workdir / "parent.log"
        )
        to_parent = {
            "HAOCHA_PARENT_URL": server.url,
            "HAOCHA_PARENT_APP_ID": keys["app_id"],
            "HAOCHA_PARENT_SECRET": keys["secret"],
            "HAOCHA_DOCKING_BATCH": str(opts["docking_batch"]),
        }
        worker = None
        try:
            server.__enter__()
            began = time.monotonic()
            # several `docking upload` processes at once, as several workers would (the outbox lets each
            # message go to one of them): the child builds a batch while the parent applies another
            with ThreadPoolExecutor(opts["upload_processes"]) as pool:
                for done in [
                    pool.submit(_step, ["docking", "upload"], child, 3600, to_parent)
                    for _ in range(opts["upload_processes"])
                ]:
                    done.result()
            upload_s = time.monotonic() - began
            if _pending(child_db):
                raise runner.BenchError(f"上报后仍有 {_pending(child_db)} 条未被接收")

            # steady intake at the child with its worker running
            worker = subprocess.Popen(
                [sys.executable, "-m", "haocha.cli", "worker", "--interval", "1", "--sweep-every", "3600"],
                env={**runner._env(child), **to_parent},
                cwd=settings.BASE_DIR,
                stdout=open(workdir / "child-worker.log", "w"),  # noqa: SIM115
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            time.sleep(5)  # the worker's first round (its rollups of the backlog) before the measurement
            since = timezone.now().isoformat()
            rate, seconds = opts["lag_rate"], opts["lag_seconds"]
            made = _step(
                [
                    "bench",
                    "_docking_trickle",
                    "--rate",
                    str(rate),
                    "--seconds",
                    str(seconds),
                    "--start",
                    str(backlog),
                ],
                child,
                600,
            )
            _wait(lambda: _pending(child_db) == 0, 300, "稳态上报")
            steady = _step(["bench", "_docking_counts", "--since", since], parent, 300)

            # the parent down while the child keeps rating, then caught up
            outage = opts["outage_seconds"]
            server.stop()
            began = time.monotonic()
            trickle_proc = subprocess.Popen(
                [sys.executable, "-m", "haocha.cli", "bench", "_docking_trickle", "--rate", str(rate),
                 "--seconds", str(outage), "--start", str(made["next"])],
                env=runner._env(child), cwd=settings.BASE_DIR, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            trickle_proc.wait(timeout=outage + 120)
            time.sleep(max(0.0, outage - (time.monotonic() - began)))
            port = server.port
            server = runner.Server(
                parent, workers=opts["workers"] or 2, threads=None, log_path=workdir / "parent2.log"
            )
            server.port, server.url = port, f"http://127.0.0.1:{port}"
            server.__enter__()
            catch_up_s = _wait(lambda: _pending(child_db) == 0, 900, "停机后补报")
            final = _step(["bench", "_docking_counts"], parent, 300)
        finally:
            if worker is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(worker.pid, signal.SIGTERM)
                worker.wait(timeout=30)
            server.stop()
        records = 2 * backlog
        child_total = _child_ratings(child_db)
        upload_rate = records / upload_s
        import_rate = records / import_s
        return {
            "backlog_records": records,
            "upload_processes": opts["upload_processes"],
            "upload_seconds": round(upload_s, 1),
            "upload_records_per_s": round(upload_rate),
            "parent_import_seconds": round(import_s, 1),
            "parent_import_per_s": round(import_rate),
            "ratio": round(upload_rate / import_rate, 3),
            "lag_rate_per_s": rate,
            "lag_p95_s": steady.get("lag_p95_s"),
            "lag_samples": steady.get("lag_samples"),
            "outage_s": outage,
            "catch_up_s": round(catch_up_s, 1),
            "lost": max(0, child_total - final["ratings"]),
            "duplicated": max(0, final["received"] - final["ratings"])
            + max(0, final["ratings"] - child_total),
            "parent_database": "postgresql",
            "child_database": "sqlite",
        }
