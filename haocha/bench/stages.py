"""Bench steps that run inside a subprocess whose DATABASE_URL points at the bench database."""

import time
import uuid
from datetime import timedelta
from pathlib import Path

import orjson
from django.db import connection, transaction
from django.utils import timezone

from haocha.catalogue.models import Case
from haocha.core.ids import uuid7, uuid7_hex
from haocha.evaluations.case_import import import_cases
from haocha.evaluations.importer import import_ratings
from haocha.evaluations.models import Rating

from . import setup


def durability() -> dict:
    """The durability settings the database actually runs with (read from it, not from our settings)."""
    connection.ensure_connection()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA journal_mode")
            journal = cursor.fetchone()[0]
            cursor.execute("PRAGMA synchronous")
            sync = int(cursor.fetchone()[0])
            names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
            return {
                "database": "sqlite",
                "journal_mode": journal,
                "synchronous": names.get(sync, str(sync)),
                # NORMAL in WAL mode can lose the last commits on power loss; FULL/EXTRA sync every commit.
                "durable": sync >= 2,
            }
        settings = {}
        for name in ("fsync", "synchronous_commit", "full_page_writes", "wal_sync_method", "server_version"):
            cursor.execute(f"SHOW {name}")
            settings[name] = cursor.fetchone()[0]
        return {
            "database": connection.vendor,
            **settings,
            "durable": settings["fsync"] == "on"
            and settings["synchronous_commit"] in ("on", "local", "remote_write", "remote_apply"),
        }


def prepare(cases: int, reserve: int) -> dict:
    """Reference data plus `cases` finished cases for the HTTP load and `reserve` more for raw inserts."""
    ref = setup.build_reference()
    started = time.perf_counter()
    setup.create_cases(ref, 0, cases + reserve)
    ref["cases_seconds"] = round(time.perf_counter() - started, 3)
    ref["cases"] = cases
    ref["reserve"] = reserve
    return ref


def _stored_case_nos() -> set[str]:
    return set(Rating.objects.filter(kind=Rating.Kind.FIRST).values_list("case__case_no", flat=True))


def _raw_columns() -> list:
    return [f for f in Rating._meta.concrete_fields if not f.primary_key]


def raw_insert_rate(reserve_start: int, reserve: int, seconds: float) -> dict:
    """Single-row INSERT + COMMIT (autocommit) through the same driver, of rows the server stored."""
    fields = _raw_columns()
    qn = connection.ops.quote_name
    table = qn(Rating._meta.db_table)
    cols = ", ".join(qn(f.column) for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {cols} FROM {table} ORDER BY {qn('id')} LIMIT 1000")
        samples = [list(r) for r in cursor.fetchall()]
    if not samples:
        return {"raw_inserts_per_s": 0.0, "raw_rows": 0, "raw_seconds": 0.0}
    case_ids = list(
        Case.objects.filter(
            case_no__in=[setup.case_no(i) for i in range(reserve_start, reserve_start + reserve)]
        ).values_list("pk", flat=True)
    )
    pos_public = [f.attname for f in fields].index("public_id")
    pos_case = [f.attname for f in fields].index("case_id")
    native_uuid = connection.features.has_native_uuid_field
    mark = "?" if connection.vendor == "sqlite" else "%s"
    sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join([mark] * len(fields))})"
    if connection.features.can_return_columns_from_insert:
        sql += f" RETURNING {qn('id')}"  # as the ORM's create() does
    connection.ensure_connection()
    raw = connection.connection  # the DB-API connection, in autocommit: every INSERT is its own commit
    assert connection.get_autocommit()
    cursor = raw.cursor()
    n = 0
    started = time.perf_counter()
    deadline = started + seconds
    try:
        while n < len(case_ids) and time.perf_counter() < deadline:
            row = samples[n % len(samples)]
            row[pos_public] = uuid7() if native_uuid else uuid7().hex  # as the model's default
            row[pos_case] = case_ids[n]
            cursor.execute(sql, row)
            cursor.fetchall()
            n += 1
    finally:
        cursor.close()
    elapsed = time.perf_counter() - started
    return {"raw_inserts_per_s": round(n / elapsed, 1), "raw_rows": n, "raw_seconds": round(elapsed, 3)}


def measure(ack_path: Path, reserve_start: int, reserve: int, raw_seconds: float) -> dict:
    """Compare what wrk saw acknowledged with what is stored, then time raw single-row inserts."""
    acked = {line.strip() for line in Path(ack_path).read_text().splitlines() if line.strip()}
    stored_nos = _stored_case_nos()
    lost = acked - stored_nos
    result = {
        **durability(),
        "stored": len(stored_nos),
        "acknowledged_distinct": len(acked),
        "lost": len(lost),
        "lost_sample": sorted(lost)[:10],
        "stored_unacknowledged": len(stored_nos - acked),
    }
    result.update(raw_insert_rate(reserve_start, reserve, raw_seconds))
    return result


