"""The intake's hand-written row access stores and reads exactly what the ORM would."""

import uuid
from datetime import UTC, datetime

import pytest

from haocha.accounts.access import Actor
from haocha.catalogue.models import Case
from haocha.catalogue.selectors import find_case_for_rating, get_case_for_actor
from haocha.core.rawrows import insert_new
from haocha.evaluations.levels import Level
from haocha.evaluations.models import IndicatorSet, Rating
from tests.factories import build_cast, finished_case

pytestmark = pytest.mark.django_db


def _rating(cast, **over) -> Rating:
    fields = dict(
        kind=Rating.Kind.FIRST,
        department=cast.dept_a,
        hall=cast.hall,
        window=cast.window_a,
        staff=cast.staff_a,
        item=cast.item_a,
        region=cast.city,
        level=Level.DISSATISFIED,  # a str enum member: converted, not passed through
        is_bad=True,
        indicator_levels={"overall": "dissatisfied", "attitude": "very_dissatisfied"},
        reason_codes=["ON401", "ON402"],
        comment="窗口人员态度差，“一次办好”没做到",
        indicator_set=IndicatorSet.objects.get(code="online", is_active=True),
        channel="pc",
        evaluator_type="1",
        evaluator_name="张三",
        evaluator_id_masked="430***********0016",
        evaluator_phone_masked="138****5678",
        rated_at=datetime(2026, 11, 2, 9, 30, 15, 123456, tzinfo=UTC),
        client_ip="2001:db8::1",
        device_id="TAB-001",
        idempotency_scope="client:1",
        idempotency_key=str(uuid.uuid4()),
    )
    fields.update(over)
    return Rating(**fields)


def _stored(pk) -> dict:
    row = Rating.objects.filter(pk=pk).values().get()
    for name in ("id", "public_id", "received_at", "idempotency_key"):
        row.pop(name)
    return row


def test_insert_new_stores_what_save_stores():
    cast = build_cast()
    by_orm = _rating(cast)
    by_orm.save()
    by_hand = _rating(cast)
    insert_new(by_hand)
    assert by_hand.pk and not by_hand._state.adding
    assert Rating.objects.get(pk=by_hand.pk).public_id == by_hand.public_id
    assert Rating.objects.get(pk=by_hand.pk).received_at is not None  # auto_now_add ran
    assert _stored(by_hand.pk) == _stored(by_orm.pk)
    # empty values (a blank IP is stored as NULL, as the ORM does)
    blank_orm, blank_hand = _rating(cast, client_ip="", comment=""), _rating(cast, client_ip="", comment="")
    blank_orm.save()
    insert_new(blank_hand)
    assert _stored(blank_hand.pk) == _stored(blank_orm.pk)
    assert _stored(blank_hand.pk)["client_ip"] is None


def test_case_for_rating_reads_what_the_orm_reads():
    cast = build_cast()
    finished_case(cast, "RAW-1", window=cast.window_a)
    actor = Actor(label="测试", all_access=True)
    fast = find_case_for_rating(actor, "RAW-1")
    slow = get_case_for_actor(actor, "RAW-1")
    for field in Case._meta.concrete_fields:
        assert getattr(fast, field.attname) == getattr(slow, field.attname), field.name
    assert fast.region == slow.region and fast.region.path == slow.region.path
    assert fast.finished_at.tzinfo is not None


def test_insert_many_stores_what_bulk_create_stores_and_sets_keys_in_order(monkeypatch):
    from haocha.core import rawrows

    cast = build_cast()
    from zoneinfo import ZoneInfo

    def make(i):  # every other one rated at a Beijing time: stored as the same instant
        when = datetime(
            2026, 11, 2, 17, 30, 15, 123456 + i, tzinfo=ZoneInfo("Asia/Shanghai") if i % 2 else UTC
        )
        return _rating(cast, comment=f"第{i}条", client_ip="" if i % 2 else "10.0.0.1", rated_at=when)

    by_orm = [make(i) for i in range(7)]
    Rating.objects.bulk_create(by_orm)
    by_hand = [make(i) for i in range(7)]
    monkeypatch.setattr(rawrows, "_PLANS", {})
    rawrows.insert_many(by_hand, rows_per_statement=3)  # 3 + 3 + 1 rows
    assert all(not r._state.adding for r in by_hand)
    assert len({r.pk for r in by_hand}) == 7
    for orm, hand in zip(by_orm, by_hand, strict=True):
        assert Rating.objects.get(pk=hand.pk).comment == hand.comment  # each object got its own row's key
        assert _stored(hand.pk) == _stored(orm.pk)
        assert Rating.objects.get(pk=hand.pk).rated_at == hand.rated_at
    with pytest.raises(TypeError):
        rawrows.insert_many([_rating(cast), Case()])
    rawrows.insert_many([])  # nothing to do


def test_cases_registered_in_bulk_get_their_own_keys():
    from datetime import timedelta

    from django.utils import timezone

    from haocha.accounts.access import actor_for_api_key
    from haocha.catalogue.services import CaseInput, cases_upsert
    from tests.factories import resident_id

    cast = build_cast()
    now = timezone.now()
    records = [
        CaseInput(
            case_no=f"IM-{i}",
            item_code=cast.item_a.code,
            applicant_type="1",
            applicant_name=f"申请人{i}",
            applicant_id_number=resident_id(i + 1),
            applicant_phone="13812345678",
            accepted_at=now - timedelta(days=2),
            finished_at=now - timedelta(hours=i + 1),
            status="finished",
        )
        for i in range(5)
    ]
    results = cases_upsert(actor=actor_for_api_key(cast.key_city), records=records)
    assert [r.status for r in results] == ["created"] * 5
    for result in results:
        stored = Case.objects.get(pk=result.case.pk)
        assert stored.case_no == result.case_no and stored.applicant_name == result.case.applicant_name
        assert stored.finished_at == result.case.finished_at and stored.created_at is not None


def test_insert_many_is_bulk_create_where_it_cannot_do_better(monkeypatch):
    """Without INSERT … RETURNING for several rows (SQLite before 3.35), or for a model insert_new refuses,
    insert_many is bulk_create itself; case registration still learns each new case's key."""
    from django.db import connection

    from haocha.core import rawrows

    cast = build_cast()
    from django.db.models.query import QuerySet

    monkeypatch.setattr(type(connection.features), "can_return_rows_from_bulk_insert", False)
    monkeypatch.setattr(rawrows, "_PLANS", {})
    calls = []
    original = QuerySet.bulk_create

    def spy(self, objs, **kw):
        calls.append(len(objs))
        return original(self, objs, **kw)

    monkeypatch.setattr(QuerySet, "bulk_create", spy)
    rawrows.insert_many([_rating(cast) for _ in range(2)])
    assert calls == [2]
    calls.clear()
    from datetime import timedelta

    from django.utils import timezone

    from haocha.accounts.access import actor_for_api_key
    from haocha.catalogue.services import CaseInput, cases_upsert
    from tests.factories import resident_id

    now = timezone.now()
    [result] = cases_upsert(
        actor=actor_for_api_key(cast.key_city),
        records=[
            CaseInput(
                case_no="NO-RETURNING",
                item_code=cast.item_a.code,
                applicant_type="1",
                applicant_name="王五",
                applicant_id_number=resident_id(9),
                applicant_phone="13812345678",
                accepted_at=now - timedelta(days=1),
                finished_at=now - timedelta(hours=1),
                status="finished",
            )
        ],
    )
    assert calls == [1] and result.status == "created"
    assert result.case.pk is not None and Case.objects.get(case_no="NO-RETURNING").pk == result.case.pk
