"""`haocha import` batch by batch (one transaction each, no writer thread or helper process): records that reach
back into earlier batches, a rating stored elsewhere between a batch's check and its write, a failure after
some batches were committed, and every refusal the reader itself makes."""

import gc
import json
from datetime import timedelta

import pytest

from haocha.catalogue.models import Case
from haocha.evaluations.importer import RatingImporter, import_ratings
from haocha.evaluations.models import Rating
from tests.factories import build_cast, finished_case
from tests.test_import import compact, rejects_of, write_jsonl

pytestmark = pytest.mark.django_db


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
        # 追评 of ratings written one or more batches earlier
        {"projectNo": "PL-1", "pf": "1", "satisfaction": 5, "assessNumber": 2, "assessTime": now},
        {"projectNo": "PL-6", "pf": "1", "satisfaction": 4, "assessNumber": 2, "assessTime": now},
        # the same key and record again: a retry of an earlier submission, a duplicate
        {"projectNo": "PL-2", "pf": "1", "satisfaction": 5, "assessTime": hour, "submissionId": "pl-2"},
        # the same case, evaluator and rating again, without a key: also a duplicate
        {"projectNo": "PL-3", "pf": "4", "satisfaction": 5, "assessTime": hour},
        # a key already used for another case
        {"projectNo": "PL-7", "pf": "1", "satisfaction": 5, "assessTime": hour, "submissionId": "pl-0"},
        # a second, different 追评 of PL-1 by the same evaluator: refused, not taken as a replay
        {"projectNo": "PL-1", "pf": "1", "satisfaction": 3, "assessNumber": 2, "assessTime": now},
        # 追评 without a first rating
        {"projectNo": "PL-NONE", "pf": "1", "satisfaction": 5, "assessNumber": 2, "assessTime": now},
    ]
    return lines


def _cast_with_cases(n: int):
    cast = build_cast()
    for i in range(n):
        finished_case(cast, f"PL-{i}", seq=i + 1)
    finished_case(cast, "PL-NONE", seq=40)
    return cast


def _summary(s) -> tuple:
    return (s.read, s.imported, s.duplicates, s.rejected, s.reject_codes)


def test_records_reaching_back_into_earlier_batches(tmp_path, monkeypatch):
    _cast_with_cases(12)
    path = write_jsonl(tmp_path / "pl.jsonl", _lines(12))
    gc_during = []
    store = RatingImporter._store

    def spy(self, prepared):
        gc_during.append(gc.isenabled())
        store(self, prepared)

    monkeypatch.setattr(RatingImporter, "_store", spy)
    summary = import_ratings(path, batch=4)
    assert gc_during and not any(gc_during) and gc.isenabled()  # paused while importing, then back on
    assert _summary(summary) == (
        19,
        14,
        2,
        3,
        {"already_followed_up": 1, "idempotency_key_reused": 1, "no_first_rating": 1},
    )
    assert rejects_of(summary) == {
        17: "idempotency_key_reused",
        18: "already_followed_up",
        19: "no_first_rating",
    }
    follow_ups = Rating.objects.filter(kind=2).select_related("first_rating", "case")
    assert {r.case.case_no for r in follow_ups} == {"PL-1", "PL-6"}
    for r in follow_ups:
        assert r.first_rating.case_id == r.case_id and r.first_rating.kind == 1
    again = import_ratings(path, batch=4)
    assert (again.imported, again.duplicates, again.rejected) == (0, 16, 3)


