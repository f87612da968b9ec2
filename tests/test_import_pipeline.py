"""The pipelined ratings import: a writer thread commits batch N while batch N+1 is checked. It must give
exactly what the one-batch-at-a-time import gives, and fall back to it when a write fails."""

import gc
import multiprocessing
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import OperationalError, connection, transaction

from haocha.catalogue.models import Case
from haocha.evaluations import importer
from haocha.evaluations.importer import RatingImporter, import_ratings
from haocha.evaluations.models import Rating
from tests.factories import build_cast, finished_case
from tests.test_import import compact, rejects_of, write_jsonl

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# Columns that differ between two imports of the same file by design.
_VOLATILE = {"id", "public_id", "received_at", "first_rating_id"}


def _lines(n: int) -> list:
    """n first ratings, then 追评, repeats and refusals that reach back into earlier batches."""
    hour, now = compact(timedelta(hours=1)), compact(timedelta(minutes=1))
    lines = [
        {
            "projectNo": f"PL-{i}",
            "pf": "4" if i % 3 == 0 else "1",
            "satisfaction": 2 if i % 5 == 4 else 5,
            "evalDetail": ("OF401" if i % 3 == 0 else "ON401") if i % 5 == 4 else "",
            "assessTime": hour,
            "submissionId": f"pl-{i}",
        }
        for i in range(n)
    ]
    lines += [
        # 追评 of ratings written one or more batches earlier (possibly still in flight)
        {"projectNo": "PL-1", "pf": "1", "satisfaction": 5, "assessNumber": 2, "assessTime": now},
        {"projectNo": "PL-6", "pf": "1", "satisfaction": 4, "assessNumber": 2, "assessTime": now},
        # the same key again: a retry of an earlier submission, a duplicate
        {"projectNo": "PL-2", "pf": "1", "satisfaction": 5, "assessTime": hour, "submissionId": "pl-2"},
        # the same case and evaluator again, without a key: also a duplicate
        {"projectNo": "PL-3", "pf": "4", "satisfaction": 5, "assessTime": hour},
        # a key already used for another case
        {"projectNo": "PL-7", "pf": "1", "satisfaction": 5, "assessTime": hour, "submissionId": "pl-0"},
        # a second 追评 of PL-1 by the same evaluator: taken as a replay, a duplicate
        {"projectNo": "PL-1", "pf": "1", "satisfaction": 3, "assessNumber": 2, "assessTime": now},
        # 追评 without a first rating
        {"projectNo": "PL-NONE", "pf": "1", "satisfaction": 5, "assessNumber": 2, "assessTime": now},
    ]
    return lines


def _stored() -> list[dict]:
    rows = []
    for r in Rating.objects.order_by("case__case_no", "kind").values():
        first = Rating.objects.filter(pk=r["first_rating_id"]).values_list("case_id", "kind").first()
        rows.append({k: v for k, v in r.items() if k not in _VOLATILE} | {"first": first})
    return rows


def _summary(s) -> tuple:
    return (s.read, s.imported, s.duplicates, s.rejected, s.reject_codes)


def test_pipelined_import_stores_what_the_plain_import_stores(tmp_path, monkeypatch):
    cast = build_cast()
    for i in range(12):
        finished_case(cast, f"PL-{i}", seq=i + 1)
    finished_case(cast, "PL-NONE", seq=40)
    path = write_jsonl(tmp_path / "pl.jsonl", _lines(12))
    batches_written = []
    original = RatingImporter._store

    def store(self, prepared):
        batches_written.append(threading.current_thread().name)
        assert not gc.isenabled()  # paused while importing (see importer.gc_paused)
        original(self, prepared)

    monkeypatch.setattr(RatingImporter, "_store", store)
    piped = import_ratings(path, batch=4)
    assert set(batches_written) == {"haocha-import-writer"}  # every batch went through the writer thread
    assert gc.isenabled()
    assert _summary(piped) == (19, 14, 3, 2, {"idempotency_key_reused": 1, "no_first_rating": 1})
    assert rejects_of(piped) == {17: "idempotency_key_reused", 19: "no_first_rating"}
    stored = _stored()
    assert len(stored) == 14
    follow_ups = Rating.objects.filter(kind=2).select_related("first_rating", "case")
    assert {r.case.case_no for r in follow_ups} == {"PL-1", "PL-6"}
    for r in follow_ups:
        assert r.first_rating.case_id == r.case_id and r.first_rating.kind == 1

    Rating.objects.filter(kind=2).delete()
    Rating.objects.all().delete()
    batches_written.clear()
    plain = import_ratings(path, batch=4, pipeline=False)
    assert set(batches_written) == {threading.main_thread().name}
    assert _summary(plain) == _summary(piped)
    assert _stored() == stored

    again = import_ratings(path, batch=4)
    assert (again.imported, again.duplicates, again.rejected) == (0, 17, 2)


