"""Public ids are version-7 UUIDs (RFC 9562): time-ordered for the index, random enough to be unguessable."""

import time
import uuid
from datetime import timedelta

import pytest

from haocha.core.ids import uuid7, uuid7_hex


def test_uuid7_layout_and_order():
    before = time.time_ns() // 1_000_000
    ids = [uuid7() for _ in range(200)] + [uuid.UUID(hex=x) for x in uuid7_hex(5000)]
    after = time.time_ns() // 1_000_000
    assert len(set(ids)) == len(ids)
    for u in ids:
        assert u.version == 7 and u.variant == uuid.RFC_4122
        assert before <= u.int >> 80 <= after  # the first 48 bits: Unix time in milliseconds
    # later ids sort after earlier ones by their time (the index's end), whatever their random bits
    stamps = [u.int >> 80 for u in ids]
    assert stamps == sorted(stamps)
    # 74 random bits: every one of them varies
    varying = 0
    for u in ids:
        varying |= u.int ^ ids[0].int
    random_mask = ((1 << 12) - 1) << 64 | ((1 << 62) - 1)
    assert varying & random_mask == random_mask


def test_uuid7_hex_is_what_sqlite_stores():
    [h] = list(uuid7_hex(1))
    assert len(h) == 32 and uuid.UUID(hex=h).hex == h


@pytest.mark.django_db
def test_ratings_get_version_7_public_ids_through_the_intake_and_the_import(cast, api_for, tmp_path):
    from haocha.evaluations.importer import import_ratings
    from haocha.evaluations.models import Rating
    from tests.factories import finished_case
    from tests.test_import import compact, write_jsonl

    finished_case(cast, "ID-1", seq=1)
    finished_case(cast, "ID-2", seq=2)
    r = api_for(cast.key_city).post("/ratings", {"case_no": "ID-1", "channel": "pc", "level": "satisfied"})
    assert r.status_code == 201, r.content
    path = write_jsonl(
        tmp_path / "id.jsonl",
        [{"projectNo": "ID-2", "pf": "1", "satisfaction": 5, "assessTime": compact(timedelta(hours=1))}],
    )
    assert import_ratings(path).imported == 1
    ids = list(Rating.objects.order_by("pk").values_list("public_id", flat=True))
    assert [u.version for u in ids] == [7, 7] and ids[0] < ids[1]
    assert r.json()["id"] == str(ids[0])
