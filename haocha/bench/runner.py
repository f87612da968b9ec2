"""Bench orchestration: a fresh database, the real server as a subprocess, wrk, then the raw-insert baseline."""

import contextlib
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.conf import settings

from . import wrk

MARKER = "haocha bench"  # COMMENT ON DATABASE: a PostgreSQL database the bench may drop and recreate


class BenchError(RuntimeError):
    pass


def bench_dir() -> Path:
    path = Path(settings.VAR_DIR) / "bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def run_dir(name: str, keep: bool):
    """var/bench/<name>-<time>-<pid>/ for one run's files; removed afterwards unless kept or failed."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")  # noqa: DTZ005 - a directory name
    path = bench_dir() / f"{name}-{stamp}-{os.getpid()}"
    path.mkdir()
    yield path  # an exception leaves the directory (server log, script) for inspection
    if not keep:
        shutil.rmtree(path, ignore_errors=True)


def _env(database_url: str) -> dict:
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(settings.BASE_DIR), env.get("PYTHONPATH", "")) if p)
    env.setdefault("HAOCHA_LOG_LEVEL", "ERROR")
    return env


def run_step(args: list[str], database_url: str, timeout: float, env: dict | None = None) -> dict | None:
    """Run `haocha <args>` against the bench database (`env`: more variables); return the last JSON line
    it prints, if any."""
    cmd = [sys.executable, "-m", "haocha.cli", *args]
    try:
        proc = subprocess.run(
            cmd,
            env={**_env(database_url), **(env or {})},
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"步骤 {' '.join(args[:2])} 超过 {timeout:.0f} 秒，已终止") from exc
    if proc.returncode != 0:
        raise BenchError(f"步骤 {' '.join(args[:2])} 失败（{proc.returncode}）：\n{proc.stderr[-3000:]}")
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return None


# --- the bench database --------------------------------------------------------------------------


def _pg_admin(url: str):
    import psycopg

    p = urlparse(url)
    return psycopg.connect(
        host=p.hostname or "127.0.0.1",
        port=p.port or 5432,
        user=unquote(p.username or "") or "postgres",
        password=unquote(p.password or "") or None,
        dbname="postgres",
        autocommit=True,
        connect_timeout=10,
    )


@contextlib.contextmanager
def bench_database(database_url: str | None, workdir: Path, keep: bool):
    """Yield the URL of a fresh bench database; drop it afterwards unless `keep`.

    SQLite: a file in this run's directory under var/bench/ (or the path given). PostgreSQL: the database
    named in the URL is created; an existing one is dropped only if an earlier bench created it (its
    comment says so).
    """
    if not database_url:
        database_url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    scheme = urlparse(database_url).scheme
    if scheme == "sqlite":
        from haocha.env import database_from_url

        path = Path(database_from_url(database_url, settings.BASE_DIR)["NAME"])
        if path.exists() and bench_dir() not in path.parents:
            raise BenchError(f"{path} 已存在且不在 {bench_dir()} 下，压测不会覆盖它")
        files = [path, *(Path(f"{path}-{end}") for end in ("wal", "shm", "journal"))]
        for f in files:
            f.unlink(missing_ok=True)
        failed = False
        try:
            yield database_url
        except BaseException:
            failed = True  # like the run's directory, a failed run's database stays for inspection
            raise
        finally:
            if not keep and not failed:
                for f in files:
                    f.unlink(missing_ok=True)
        return
    if scheme not in ("postgres", "postgresql"):
        raise BenchError(f"不支持的数据库：{scheme}")
    from psycopg import sql

    dbname = unquote(urlparse(database_url).path.lstrip("/"))
    if not dbname or dbname in ("postgres", "template0", "template1"):
        raise BenchError(
            "请在 URL 中给出专用的压测数据库名，例如 postgres://postgres@127.0.0.1:5432/haocha_bench"
        )
    with _pg_admin(database_url) as admin:
        row = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [dbname]
        ).fetchone()
        if row is not None:
            if row[0] != MARKER:
                raise BenchError(f"数据库 {dbname} 已存在且不是压测创建的，压测不会覆盖它")
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(dbname)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        admin.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(dbname), sql.Literal(MARKER))
        )
    try:
        yield database_url
    finally:
        if not keep:
            with _pg_admin(database_url) as admin:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
                )


# --- the server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _group_cpu_seconds(pgid: int) -> float:
    """User + system CPU of every live process in a process group (from /proc)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if int(fields[2]) == pgid:  # field 5 (pgrp) counted from after the command name
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