def test_a_rating_that_arrives_meanwhile_sends_the_batch_back_to_the_plain_path(tmp_path, monkeypatch):
    """A rating stored through another door after a batch was checked and before it was written: the
    writer's insert fails on the unique index, and that batch and all later ones are redone one at a
    time, so the rating is counted a duplicate and nothing is stored twice or lost."""
    cast = build_cast()
    for i in range(12):
        finished_case(cast, f"PL-{i}", seq=i + 1)
    path = write_jsonl(tmp_path / "pl.jsonl", _lines(12)[:12])
    racer = write_jsonl(
        tmp_path / "racer.jsonl",
        [{"projectNo": "PL-5", "pf": "1", "satisfaction": 5, "assessTime": compact(timedelta(hours=1))}],
    )
    submitted = {"n": 0}
    original = importer._Pipeline.submit

    def submit(self, job):
        submitted["n"] += 1
        if submitted["n"] == 2:  # batch 2 (PL-4 … PL-7) is checked: PL-5 is rated elsewhere now
            assert import_ratings(racer, pipeline=False).imported == 1
        original(self, job)

    redone = []
    plain_batch = RatingImporter.run_batch

    def run_batch(self, batch, summary):
        redone.append([line for line, _record, _error in batch])
        return plain_batch(self, batch, summary)

    monkeypatch.setattr(importer._Pipeline, "submit", submit)
    monkeypatch.setattr(RatingImporter, "run_batch", run_batch)
    summary = import_ratings(path, batch=4)
    # the racer's own one-line import, then the failed batch and the one after it
    assert redone == [[1], [5, 6, 7, 8], [9, 10, 11, 12]]
    assert (summary.read, summary.imported, summary.duplicates, summary.rejected) == (12, 11, 1, 0)
    assert Rating.objects.count() == 12
    assert sorted(Rating.objects.values_list("case__case_no", flat=True)) == sorted(
        f"PL-{i}" for i in range(12)
    )


def test_a_write_that_keeps_failing_stops_the_import_after_the_batches_before_it(tmp_path, monkeypatch):
    cast = build_cast()
    for i in range(12):
        finished_case(cast, f"PL-{i}", seq=i + 1)
    path = write_jsonl(tmp_path / "pl.jsonl", _lines(12)[:12])
    original = RatingImporter._store
    pl5 = Case.objects.get(case_no="PL-5").pk

    def store(self, prepared):
        if any(row[1] == pl5 for row in prepared.rows_first):
            raise RuntimeError("disk full")
        original(self, prepared)

    monkeypatch.setattr(RatingImporter, "_store", store)
    with pytest.raises(RuntimeError, match="disk full"):
        import_ratings(path, batch=4)
    assert gc.isenabled()
    assert sorted(Rating.objects.values_list("case__case_no", flat=True)) == [f"PL-{i}" for i in (0, 1, 2, 3)]
    assert not [t for t in threading.enumerate() if t.name == "haocha-import-writer"]
    monkeypatch.undo()
    rest = import_ratings(path, batch=4)
    assert (rest.imported, rest.duplicates) == (8, 4)