def _assess_time(now, seconds_ago: float) -> str:
    return (
        (now - timedelta(seconds=seconds_ago))
        .astimezone(timezone.get_default_timezone())
        .strftime("%Y%m%dT%H%M%S")
    )


def write_ratings_file(path: Path, count: int, pool_size: int, follow_up_every: int = 20) -> dict:
    """`count` rating records (national interface fields) for cases BENCH-0…; every 20th is a 追评."""
    now = timezone.now()
    firsts = follow_ups = 0
    case = 0
    with open(path, "wb") as fh:
        written = 0
        while written < count:
            name, id_number, phone = setup.applicant_of(case, pool_size)
            bad = case % 10 == 9
            pf = "4" if case % 3 == 0 else "1"
            record = {
                "projectNo": setup.case_no(case),
                "pf": pf,
                "satisfaction": 2 if bad else 5 - case % 2,
                "evalDetail": ("OF401" if pf == "4" else "ON401") if bad else "",
                "writingEvaluation": "等候时间过长" if bad else "",
                # between 2 hours and 200 s ago, for any count (the cases finished a day ago)
                "assessTime": _assess_time(now, 7200 - (case % 700_000) * 0.01),
                "assessNumber": 1,
                "userProp": "1",
                "userName": name,
                "certKey": id_number,
                "mobile": phone,
                "submissionId": f"legacy-{case}-1",
            }
            fh.write(orjson.dumps(record) + b"\n")
            written += 1
            firsts += 1
            if case % follow_up_every == follow_up_every - 1 and written < count:
                earlier = case - 7
                record = {
                    **record,
                    "projectNo": setup.case_no(earlier),
                    "satisfaction": 5,
                    "evalDetail": "",
                    "writingEvaluation": "问题已解决",
                    "assessTime": _assess_time(now, 60 - (case % 500_000) * 0.0001),  # after the first
                    "assessNumber": 2,
                    "userName": setup.applicant_of(earlier, pool_size)[0],
                    "certKey": setup.applicant_of(earlier, pool_size)[1],
                    "mobile": setup.applicant_of(earlier, pool_size)[2],
                    "submissionId": f"legacy-{earlier}-2",
                }
                fh.write(orjson.dumps(record) + b"\n")
                written += 1
                follow_ups += 1
            case += 1
    return {"first": firsts, "follow_ups": follow_ups, "cases_needed": case}


def write_cases_file(path: Path, start: int, count: int, item_code: str) -> None:
    now = timezone.now()
    with open(path, "wb") as fh:
        for i in range(start, start + count):
            name, id_number, phone = setup.applicant_of(i, setup.IDENTITY_POOL)
            record = {
                "projectNo": setup.case_no(i),
                "taskCode": item_code,
                "userProp": "1",
                "userName": name,
                "certKey": id_number,
                "mobile": phone,
                "applyChannel": "online",
                "proStatus": "已办结",
                "acceptDate": _assess_time(now, 3 * 86400),
                "finishDate": _assess_time(now, 86400),
            }
            fh.write(orjson.dumps(record) + b"\n")


def run_import(bench_dir: Path, ratings: int, cases_import: int, batch: int) -> dict:
    """Time `haocha import` of generated ratings (and cases) against this database."""
    ref = setup.build_reference()
    pool = setup.IDENTITY_POOL
    ratings_path = bench_dir / "ratings.jsonl"
    shape = write_ratings_file(ratings_path, ratings, pool)
    started = time.perf_counter()
    setup.create_cases(ref, 0, shape["cases_needed"])
    cases_seconds = time.perf_counter() - started
    summary = import_ratings(ratings_path, batch=batch)
    rerun = import_ratings(ratings_path, batch=batch)
    result = {
        "database": connection.vendor,
        "import_ratings": summary.read,
        "import_ratings_imported": summary.imported,
        "import_ratings_rejected": summary.rejected,
        "import_reject_codes": summary.reject_codes,
        "import_follow_ups": shape["follow_ups"],
        "import_seconds": round(summary.seconds, 3),
        "import_ratings_per_s": round(summary.rate, 1),
        "import_rerun_duplicates": rerun.duplicates,
        "import_rerun_per_s": round(rerun.rate, 1),
        "import_batch": batch,
        "bench_cases_fast_path_per_s": round(shape["cases_needed"] / cases_seconds, 1),
    }
    if cases_import:
        cases_path = bench_dir / "cases.jsonl"
        write_cases_file(cases_path, shape["cases_needed"], cases_import, ref["item_code"])
        cases = import_cases(cases_path, batch=min(batch, 1000))
        result.update(
            {
                "import_cases": cases.read,
                "import_cases_imported": cases.imported,
                "import_cases_per_s": round(cases.rate, 1),
            }
        )
    copy = database_copy_rate(ref, shape["cases_needed"], shape["cases_needed"] + cases_import, batch)
    result.update(copy)
    if copy["import_db_copy_per_s"]:
        result["import_ratio"] = round(summary.rate / copy["import_db_copy_per_s"], 3)
    return result