class Server:
    """`haocha serve` as a subprocess in its own process group; always stopped on exit."""

    def __init__(
        self,
        database_url: str,
        *,
        workers: int,
        threads: int | None,
        log_path: Path,
        server: str | None = None,
    ):
        self.database_url = database_url
        self.server = server
        self.workers = workers
        self.threads = threads
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.proc = None

    def __enter__(self):
        cmd = [
            sys.executable,
            "-m",
            "haocha.cli",
            "serve",
            "--no-migrate",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]
        if self.threads:
            cmd += ["--threads", str(self.threads)]
        if self.server:
            cmd += ["--server", self.server]
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            cmd,
            env=_env(self.database_url),
            cwd=settings.BASE_DIR,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self._wait_ready(60)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"服务器启动失败：\n{self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            raise BenchError(f"服务器 {timeout:.0f} 秒内未就绪：\n{self.log_path.read_text()[-3000:]}")
        # every worker loads Django and opens its connection before the measurement
        for _ in range(20 * self.workers):
            with urllib.request.urlopen(self.url + "/healthz", timeout=5) as r:
                r.read()

    def cpu_seconds(self) -> float:
        return _group_cpu_seconds(self.proc.pid) if self.proc else 0.0

    def stop(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        # workers left behind by a master that died first
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc = None
        self.log.close()

    def __exit__(self, *exc):
        self.stop()
        return False


# --- the benches ---------------------------------------------------------------------------------

_DURABILITY_KEYS = (
    "journal_mode",
    "synchronous",
    "fsync",
    "synchronous_commit",
    "full_page_writes",
    "wal_sync_method",
    "server_version",
)


def intake(opts: dict) -> dict:
    """HTTP rating intake under wrk against the production server, and the raw single-row insert rate."""
    if not wrk.wrk_available():
        raise BenchError("未找到 wrk（/usr/bin/wrk）")
    cases, reserve = opts["cases"], opts["raw_rows"]
    with (
        run_dir("intake", opts["keep"]) as workdir,
        bench_database(opts.get("database_url"), workdir, opts["keep"]) as url,
    ):
        started = time.perf_counter()
        run_step(["migrate", "--no-input", "-v0", "--skip-checks"], url, timeout=600)
        ref = run_step(["bench", "_prepare", "--cases", str(cases), "--raw-rows", str(reserve)], url, 900)
        setup_seconds = time.perf_counter() - started
        ack_path = workdir / "acks.txt"
        script = wrk.write_script(
            workdir / "intake.lua",
            api_key=ref["api_key"],
            cases=cases,
            threads=opts["wrk_threads"],
            ack_path=ack_path,
        )
        server = Server(
            url,
            workers=opts["workers"],
            threads=opts["server_threads"],
            log_path=workdir / "server.log",
            server=opts.get("server"),
        )
        with server:
            cpu_before = server.cpu_seconds()
            usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            try:
                load = wrk.run_wrk(
                    server.url + "/api/ratings",
                    script,
                    threads=opts["wrk_threads"],
                    connections=opts["connections"],
                    duration=opts["duration"],
                )
            except (RuntimeError, ValueError) as exc:
                raise BenchError(str(exc)) from exc
            usage_after = resource.getrusage(resource.RUSAGE_CHILDREN)
            server_cpu = server.cpu_seconds() - cpu_before
        # the server is stopped (in-flight requests finished) before anything is counted
        measured = run_step(
            [
                "bench",
                "_measure",
                "--acks",
                str(ack_path),
                "--raw-start",
                str(cases),
                "--raw-rows",
                str(reserve),
                "--raw-seconds",
                str(opts["raw_seconds"]),
            ],
            url,
            timeout=600,
        )
    seconds = load["duration_us"] / 1e6
    statuses = {int(k): v for k, v in load["statuses"].items()}
    acknowledged = statuses.get(201, 0)
    new = acknowledged - load["replayed"]
    socket_errors = sum(v for k, v in load["socket_errors"].items() if k != "status")
    http_rate = new / seconds if seconds else 0.0
    raw_rate = measured["raw_inserts_per_s"]
    wrk_cpu = (usage_after.ru_utime + usage_after.ru_stime) - (usage_before.ru_utime + usage_before.ru_stime)
    lat = load["latency_us"]
    stored = measured["stored"]
    return {
        "http_ratings_per_s": round(http_rate, 1),
        "raw_inserts_per_s": raw_rate,
        "ratio": round(http_rate / raw_rate, 3) if raw_rate else None,
        "p50_ms": round(lat["p50"] / 1000, 2),
        "p90_ms": round(lat["p90"] / 1000, 2),
        "p99_ms": round(lat["p99"] / 1000, 2),
        "max_ms": round(lat["max"] / 1000, 2),
        "database": measured["database"],
        "durable": measured["durable"],
        "durability": {k: v for k, v in measured.items() if k in _DURABILITY_KEYS},
        "acknowledged": acknowledged,
        "replayed": load["replayed"],
        "stored": measured["stored"],
        "lost": measured["lost"],
        "stored_unacknowledged": measured["stored_unacknowledged"],
        "errors": sum(v for k, v in statuses.items() if k != 201) + socket_errors,
        "status_counts": {str(k): v for k, v in sorted(statuses.items())},
        "socket_errors": load["socket_errors"],
        "requests": load["requests"],
        "workers": opts["workers"],
        "server_threads": opts["server_threads"],
        "server": opts.get("server") or ("waitress" if url.startswith("sqlite") else "granian"),
        "connections": opts["connections"],
        "wrk_threads": opts["wrk_threads"],
        "duration_s": round(seconds, 3),
        "cases": cases,
        "server_cpu_s": round(server_cpu, 2),
        # the server's process tree (the server and its workers, from /proc) per rating it stored
        "server_cpu_ms_per_rating": round(server_cpu * 1000 / stored, 3) if stored else None,
        "wrk_cpu_s": round(wrk_cpu, 2),
        "raw_rows": measured["raw_rows"],
        "setup_seconds": round(setup_seconds, 1),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def import_bench(opts: dict) -> dict:
    """`haocha import` of generated ratings (and cases) into a fresh bench database."""
    with (
        run_dir("import", opts["keep"]) as workdir,
        bench_database(opts.get("database_url"), workdir, opts["keep"]) as url,
    ):
        run_step(["migrate", "--no-input", "-v0", "--skip-checks"], url, timeout=600)
        return run_step(
            [
                "bench",
                "_import",
                "--dir",
                str(workdir),
                "--ratings",
                str(opts["ratings"]),
                "--cases-import",
                str(opts["cases_import"]),
                "--batch",
                str(opts["batch"]),
            ],
            url,
            timeout=3600,
        )


def analytics_bench(opts: dict) -> dict:
    """A year of ratings in bulk, rollups applied, then dashboard/ranking requests over HTTP vs direct SQL."""
    with (
        run_dir("analytics", opts["keep"]) as workdir,
        bench_database(opts.get("database_url"), workdir, opts["keep"]) as url,
    ):
        run_step(["migrate", "--no-input", "-v0", "--skip-checks"], url, timeout=600)
        loaded = run_step(
            ["bench", "_analytics_load", "--dir", str(workdir), "--ratings", str(opts["ratings"])],
            url,
            timeout=6 * 3600,
        )
        with Server(url, workers=opts["workers"], threads=1, log_path=workdir / "server.log") as server:
            measured = run_step(
                [
                    "bench",
                    "_analytics_measure",
                    "--dir",
                    str(workdir),
                    "--url",
                    server.url,
                    "--repeats",
                    str(opts["repeats"]),
                ],
                url,
                timeout=3600,
            )
        return {**loaded, **measured}