@pytest.mark.parametrize("ahead", [False, True], ids=["read-here", "parsed-ahead"])
def test_an_error_in_the_caller_stops_the_writer_and_the_helper(tmp_path, monkeypatch, ahead):
    cast = build_cast()
    for i in range(12):
        finished_case(cast, f"PL-{i}", seq=i + 1)
    path = write_jsonl(tmp_path / "pl.jsonl", _lines(12)[:12])
    if ahead:
        monkeypatch.setattr(importer, "PARSE_AHEAD_MIN_BYTES", 0)

    def progress(summary):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_ratings(path, batch=4, progress=progress)
    assert not [t for t in threading.enumerate() if t.name == "haocha-import-writer"]
    assert not multiprocessing.active_children()
    rest = import_ratings(path, batch=4)
    assert rest.imported + rest.duplicates == 12 and Rating.objects.count() == 12


def test_inside_a_transaction_the_import_stays_in_it():
    """A writer thread has its own connection: inside the caller's transaction it would not see the
    caller's uncommitted rows, nor roll back with it. So there the import does not pipeline."""
    imp = RatingImporter()
    assert imp.can_pipeline() == (not (connection.vendor == "sqlite" and connection.is_in_memory_db()))
    with transaction.atomic():
        assert not imp.can_pipeline()


@pytest.mark.parametrize("key", ["short-key", "k" * 64, "a much longer identity key " * 5])
def test_the_importers_hash_is_the_identity_hash(settings, key):
    from haocha.core import identity

    settings.IDENTITY_HASH_KEY = key
    hasher = importer._Hasher()  # checks itself against identity.keyed_hash on creation
    for kind, value in (("id", "430102198503120016"), ("phone", "13912345678"), ("id", "")):
        assert hasher(kind, value) == identity.keyed_hash(kind, value)


def _mixed_lines() -> list:
    """Good records and every kind of refusal the reader itself makes."""
    hour = compact(timedelta(hours=1))
    return [
        *_lines(12),
        "{not json",
        [1, 2],
        {"projectNo": "PL-8", "pf": "1", "satisfaction": 5, "assessTime": "19991231T235959"},
        {"projectNo": "PL-9", "pf": "1", "satisfaction": 9, "assessTime": hour},
        {"projectNo": "PL-10", "pf": "1", "satisfaction": 5, "assessTime": hour, "userName": "空\u0000字符"},
        {"projectNo": "PL-11", "pf": "1", "satisfaction": 5, "assessTime": "2026-13-01"},
        "",
        # an offset other than Beijing's, and a time so late that it is the year 10000 in UTC
        {"projectNo": "PL-NONE", "pf": "1", "satisfaction": 5, "assessTime": _iso_at(timedelta(hours=-5))},
        {"projectNo": "PL-LATE", "pf": "1", "satisfaction": 5, "assessTime": "9999-12-31T23:00:00-05:00"},
    ]


def _iso_at(offset: timedelta) -> str:
    """An hour ago, written in ISO 8601 with the given UTC offset."""
    from datetime import timezone as tz

    from django.utils import timezone

    return (timezone.now() - timedelta(hours=1)).astimezone(tz(offset)).isoformat()


def test_parsing_ahead_in_a_helper_process_changes_nothing(tmp_path, monkeypatch):
    cast = build_cast()
    for i in range(12):
        finished_case(cast, f"PL-{i}", seq=i + 1)
    finished_case(cast, "PL-NONE", seq=40)
    finished_case(cast, "PL-LATE", seq=41)
    path = write_jsonl(tmp_path / "pl.jsonl", _mixed_lines())
    helpers = []
    original = importer._ParseAhead.__init__

    def spy(self, *args):
        original(self, *args)
        helpers.append(self.process)

    monkeypatch.setattr(importer._ParseAhead, "__init__", spy)
    plain = import_ratings(path, batch=4, rejects_path=tmp_path / "plain.rejects.jsonl")
    assert helpers == []  # a small file is read in the importer's own process
    plain_rows, plain_rejects = _stored(), _reject_entries(plain)

    Rating.objects.filter(kind=2).delete()
    Rating.objects.all().delete()
    monkeypatch.setattr(importer, "PARSE_AHEAD_MIN_BYTES", 0)
    ahead = import_ratings(path, batch=4, rejects_path=tmp_path / "ahead.rejects.jsonl")
    assert len(helpers) == 1 and helpers[0].exitcode == 0
    assert _summary(ahead) == _summary(plain)
    assert ahead.rejected == 9 and ahead.imported == 15
    assert ahead.reject_codes["rated_at_in_future"] == 1
    assert _stored() == plain_rows
    assert _reject_entries(ahead) == plain_rejects  # the same lines, codes, messages and records