_COPY_SCOPE = "bench-copy"
_COPY_SHIFT_S = 86400


def database_copy_rate(ref: dict, cases: int, reserve_start: int, batch: int) -> dict:
    """The database's own limit for the import: the rows the import stored, copied again into the same
    table by the database itself (one INSERT … SELECT and one commit per `batch` rows, the same
    durability, indexes and analytics trigger), with no Python per row.

    The copies go to `cases` fresh cases (BENCH-<reserve_start>…) under their own idempotency scope, with
    new version-7 public ids and their times a day later, so that they land at the end of every index as
    the import's rows did (copies beside their originals would split pages the import never split). The
    table then holds the imported rows too, so the figure is if anything low."""
    setup.create_cases(ref, reserve_start, cases)
    qn = connection.ops.quote_name
    table = qn(Rating._meta.db_table)
    fields = [f for f in Rating._meta.concrete_fields if not f.primary_key]
    columns = [qn(f.column) for f in fields]
    case_col, public_col = qn(_field_col("case")), qn(_field_col("public_id"))
    scope_col, id_col = qn(_field_col("idempotency_scope")), qn(_field_col("id"))
    rated_col = qn(_field_col("rated_at"))
    if connection.vendor == "postgresql":
        later = f"r.{rated_col} + interval '{_COPY_SHIFT_S} seconds'"
    else:  # stored as text in UTC; SQLite's own date arithmetic
        later = f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', r.{rated_col}, '+{_COPY_SHIFT_S} seconds')"
    picked = {case_col: "m.new_id", scope_col: "%s", rated_col: later}
    select = ", ".join(f"{picked.get(c, f'r.{c}')} AS {c}" for c in columns)
    case_table, case_no_col = qn(Case._meta.db_table), qn(Case._meta.get_field("case_no").column)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_case_map")
        cursor.execute("DROP TABLE IF EXISTS bench_copy")
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_case_map (old_no varchar(64) PRIMARY KEY, new_id bigint)"
        )
        cursor.executemany(
            "INSERT INTO bench_case_map (old_no, new_id) "
            f"SELECT %s, {qn('id')} FROM {case_table} WHERE {case_no_col} = %s",
            [(setup.case_no(i), setup.case_no(reserve_start + i)) for i in range(cases)],
        )
        cursor.execute(
            f"CREATE TEMPORARY TABLE bench_copy AS SELECT ROW_NUMBER() OVER (ORDER BY r.{id_col}) AS seq, "
            f"{select} FROM {table} r JOIN {case_table} c ON c.{qn('id')} = r.{case_col} "
            f"JOIN bench_case_map m ON m.old_no = c.{case_no_col} WHERE r.{scope_col} = %s",
            [_COPY_SCOPE, "import"],
        )
        cursor.execute("CREATE INDEX bench_copy_seq ON bench_copy (seq)")
        cursor.execute("SELECT COUNT(*) FROM bench_copy")
        rows = cursor.fetchone()[0]
        native = connection.features.has_native_uuid_field
        ids = []
        for begin in range(0, rows, batch):  # a batch's ids at once, as the import makes them
            time.sleep(0.002)  # the next batch's ids a millisecond later: after this batch's
            ids += uuid7_hex(min(batch, rows - begin))
        cursor.executemany(  # ids made now: after every id in the table, in the copies' order
            f"UPDATE bench_copy SET {public_col} = %s WHERE seq = %s",
            [(uuid.UUID(hex=h) if native else h, n) for n, h in enumerate(ids, start=1)],
        )
    insert = (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM bench_copy "
        "WHERE seq > %s AND seq <= %s"
    )
    started = time.perf_counter()
    for begin in range(0, rows, batch):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(insert, [begin, begin + batch])
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_copy")
        cursor.execute("DROP TABLE bench_case_map")
    copied = Rating.objects.filter(idempotency_scope=_COPY_SCOPE).count()
    return {
        "import_db_copy_rows": copied,
        "import_db_copy_per_s": round(copied / elapsed, 1) if elapsed and copied == rows else None,
    }


def _field_col(name: str) -> str:
    return Rating._meta.get_field(name).column
