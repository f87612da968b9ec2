"""`haocha bench`: a short real run (granian + wrk on a fresh SQLite file) gives the figures, nothing lost."""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from haocha.bench.wrk import parse_output

pytestmark = pytest.mark.skipif(not Path("/usr/bin/wrk").exists(), reason="wrk 未安装")

KEYS = {
    "http_ratings_per_s",
    "raw_inserts_per_s",
    "ratio",
    "p50_ms",
    "p99_ms",
    "database",
    "durable",
    "acknowledged",
    "stored",
    "lost",
    "errors",
    "workers",
    "duration_s",
    "server_cpu_ms_per_rating",
}


def test_intake_bench_smoke():
    bench_dir = Path(settings.VAR_DIR) / "bench"
    before = set(bench_dir.glob("intake-*"))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    cmd = [sys.executable, "-m", "haocha.cli", "bench", "intake", "--json"]
    cmd += ["--duration", "3", "--cases", "10000", "--connections", "8", "--raw-seconds", "1"]
    cmd += ["--raw-rows", "2000", "--workers", "2"]
    proc = subprocess.run(
        cmd, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result.keys() >= KEYS
    assert result["database"] == "sqlite" and result["durable"] is True
    assert result["durability"] == {"journal_mode": "wal", "synchronous": "FULL"}
    assert result["acknowledged"] > 0 and result["errors"] == 0
    # every acknowledged rating is stored; requests cut off when wrk stopped may add a few unacknowledged;
    # a wrk thread that runs out of its cases rates them again and gets the originals back (replays)
    assert result["lost"] == 0
    new = result["acknowledged"] - result["replayed"]
    assert new <= result["stored"] <= new + result["connections"]
    assert result["http_ratings_per_s"] > 0 and result["raw_inserts_per_s"] > 0
    assert 0 < result["p50_ms"] <= result["p99_ms"]
    cpu_ms = result["server_cpu_s"] * 1000 / result["stored"]
    assert 0 < result["server_cpu_ms_per_rating"] == pytest.approx(cpu_ms, rel=0.01, abs=0.002)
    assert set(bench_dir.glob("intake-*")) <= before  # the run's directory and database are removed


def test_wrk_output_parsing():
    text = (
        "Running 3s test @ http://127.0.0.1:1/api/ratings\n"
        "Requests/sec:    812.50\n"
        'HAOCHA_RESULT {"requests":10,"duration_us":3000000,"bytes":1,"acknowledged":9,"replayed":0,'
        '"statuses":{"201":9,"409":1},"socket_errors":{"connect":0,"read":0,"write":0,"status":1,'
        '"timeout":0},"latency_us":{"p50":1500,"p90":2000,"p99":9000,"max":9100,"mean":1700.0}}\n'
    )
    result = parse_output(text)
    assert result["wrk_requests_per_s"] == 812.5
    assert result["statuses"] == {"201": 9, "409": 1} and result["latency_us"]["p99"] == 9000


def test_analytics_bench_smoke():
    """A small year through the loader and the rollups; every request answers what direct SQL answers."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    cmd = [sys.executable, "-m", "haocha.cli", "bench", "analytics", "--json", "--ratings", "3000"]
    cmd += ["--repeats", "3", "--workers", "1"]
    proc = subprocess.run(
        cmd, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["ratings"] == 3000 and result["database"] == "sqlite"
    assert result["all_agree"] is True, result["requests"]
    assert set(result["requests"]) >= {
        "city_year_figures",
        "departments_year_breakdown",
        "windows_month_ranking",
    }
    assert all(r["p95_ms"] > 0 for r in result["requests"].values())


def test_import_bench_smoke():
    """A small import with its database-only baseline: the same rows copied again by the database itself."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    bench_dir = Path(settings.VAR_DIR) / "bench"
    before = set(bench_dir.glob("import-*"))
    cmd = [sys.executable, "-m", "haocha.cli", "bench", "import", "--json", "--ratings", "3000"]
    cmd += ["--cases-import", "200", "--batch", "1000", "--keep"]
    proc = subprocess.run(
        cmd, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["database"] == "sqlite"
    assert result["import_ratings_imported"] == 3000 and result["import_ratings_rejected"] == 0
    assert result["import_rerun_duplicates"] == 3000
    assert result["import_cases_imported"] == 200
    # every imported row was copied once more, by one INSERT … SELECT a batch
    assert result["import_db_copy_rows"] == 3000
    assert result["import_db_copy_per_s"] > 0
    ratio = result["import_ratings_per_s"] / result["import_db_copy_per_s"]
    assert result["import_ratio"] == pytest.approx(ratio, abs=0.002)
    # the copies land after the imported rows in the indexes (ids and times), as the import's rows did
    (run,) = set(bench_dir.glob("import-*")) - before
    try:
        with sqlite3.connect(run / "bench.sqlite3") as db:
            rows = db.execute(
                "SELECT idempotency_scope, MIN(public_id), MAX(public_id), MIN(rated_at), MAX(rated_at), "
                "COUNT(DISTINCT case_id) FROM evaluations_rating GROUP BY 1"
            ).fetchall()
    finally:
        shutil.rmtree(run)
    by_scope = {row[0]: row[1:] for row in rows}
    imported, copied = by_scope["import"], by_scope["bench-copy"]
    assert copied[0] > imported[1] and copied[2] > imported[3]
    assert imported[4] == copied[4] == 3000 - result["import_follow_ups"]


def _postgres_reachable() -> bool:
    try:
        import psycopg

        psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", connect_timeout=3).close()
    except Exception:
        return False
    return True


def test_docking_bench_smoke():
    """A small backlog through the real upload path to a parent on PostgreSQL, then steady intake and an
    outage: the figures the issue names, nothing lost, nothing doubled."""
    if not _postgres_reachable():
        if os.environ.get("HAOCHA_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL is required for the docking bench")
        pytest.skip("PostgreSQL 不可用")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    cmd = [sys.executable, "-m", "haocha.cli", "bench", "docking", "--json", "--backlog", "1500"]
    cmd += ["--lag-seconds", "4", "--outage-seconds", "4", "--lag-rate", "20"]
    cmd += ["--database-url", "postgres://postgres@127.0.0.1:5432/haocha_bench_docking_smoke"]
    proc = subprocess.run(
        cmd, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    expected = {"upload_records_per_s", "backlog_records", "lag_p95_s", "lost", "duplicated", "outage_s"}
    expected |= {"catch_up_s", "parent_import_per_s", "ratio", "parent_database"}
    assert expected <= set(result)
    assert result["backlog_records"] == 3000 and result["parent_database"] == "postgresql"
    assert result["lost"] == 0 and result["duplicated"] == 0
    assert result["ratio"] == pytest.approx(
        result["upload_records_per_s"] / result["parent_import_per_s"], rel=0.01
    )
    assert result["lag_samples"] > 0 and result["lag_p95_s"] >= 0