def test_a_rating_stored_between_a_batchs_check_and_its_write_is_a_duplicate(tmp_path, monkeypatch):
    """On PostgreSQL another transaction can store a rating after a batch read the case's ratings: the insert
    then fails on the unique index, and the batch is checked again and counted as it now stands."""
    _cast_with_cases(12)
    path = write_jsonl(tmp_path / "pl.jsonl", _lines(12)[:12])
    racer = write_jsonl(tmp_path / "racer.jsonl", [_lines(12)[5]])
    assert import_ratings(racer).imported == 1  # PL-5, through another door
    pl5 = Case.objects.get(case_no="PL-5").pk
    select, hidden = RatingImporter._select, {"done": False}

    def stale_select(self, cursor, sql, values, *prefix):
        rows = select(self, cursor, sql, values, *prefix)
        if sql in (self.sql_ratings, self.sql_keys) and pl5 in {r[1] for r in rows} and not hidden["done"]:
            if sql == self.sql_keys:
                hidden["done"] = True  # the first check of PL-5's batch does not see it yet
            rows = [r for r in rows if r[1] != pl5]
        return rows

    monkeypatch.setattr(RatingImporter, "_select", stale_select)
    summary = import_ratings(path, batch=4)
    assert hidden["done"]
    assert (summary.read, summary.imported, summary.duplicates, summary.rejected) == (12, 11, 1, 0)
    assert Rating.objects.count() == 12


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


def test_batches_committed_before_an_error_are_reported_and_the_rest_can_follow(tmp_path, monkeypatch):
    path = _cases_and_a_missing_one(tmp_path, 11)
    calls = {"prepare": 0}
    prepare = RatingImporter._prepare

    def failing_prepare(self, batch):
        calls["prepare"] += 1
        if calls["prepare"] == 3:
            raise RuntimeError("connection lost")
        return prepare(self, batch)

    monkeypatch.setattr(RatingImporter, "_prepare", failing_prepare)
    rejects = tmp_path / "lr.rejects.jsonl"
    with pytest.raises(RuntimeError, match="connection lost"):
        import_ratings(path, batch=4, rejects_path=rejects)
    assert gc.isenabled()
    assert Rating.objects.count() == 7  # batches 1 and 2
    logged = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert [e["record"]["projectNo"] for e in logged] == ["PL-MISSING"]
    monkeypatch.undo()
    rest = import_ratings(path, batch=4)
    assert (rest.imported, rest.duplicates, rest.rejected) == (4, 7, 1)


def _iso_at(offset: timedelta) -> str:
    """An hour ago, written in ISO 8601 with the given UTC offset."""
    from datetime import timezone as tz

    from django.utils import timezone

    return (timezone.now() - timedelta(hours=1)).astimezone(tz(offset)).isoformat()


def test_every_refusal_the_reader_makes(tmp_path):
    cast = _cast_with_cases(12)
    for i, no in enumerate(("PL-LATE", "X-8", "X-9", "X-10", "X-11")):
        finished_case(cast, no, seq=41 + i)
    hour = compact(timedelta(hours=1))
    lines = [
        *_lines(12),
        "{not json",
        [1, 2],
        {"projectNo": "X-8", "pf": "1", "satisfaction": 5, "assessTime": "19991231T235959"},
        {"projectNo": "X-9", "pf": "1", "satisfaction": 9, "assessTime": hour},
        {"projectNo": "X-9", "pf": "1", "satisfaction": True, "assessTime": hour},
        {"projectNo": "X-10", "pf": "1", "satisfaction": 5, "assessTime": hour, "userName": "空\u0000字符"},
        {"projectNo": "X-11", "pf": "1", "satisfaction": 5, "assessTime": "2026-13-01"},
        "",
        # an offset other than Beijing's, and a time so late that it is the year 10000 in UTC
        {"projectNo": "PL-NONE", "pf": "1", "satisfaction": 5, "assessTime": _iso_at(timedelta(hours=-5))},
        {"projectNo": "PL-LATE", "pf": "1", "satisfaction": 5, "assessTime": "9999-12-31T23:00:00-05:00"},
    ]
    summary = import_ratings(write_jsonl(tmp_path / "mixed.jsonl", lines), batch=4)
    codes = rejects_of(summary)
    assert [codes.get(line) for line in range(20, 30)] == [
        "unreadable_line",
        "unreadable_line",
        "invalid_time",
        "unknown_level",
        "unknown_level",
        "invalid_character",
        "invalid_time",
        None,  # a blank line is no record
        None,
        "rated_at_in_future",
    ]
    assert summary.imported == 15 and Rating.objects.filter(case__case_no="PL-NONE").exists()
