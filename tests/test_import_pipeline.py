"""The pipelined ratings import: a writer thread commits batch N while batch N+1 is checked. It must give
exactly what the one-batch-at-a-time import gives, and fall back to it when a write fails."""

import gc
import multiprocessing
import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction

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
    ]


def test_parsing_ahead_in_a_helper_process_changes_nothing(tmp_path, monkeypatch):
    cast = build_cast()
    for i in range(12):
        finished_case(cast, f"PL-{i}", seq=i + 1)
    finished_case(cast, "PL-NONE", seq=40)
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
    assert ahead.rejected == 8 and ahead.imported == 14
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