def _reject_entries(summary) -> list:
    import json

    with open(summary.rejects_path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def test_a_helper_that_fails_or_dies_stops_the_import_with_a_clear_error(tmp_path, monkeypatch):
    cast = build_cast()
    for i in range(12):
        finished_case(cast, f"PL-{i}", seq=i + 1)
    path = write_jsonl(tmp_path / "pl.jsonl", _lines(12)[:12])
    monkeypatch.setattr(importer, "PARSE_AHEAD_MIN_BYTES", 0)
    parse = importer._parse_rating

    def broken(line, record):  # the helper is forked: it runs this
        if line == 6:
            raise MemoryError("no room")
        return parse(line, record)

    monkeypatch.setattr(importer, "_parse_rating", broken)
    with pytest.raises(RuntimeError, match="导入读取进程出错：MemoryError: no room"):
        import_ratings(path, batch=4)
    assert gc.isenabled() and not [t for t in threading.enumerate() if t.name == "haocha-import-writer"]
    assert not multiprocessing.active_children()
    assert Rating.objects.count() in (0, 4)  # the batch before the failure may have been committed

    def dies(line, record):
        if line == 6:
            import os

            os._exit(3)
        return parse(line, record)

    monkeypatch.setattr(importer, "_parse_rating", dies)
    with pytest.raises(RuntimeError, match="导入读取进程意外退出"):
        import_ratings(path, batch=4)
    monkeypatch.setattr(importer, "_parse_rating", parse)
    rest = import_ratings(path, batch=4)
    assert rest.imported + rest.duplicates == 12 and Rating.objects.count() == 12


def _cases_and_a_missing_one(tmp_path, n: int):
    """n finished cases PL-0… and a file rating each, with a rating of an unknown case as its 6th line
    (in batch 2 with batches of 4)."""
    cast = build_cast()
    for i in range(n):
        finished_case(cast, f"PL-{i}", seq=i + 1)
    hour = compact(timedelta(hours=1))
    lines = [{"projectNo": f"PL-{i}", "pf": "1", "satisfaction": 5, "assessTime": hour} for i in range(n)]
    lines.insert(5, {"projectNo": "PL-MISSING", "pf": "1", "satisfaction": 5, "assessTime": hour})
    return write_jsonl(tmp_path / "missing.jsonl", lines)


@pytest.mark.parametrize("pipeline", [False, True], ids=["plain", "pipelined"])
def test_batches_committed_before_an_error_are_reported(tmp_path, monkeypatch, pipeline):
    """An error in the importer's own thread while the writer commits: the batches committed meanwhile
    still get their rejects logged and counted, as the plain import logs each batch after its commit."""
    path = _cases_and_a_missing_one(tmp_path, 11)
    calls = {"prepare": 0, "store": 0}
    prepare, store = RatingImporter._prepare, RatingImporter._store

    def slow_store(self, job):
        calls["store"] += 1
        if calls["store"] == 2:
            time.sleep(0.3)  # batch 2 commits after batch 3's check began
        store(self, job)

    def failing_prepare(self, batch):
        calls["prepare"] += 1
        if calls["prepare"] == 3:
            time.sleep(0.6)
            raise RuntimeError("connection lost")
        return prepare(self, batch)

    monkeypatch.setattr(RatingImporter, "_store", slow_store)
    monkeypatch.setattr(RatingImporter, "_prepare", failing_prepare)
    if not pipeline:  # the plain path checks inside _batch: make it fail the same way
        monkeypatch.setattr(RatingImporter, "_batch", lambda self, b: _plain_batch(self, b))
    with pytest.raises(RuntimeError, match="connection lost"):
        import_ratings(path, batch=4, pipeline=pipeline, rejects_path=tmp_path / "lr.rejects.jsonl")
    assert Rating.objects.count() == 7  # batches 1 and 2
    assert [e["record"]["projectNo"] for e in _reject_entries_at(tmp_path / "lr.rejects.jsonl")] == [
        "PL-MISSING"
    ]


def _plain_batch(importer_, batch):
    prepared = importer_._prepare(batch)
    importer_._store(prepared)
    return prepared.rejects, prepared.imported, prepared.duplicates


def _reject_entries_at(path) -> list:
    import json

    return (
        [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []
    )


def test_a_failure_found_while_batches_wait_reports_the_committed_ones_and_resumes(tmp_path, monkeypatch):
    """Batch 2 is still being written when batch 3 fails to write: batch 2's rejects are reported, batch
    3 is redone one at a time, and the rest of the file goes through a new pipeline."""
    path = _cases_and_a_missing_one(tmp_path, 20)
    stores, pipelines = {"n": 0}, []
    store = RatingImporter._store

    def store_slowly_then_fail_once(self, job):
        stores["n"] += 1
        if stores["n"] == 2:
            time.sleep(0.3)
        if stores["n"] == 3:
            raise OperationalError("database is locked")
        store(self, job)

    started = importer._Pipeline.__init__

    def count(self, imp):
        pipelines.append(self)
        started(self, imp)

    prepares = {"n": 0}
    prepare = RatingImporter._prepare

    def slow_fourth_check(self, batch):
        prepares["n"] += 1
        if prepares["n"] == 4:
            time.sleep(0.8)  # meanwhile batch 2 commits and batch 3 fails: both seen at the next batch
        return prepare(self, batch)

    monkeypatch.setattr(RatingImporter, "_store", store_slowly_then_fail_once)
    monkeypatch.setattr(RatingImporter, "_prepare", slow_fourth_check)
    monkeypatch.setattr(importer._Pipeline, "__init__", count)
    summary = import_ratings(path, batch=4)
    assert (summary.read, summary.imported, summary.rejected) == (21, 20, 1)
    assert [e["record"]["projectNo"] for e in _reject_entries_at(Path(summary.rejects_path))] == [
        "PL-MISSING"
    ]
    assert len(pipelines) >= 2  # back to the pipeline after the redo
    assert Rating.objects.count() == 20


def test_the_helper_stops_even_when_the_importer_ignores_sigterm(tmp_path, monkeypatch):
    """The helper must not inherit a SIGTERM handler (the worker command installs one): the importer stops
    it with SIGTERM when it stops reading early."""
    import signal

    cast = build_cast()
    finished_case(cast, "PL-0", seq=1)
    hour = compact(timedelta(hours=1))
    lines = [
        {"projectNo": "PL-0", "pf": "1", "satisfaction": 5, "assessTime": hour, "comment": "x" * 200}
    ] * 3000
    path = write_jsonl(tmp_path / "many.jsonl", lines)  # more than a pipe holds: the helper blocks
    monkeypatch.setattr(importer, "PARSE_AHEAD_MIN_BYTES", 0)
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    try:

        def stop(summary):
            raise KeyboardInterrupt

        began = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            import_ratings(path, batch=4, progress=stop)
        assert time.monotonic() - began < 5  # not the 10 s close() waits before killing it
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert not multiprocessing.active_children()


def test_a_parsed_record_survives_packing_whole():
    from datetime import timezone as tz

    record = {
        "projectNo": "P-1",
        "pf": "4",
        "satisfaction": 2,
        "evalDetail": "OF401,OF402",
        "writingEvaluation": "等候太久",
        "assessTime": "2026-11-02T09:30:15.123456-05:00",
        "assessNumber": 2,
        "userProp": "1",
        "userName": "张三",
        "certKey": "430102198503120016",
        "mobile": "13812345678",
        "windowCode": "W1",
        "regionCode": "430102",
        "staffNo": "S1",
        "deviceId": "PAD-1",
        "clientIp": "10.0.0.1",
        "submissionId": "k-1",
    }
    p = importer._parse_rating(7, record)
    assert set(importer._Parsed.__slots__) == {*importer._PACKED, "record"}
    q = importer._unpack_parsed(importer._pack_parsed(p), b"raw")
    for name in importer._PACKED:
        assert getattr(q, name) == getattr(p, name), name
    assert q.rated_at.utcoffset() == tz(timedelta(hours=-5)).utcoffset(None) and q.record == b"raw"
