"""The child side of docking: what is owed upstairs is queued once per version, sent service records first
through the outbox, and followed record by record (the parent here is a scripted stand-in)."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from haocha.core.models import OutboxMessage
from haocha.core.outbox import outbox_process
from haocha.evaluations.models import Rating, RatingFlag
from haocha.integrations.docking import upload
from haocha.integrations.docking.client import ParentUnavailable
from haocha.integrations.docking.models import RecordKind, Upload
from tests.factories import finished_case

S = Upload.Status


class Parent:
    """Answers each record as `answer(record)` says; `down` makes it unreachable."""

    def __init__(self):
        self.batches: list[list[dict]] = []
        self.counts: list[dict | None] = []
        self.down = False
        self.answer = lambda record: {"status": "accepted", "code": "", "message": ""}

    def __call__(self, *args, **kwargs):
        return self

    def upload(self, records, counts=None):
        if self.down:
            raise ParentUnavailable("无法连接上级系统：Connection refused")
        self.batches.append(records)
        self.counts.append(counts)
        return [self.answer(r) for r in records]


@pytest.fixture
def parent(settings, monkeypatch):
    settings.HAOCHA_PARENT_URL = "http://parent.invalid"
    settings.HAOCHA_PARENT_APP_ID = "hc-430100"
    settings.HAOCHA_PARENT_SECRET = "s" * 32
    stand_in = Parent()
    monkeypatch.setattr(upload, "ParentClient", stand_in)
    return stand_in


def rate(case, level="satisfied", **extra) -> Rating:
    from haocha.evaluations.models import IndicatorSet

    return Rating.objects.create(
        case=case,
        department=case.department,
        item=case.item,
        region=case.region,
        level=level,
        is_bad=level in ("dissatisfied", "very_dissatisfied"),
        indicator_set=IndicatorSet.objects.get(code="offline", is_active=True),
        channel="tablet",
        rated_at=timezone.now() - timedelta(minutes=30),
        **extra,
    )


def round_trip():
    upload.run_round()
    outbox_process(limit=100)


def test_collect_queues_each_case_and_rating_once(cast, parent):
    case = finished_case(cast, "CS-0001")
    rate(case)
    assert upload.collect() == 2
    assert upload.collect() == 0  # the overlap rescans, nothing new
    kinds = list(Upload.objects.order_by("pk").values_list("kind", "record_id"))
    assert kinds[0] == (RecordKind.SERVICE, "CS-0001") and kinds[1][0] == RecordKind.RATING


def test_service_records_go_before_ratings_and_are_accepted(cast, parent):
    for n in range(3):
        rate(finished_case(cast, f"CS-000{n}", seq=n + 1))
    upload.collect()
    # queued after the ratings (higher keys), the service records still go first
    services = list(Upload.objects.filter(kind=RecordKind.SERVICE))
    Upload.objects.filter(kind=RecordKind.SERVICE).delete()
    for row in services:
        row.pk = None
        row.save()
    round_trip()
    [batch] = parent.batches
    assert [r["type"] for r in batch] == ["service"] * 3 + ["rating"] * 3
    assert set(Upload.objects.values_list("status", flat=True)) == {S.ACCEPTED}
    service = batch[0]["data"]
    assert service["areaCode"] == "430100000000" and len(service["areaCode"]) == 12
    assert service["userName"] == "王**"  # masked; no ID number, no phone
    assert "certKey" not in service and "mobile" not in service
    assert "13812345678" not in str(batch)
    assert batch[3]["data"]["satisfaction"] == 4 and batch[3]["data"]["pf"] == "4"


def test_a_newer_version_of_a_case_supersedes_the_one_still_waiting(cast, parent):
    case = finished_case(cast, "CS-0001")
    upload.collect()
    case.updated_at = timezone.now() + timedelta(seconds=1)
    case.save(update_fields=["updated_at"])
    upload.collect()
    rows = list(Upload.objects.order_by("version").values_list("status", "reject_code"))
    assert rows == [(S.ACCEPTED, "superseded"), (S.QUEUED, "")]
    round_trip()
    assert len(parent.batches[0]) == 1


def test_parent_down_nothing_lost_and_sent_when_it_returns(cast, parent):
    rate(finished_case(cast, "CS-0001"))
    parent.down = True
    round_trip()
    rows = list(Upload.objects.all())
    assert {r.status for r in rows} == {S.RETRYING}
    assert all("无法连接上级系统" in r.last_error for r in rows)
    assert all(r.next_attempt_at > timezone.now() for r in rows)
    round_trip()  # not due yet: nothing is hammered
    assert Upload.objects.filter(attempts=1).count() == 2
    parent.down = False
    Upload.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    round_trip()
    assert set(Upload.objects.values_list("status", flat=True)) == {S.ACCEPTED}
    assert len(parent.batches) == 1


def test_a_refused_record_shows_its_reason_and_goes_again_when_requeued(cast, parent):
    finished_case(cast, "CS-0001")
    parent.answer = lambda r: {"status": "rejected", "code": "item_not_found", "message": "事项编码不存在"}
    round_trip()
    row = Upload.objects.get()
    assert (row.status, row.reject_code, row.reject_reason) == (
        S.REJECTED,
        "item_not_found",
        "事项编码不存在",
    )
    round_trip()
    assert len(parent.batches) == 1  # a rejected record is not sent again by itself
    parent.answer = lambda r: {"status": "accepted"}
    assert upload.requeue([row.pk]) == 1
    round_trip()
    assert Upload.objects.get().status == S.ACCEPTED


def test_a_rating_whose_service_record_is_not_there_yet_is_sent_again(cast, parent):
    rate(finished_case(cast, "CS-0001"))
    parent.answer = lambda r: (
        {"status": "accepted"}
        if r["type"] == "service"
        else {"status": "rejected", "code": "service_record_missing", "message": "没有对应的服务数据"}
    )
    round_trip()
    assert Upload.objects.get(kind=RecordKind.RATING).status == S.RETRYING
    parent.answer = lambda r: {"status": "accepted"}
    Upload.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    round_trip()
    assert Upload.objects.get(kind=RecordKind.RATING).status == S.ACCEPTED


def test_a_second_delivery_of_an_answered_batch_sends_nothing(cast, parent):
    finished_case(cast, "CS-0001")
    upload.run_round()
    message = OutboxMessage.objects.get(topic=upload.TOPIC)
    upload.deliver(message.payload)
    upload.deliver(message.payload)  # the worker died before marking the message done
    assert len(parent.batches) == 1


def test_rows_sent_long_ago_without_an_answer_are_sent_again(cast, parent):
    finished_case(cast, "CS-0001")
    upload.run_round()  # claimed, the message never delivered (its worker was killed)
    Upload.objects.update(sent_at=timezone.now() - timedelta(minutes=11))
    assert upload.release_stuck() == 1
    outbox_process(limit=100)  # the old message finds nothing SENT
    round_trip()
    assert Upload.objects.get().status == S.ACCEPTED


def test_a_validity_change_is_queued_after_its_rating(cast, parent):
    rating = rate(finished_case(cast, "CS-0001"), level="very_dissatisfied", comment="态度差")
    flag = RatingFlag.objects.create(rating=rating, kind="invalid", reason="申诉成立")
    RatingFlag.objects.create(rating=rating, kind="note", reason="说明")  # not a validity change
    round_trip()
    batch = parent.batches[0]
    assert [r["type"] for r in batch] == ["service", "rating", "validity"]
    assert batch[2]["version"] == flag.pk and batch[2]["data"]["kind"] == "invalid"


def test_without_a_parent_nothing_is_collected(cast, settings):
    settings.HAOCHA_PARENT_URL = ""
    finished_case(cast, "CS-0001")
    assert upload.run_round() is None
    assert not Upload.objects.exists()


def test_a_work_orders_handling_data_goes_up_after_its_rating_and_again_when_it_moves(cast, parent):
    from haocha.accounts.access import Actor
    from haocha.workorders import machine
    from haocha.workorders.creation import work_order_for_rating

    rating = rate(finished_case(cast, "CS-0001"), level="very_dissatisfied", comment="排队太久")
    order = work_order_for_rating(rating=rating, actor=Actor(label="测试"))
    round_trip()
    batch = parent.batches[0]
    assert [r["type"] for r in batch] == ["service", "rating", "order"]
    data = batch[2]["data"]
    assert data["orderNo"] == order.number and data["status"] == "pending_verify"
    assert [s["label"] for s in data["steps"]] == ["生成工单"]
    machine.move(order, "verify", actor=Actor(label="12345话务员"), note="属实")
    round_trip()
    [again] = parent.batches[1:]
    assert [r["type"] for r in again] == ["order"] and again[0]["version"] > batch[2]["version"]
    assert again[0]["data"]["status"] == "pending_verify" and len(again[0]["data"]["steps"]) == 2


def test_the_daily_counts_go_up_with_a_batch_every_ten_minutes(cast, parent):
    rate(finished_case(cast, "CS-0001"))
    rate(finished_case(cast, "CS-0002", seq=2))
    round_trip()
    day = timezone.localdate(Rating.objects.first().rated_at).isoformat()
    assert parent.counts[0] == {"rating": {day: 2}}
    rate(finished_case(cast, "CS-0003", seq=3))
    round_trip()
    assert parent.counts[1] is None  # not again within ten minutes


def test_many_cases_written_in_the_same_instant_are_all_collected(cast, parent, monkeypatch):
    from haocha.catalogue.models import Case

    monkeypatch.setattr(upload, "COLLECT_LIMIT", 3)
    for n in range(7):
        finished_case(cast, f"CS-{n:04d}", seq=n + 1)
    Case.objects.update(updated_at=timezone.now() - timedelta(hours=1))  # one bulk import's instant
    for _ in range(3):
        upload.collect()
    assert Upload.objects.filter(kind=RecordKind.SERVICE).count() == 7
    assert upload.collect() == 0  # and the cursor is past them: nothing is looked at again


def test_a_late_commit_within_the_overlap_is_still_found(cast, parent):
    from haocha.catalogue.models import Case

    finished_case(cast, "CS-0001")
    upload.collect()
    late = finished_case(cast, "CS-0002", seq=2)
    # written "before" the rows the collector has seen, committed after it looked
    Case.objects.filter(pk=late.pk).update(updated_at=timezone.now() - timedelta(seconds=20))
    upload.collect()
    assert Upload.objects.filter(kind=RecordKind.SERVICE, record_id="CS-0002").exists()


def test_free_text_goes_up_with_personal_data_masked_and_other_words_kept(cast, parent):
    from haocha.accounts.access import Actor
    from haocha.workorders import machine
    from haocha.workorders.creation import work_order_for_rating

    words = "等了两个小时，请回电13912345678"
    rating = rate(finished_case(cast, "CS-0001"), level="very_dissatisfied", comment=words)
    order = work_order_for_rating(rating=rating, actor=Actor(label="测试"))
    machine.move(order, "verify", actor=Actor(label="话务员"), note="已致电13912345678核实，属实")
    round_trip()
    records = {r["type"]: r["data"] for batch in parent.batches for r in batch}
    sent = str(parent.batches)
    assert "13912345678" not in sent
    assert records["rating"]["writingEvaluation"].startswith("等了两个小时，请回电")
    assert "属实" in records["order"]["steps"][-1]["note"]


def test_a_quiet_child_still_sends_its_daily_counts_and_again_after_an_outage(cast, parent):
    rate(finished_case(cast, "CS-0001"))
    round_trip()
    day = timezone.localdate(Rating.objects.first().rated_at).isoformat()
    assert parent.counts == [{"rating": {day: 1}}]
    later = timezone.now() + timedelta(minutes=11)
    with mock.patch("django.utils.timezone.now", return_value=later):
        parent.down = True
        upload.run_round()  # nothing new to send: the counts alone, through the outbox
        assert outbox_process(now=later)["retry"] == 1
        parent.down = False
        assert outbox_process(now=later + timedelta(minutes=5))["done"] == 1
    assert parent.batches[-1] == [] and parent.counts[-1] == {"rating": {day: 1}}


def made_ago(**delta):
    """A version-7 public id as if made `delta` ago (its row written then, committed only now)."""
    from datetime import UTC, datetime

    from haocha.core.ids import uuid7_floor

    return uuid7_floor(datetime.now(UTC) - timedelta(**delta))


def test_a_rating_committed_late_is_found_within_the_overlap_and_by_the_hourly_catch_up(cast, parent):
    rate(finished_case(cast, "CS-0001"))
    assert upload.collect() == 2  # its service record and the rating
    # Ratings whose ids were made before the one seen, committed after the collector looked (an import
    # batch of 5,000, a rating waiting on a lock): 20 s late is within the overlap, 5 minutes is not.
    within = rate(finished_case(cast, "CS-0002", seq=2), public_id=made_ago(seconds=20))
    beyond = rate(finished_case(cast, "CS-0003", seq=3), public_id=made_ago(minutes=5))
    upload.collect()
    queued = set(Upload.objects.filter(kind=RecordKind.RATING).values_list("record_id", flat=True))
    assert str(within.public_id) in queued and str(beyond.public_id) not in queued
    assert upload.catch_up_ratings() == 1
    assert Upload.objects.filter(kind=RecordKind.RATING, record_id=str(beyond.public_id)).exists()
    assert upload.catch_up_ratings() == 0  # not again within the hour
    assert upload.collect() == 0  # and nothing is queued twice


def test_ratings_are_collected_past_the_limit_in_id_order_and_once(cast, parent, monkeypatch):
    monkeypatch.setattr(upload, "COLLECT_LIMIT", 2)
    for n in range(5):
        rate(finished_case(cast, f"CS-{n:04d}", seq=n + 1), public_id=made_ago(minutes=10 - n))
    for _ in range(3):
        upload.collect()
    assert Upload.objects.filter(kind=RecordKind.RATING).count() == 5
    assert upload.collect() == 0


def test_a_not_yet_answer_is_retried_however_many_attempts_an_outage_took(cast, parent):
    rate(finished_case(cast, "CS-0001"))
    parent.down = True
    for _ in range(3):  # the parent down: attempts counted, no answer
        upload.run_round()
        outbox_process(limit=100)
        Upload.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    Upload.objects.update(attempts=upload.MAX_NOT_YET + 5)  # a long outage's attempts
    parent.down = False
    parent.answer = lambda r: (
        {"status": "accepted"}
        if r["type"] == "service"
        else {"status": "rejected", "code": "service_record_missing", "message": "没有对应的服务数据"}
    )
    round_trip()
    row = Upload.objects.get(kind=RecordKind.RATING)
    assert (row.status, row.waits) == (S.RETRYING, 1)
    Upload.objects.filter(pk=row.pk).update(
        waits=upload.MAX_NOT_YET, next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    round_trip()
    row.refresh_from_db()
    assert (row.status, row.reject_code) == (S.REJECTED, "service_record_missing")
    assert upload.requeue() == 1
    row.refresh_from_db()
    assert (row.status, row.waits, row.attempts) == (S.QUEUED, 0, 0)


def test_the_daily_counts_of_a_batch_that_was_not_delivered_go_with_the_next(cast, parent):
    rate(finished_case(cast, "CS-0001"))
    parent.down = True
    round_trip()
    parent.down = False
    Upload.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    round_trip()
    day = timezone.localdate(Rating.objects.get().rated_at).isoformat()
    assert parent.counts == [{"rating": {day: 1}}]


def test_a_staff_step_goes_up_under_the_role_it_was_taken_in_not_the_login_name(cast, parent):
    from haocha.accounts.access import actor_for_user
    from haocha.workorders import machine
    from haocha.workorders.creation import work_order_for_rating

    rating = rate(finished_case(cast, "CS-0001"), level="very_dissatisfied", comment="排队太久")
    order = work_order_for_rating(rating=rating, actor=actor_for_user(cast.operator))
    machine.move(order, "verify", actor=actor_for_user(cast.operator), note="属实")
    round_trip()
    steps = next(r for b in parent.batches for r in b if r["type"] == "order")["data"]["steps"]
    assert [s["actor"] for s in steps] == ["系统", "12345话务员"]
    assert cast.operator.username not in str(parent.batches)


def test_a_row_another_process_claimed_meanwhile_stays_in_its_batch(cast, parent, monkeypatch):
    finished_case(cast, "CS-0001")
    finished_case(cast, "CS-0002", seq=2)
    upload.collect()
    taken = Upload.objects.order_by("pk").first()
    Upload.objects.filter(pk=taken.pk).update(status=S.SENT, batch="other")  # another worker's claim
    # as if this process had listed the due rows just before the other one claimed its row
    monkeypatch.setattr(upload, "_due", lambda now: Upload.objects.all())
    assert upload.send() == 1
    taken.refresh_from_db()
    assert taken.batch == "other"
    assert OutboxMessage.objects.filter(topic=upload.TOPIC).count() == 1


def test_the_upgrade_starts_the_ratings_cursor_at_the_old_overlap(cast, parent):
    import importlib

    from django.apps import apps

    from haocha.integrations.docking.models import UploadCursor

    migration = importlib.import_module(
        "haocha.integrations.docking.migrations.0004_upload_waits_and_rating_mark"
    )
    ratings = [rate(finished_case(cast, f"CS-{n:04d}", seq=n + 1)) for n in range(3)]
    UploadCursor.objects.create(name="ratings", position=ratings[-1].pk + 2000)  # the old cursor
    migration.mark_from_position(apps, None)
    assert UploadCursor.objects.get(name="ratings").mark == str(ratings[-1].public_id)
    upload.collect()  # what follows the mark is collected; history before it is not rescanned
    assert not Upload.objects.filter(kind=RecordKind.RATING).exists()
    newer = rate(finished_case(cast, "CS-0009", seq=9))
    upload.collect()
    assert list(Upload.objects.filter(kind=RecordKind.RATING).values_list("record_id", flat=True)) == [
        str(newer.public_id)
    ]
