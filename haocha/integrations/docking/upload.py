"""The child side: every case, rating and validity change owed to the parent, collected, sent in batches
through the outbox, and followed record by record until the parent accepts or rejects it.

Collect (every worker round): new and changed rows since the last look, rescanned with an overlap (a
transaction may commit after a later one), written as Upload rows once per (kind, record, version).
Send: due rows, service records first, claimed as one batch and one outbox message in one transaction.
Deliver (the outbox handler): the records built from the database as they are now, signed and posted; the
parent answers per record. A worker killed mid-upload leaves the message locked; it is delivered again
and the parent, idempotent on (system, kind, record, version), answers `duplicate` for what it has.
"""

import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Max, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from haocha.catalogue.models import Case
from haocha.core import clock
from haocha.core.ids import uuid7_floor
from haocha.core.outbox import handler, outbox_enqueue
from haocha.evaluations.importfiles import chunks
from haocha.evaluations.models import Rating, RatingFlag
from haocha.evaluations.policy import policy_for_region
from haocha.integrations.docking import national
from haocha.integrations.docking.client import ParentClient, ParentUnavailable, configured, parent_client
from haocha.integrations.docking.dispatch import UPPER_CLIENT
from haocha.integrations.docking.models import KIND_ORDER, RecordKind, Upload, UploadCursor
from haocha.workorders.models import WorkOrder

S = Upload.Status
TOPIC = "docking.upload"
OVERLAP = timedelta(seconds=30)  # a transaction may commit this long after the time it wrote
COLLECT_LIMIT = 20000
# Refusals that mean "not yet" (its service record or rating is on its way): sent again, not rejected,
# up to MAX_NOT_YET such answers (Upload.waits; attempts the parent never answered do not count).
NOT_YET = frozenset({"service_record_missing", "rating_missing"})
MAX_NOT_YET = 50
STUCK_AFTER = timedelta(minutes=10)
VALIDITY_KINDS = (RatingFlag.Kind.INVALID, RatingFlag.Kind.RESTORE)


def case_version(case_updated_at) -> int:
    return int(case_updated_at.timestamp() * 1_000_000)


def _cursor(name: str) -> UploadCursor:
    return UploadCursor.objects.get_or_create(name=name)[0]


def _add(rows: list[Upload]) -> int:
    """Write the rows not already there; returns how many were new."""
    new = []
    for part in chunks(rows, 500):
        have = set(
            Upload.objects.filter(kind=part[0].kind, record_id__in=[r.record_id for r in part]).values_list(
                "record_id", "version"
            )
        )
        new += [r for r in part if (r.record_id, r.version) not in have]
    Upload.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
    return len(new)


def _changed(queryset, name: str, *fields) -> list[tuple]:
    """(pk, updated_at, *fields) of rows changed since the cursor, in (updated_at, pk) order, at most
    COLLECT_LIMIT. The cursor follows the last row seen but never passes now − OVERLAP: a row whose
    transaction commits late (up to OVERLAP after its time) is still found; the last OVERLAP of activity is
    looked at again each round (what is already queued is skipped by _add)."""
    cursor = _cursor(name)
    if cursor.at:
        queryset = queryset.filter(
            Q(updated_at__gt=cursor.at) | Q(updated_at=cursor.at, pk__gt=cursor.position)
        )
    found = list(
        queryset.order_by("updated_at", "pk").values_list("pk", "updated_at", *fields)[:COLLECT_LIMIT]
    )
    if found:
        at, pk = found[-1][1], found[-1][0]
        safe = clock.now() - OVERLAP
        if at > safe:
            at, pk = safe, 0
        if cursor.at is None or (at, pk) > (cursor.at, cursor.position):
            UploadCursor.objects.filter(pk=cursor.pk).update(at=at, position=pk)
    return found


def collect() -> int:
    """Queue what changed since the last look; returns how many new Upload rows."""
    added = 0
    found = _changed(Case.objects.all(), "cases", "case_no")
    if found:
        rows = [
            Upload(kind=RecordKind.SERVICE, record_id=no, object_id=pk, version=case_version(at))
            for pk, at, no in found
        ]
        added += _add(rows)
        _supersede({no for _pk, _at, no in found})

    added += _collect_ratings()

    cursor = _cursor("flags")
    flags = (
        RatingFlag.objects.filter(
            pk__gt=max(0, cursor.position - 200), kind__in=VALIDITY_KINDS, rating__case__isnull=False
        )
        .order_by("pk")
        .values_list("pk", "rating__public_id")[:COLLECT_LIMIT]
    )
    found = list(flags)
    if found:
        added += _add(
            [
                Upload(kind=RecordKind.VALIDITY, record_id=str(pid), object_id=pk, version=pk)
                for pk, pid in found
            ]
        )
        UploadCursor.objects.filter(pk=cursor.pk).update(position=max(cursor.position, found[-1][0]))

    # with the orders a child of this system handles (their state as it reports), for the levels above
    found = _changed(
        WorkOrder.objects.filter(rating__case__isnull=False), "orders", "rating__public_id", "version"
    )
    if found:
        rows = [
            Upload(kind=RecordKind.ORDER, record_id=str(pid), object_id=pk, version=version + 1)
            for pk, _at, pid, version in found
        ]
        added += _add(rows)
        _supersede({str(pid) for _pk, _at, pid, _v in found}, RecordKind.ORDER)
    return added


def _ratings_owed():
    """The ratings owed upstairs: those of a case here, not those the parent sent down (it has them)."""
    return Rating.objects.filter(case__isnull=False).exclude(source__name=UPPER_CLIENT)


def _collect_ratings() -> int:
    """New ratings, in the order of their public ids (made when the row is written, core.ids: time-ordered,
    on the unique index). The cursor follows the last id seen but never passes the id of now − OVERLAP,
    so a rating whose transaction commits late is still found (an import batch of 5,000 or a rating
    waiting on a lock gets its id before rows written after it commit; a row id cursor would skip it)."""
    cursor = _cursor("ratings")
    rows = _ratings_owed()
    if cursor.mark:
        rows = rows.filter(public_id__gt=uuid.UUID(cursor.mark))
    found = list(rows.order_by("public_id").values_list("pk", "public_id")[:COLLECT_LIMIT])
    if not found:
        return 0
    added = _add([Upload(kind=RecordKind.RATING, record_id=str(pid), object_id=pk) for pk, pid in found])
    mark = min(found[-1][1], uuid7_floor(datetime.now(UTC) - OVERLAP))
    if not cursor.mark or mark > uuid.UUID(cursor.mark):
        UploadCursor.objects.filter(pk=cursor.pk).update(mark=str(mark))
    return added


CATCH_UP_EVERY = timedelta(hours=1)
CATCH_UP_DAYS = 2


def catch_up_ratings() -> int:
    """Once an hour, the ratings of the last CATCH_UP_DAYS days with no Upload row at all (a transaction that
    committed later than OVERLAP after its id was made) are queued: compared by id, ratings against rows."""
    cursor = _cursor("ratings_catch_up")
    now = datetime.now(UTC)
    if cursor.at and now - cursor.at < CATCH_UP_EVERY:
        return 0
    UploadCursor.objects.filter(pk=cursor.pk).update(at=now)
    floor = uuid7_floor(now - timedelta(days=CATCH_UP_DAYS))
    queued = set(
        Upload.objects.filter(kind=RecordKind.RATING, record_id__gte=str(floor)).values_list(
            "record_id", flat=True
        )
    )
    missing = [
        Upload(kind=RecordKind.RATING, record_id=str(pid), object_id=pk)
        for pk, pid in _ratings_owed().filter(public_id__gte=floor).values_list("pk", "public_id").iterator()
        if str(pid) not in queued
    ]
    return _add(missing)


def _supersede(record_ids: set[str], kind: str = RecordKind.SERVICE) -> None:
    """An older version of a record still waiting is not sent after a newer one (it would undo it)."""
    latest = (
        Upload.objects.filter(kind=kind, record_id__in=record_ids)
        .values("record_id")
        .annotate(v=Max("version"))
    )
    newest = {row["record_id"]: row["v"] for row in latest}
    waiting = Upload.objects.filter(
        kind=kind, record_id__in=record_ids, status__in=(S.QUEUED, S.RETRYING, S.REJECTED)
    ).values_list("pk", "record_id", "version")
    old = [pk for pk, no, version in waiting if version < newest.get(no, 0)]
    if old:
        Upload.objects.filter(pk__in=old).update(
            status=S.ACCEPTED, reject_code="superseded", reject_reason="已由新版本取代", done_at=clock.now()
        )


def _due(now):
    return Upload.objects.filter(status__in=(S.QUEUED, S.RETRYING)).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )


def send(*, batch_size: int | None = None, max_batches: int = 20) -> int:
    """Claim due rows into batches (service records first), one outbox message each; returns rows claimed."""
    size = batch_size or settings.HAOCHA_DOCKING_BATCH
    claimed = 0
    for _ in range(max_batches):
        now = clock.now()
        with transaction.atomic():
            ids = []
            for kind in sorted(RecordKind.values, key=KIND_ORDER.get):
                if len(ids) >= size:
                    break
                ids += list(
                    _due(now).filter(kind=kind).order_by("pk").values_list("pk", flat=True)[: size - len(ids)]
                )
            if not ids:
                break
            batch = uuid.uuid4().hex
            # only rows still due: another process claiming at once (several workers) keeps its own
            n = Upload.objects.filter(pk__in=ids, status__in=(S.QUEUED, S.RETRYING)).update(
                status=S.SENT, batch=batch, sent_at=now, attempts=F("attempts") + 1
            )
            if n:
                outbox_enqueue(topic=TOPIC, key=f"docking:{batch}", payload={"batch": batch})
        claimed += n
        if len(ids) < size:
            break
    return claimed


def build_records(rows: list[Upload]) -> tuple[list[dict], list[Upload]]:
    """The records as they are now; rows whose object is gone are returned separately."""
    by_kind: dict[str, list[Upload]] = {}
    for row in rows:
        by_kind.setdefault(row.kind, []).append(row)
    objects: dict[tuple, dict] = {}
    cases = Case.objects.select_related("item", "department", "region", "hall").in_bulk(
        [r.object_id for r in by_kind.get(RecordKind.SERVICE, [])]
    )
    for pk, case in cases.items():
        objects[(RecordKind.SERVICE, pk)] = national.service_record(case)
    ratings = Rating.objects.select_related("case", "region", "staff").in_bulk(
        [r.object_id for r in by_kind.get(RecordKind.RATING, [])]
    )
    tables: dict[int, dict] = {}
    for pk, rating in ratings.items():
        if rating.region_id not in tables:
            tables[rating.region_id] = policy_for_region(rating.region).channel_codes or None
        objects[(RecordKind.RATING, pk)] = national.rating_record(rating, tables[rating.region_id])
    flags = RatingFlag.objects.select_related("rating__case").in_bulk(
        [r.object_id for r in by_kind.get(RecordKind.VALIDITY, [])]
    )
    for pk, flag in flags.items():
        objects[(RecordKind.VALIDITY, pk)] = national.validity_record(flag)
    orders = (
        WorkOrder.objects.select_related("case", "rating", "department")
        .prefetch_related("transitions__actor__roles")
        .in_bulk([r.object_id for r in by_kind.get(RecordKind.ORDER, [])])
    )
    for pk, order in orders.items():
        objects[(RecordKind.ORDER, pk)] = national.order_record(order)
    records, gone = [], []
    for row in rows:
        data = objects.get((row.kind, row.object_id))
        if data is None:
            gone.append(row)
        else:
            records.append({"type": row.kind, "id": row.record_id, "version": row.version, "data": data})
    return records, gone


COUNTS_EVERY = timedelta(minutes=10)
COUNTS_CURSOR = "counts"  # when the counts last went up
COUNT_DAYS = 7


def daily_counts(now=None) -> dict | None:
    """The daily count exchange, at most every COUNTS_EVERY: the ratings this system holds for each of the
    last COUNT_DAYS days (by rating day, those it uploads), for the parent to reconcile with what arrived."""
    now = now or clock.now()
    cursor = _cursor(COUNTS_CURSOR)
    if cursor.at and now - cursor.at < COUNTS_EVERY:
        return None
    start = timezone.localdate(now) - timedelta(days=COUNT_DAYS - 1)
    rows = (
        _ratings_owed()
        .filter(rated_at__date__gte=start)
        .annotate(day=TruncDate("rated_at"))
        .values_list("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    UploadCursor.objects.filter(pk=cursor.pk).update(at=now)
    return {RecordKind.RATING: {day.isoformat(): n for day, n in rows}}


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(1800, 5 * 2 ** max(0, attempts - 1)))


COUNTS_TOPIC = "docking.counts"


def queue_counts_if_quiet(now=None) -> bool:
    """A child with nothing to send still tells its parent its daily counts every COUNTS_EVERY (an empty
    batch carrying them), so a parent can see a quiet child's counts disagree with what arrived. Only to a
    haocha parent: a provincial platform has no count exchange."""
    if settings.HAOCHA_PARENT_PROTOCOL != "haocha":
        return False
    now = now or clock.now()
    counts = daily_counts(now)
    if counts is None:
        return False
    outbox_enqueue(topic=COUNTS_TOPIC, key=f"counts:{uuid.uuid4().hex}", payload={"counts": counts})
    return True


@handler(COUNTS_TOPIC)
def deliver_counts(payload: dict, client: ParentClient | None = None) -> None:
    (client or parent_client(ParentClient)).upload([], counts=payload["counts"])  # retried while it is down


@handler(TOPIC)
def deliver(payload: dict, client: ParentClient | None = None) -> None:
    """Post one batch and apply the parent's answer record by record."""
    rows = list(Upload.objects.filter(batch=payload["batch"], status=S.SENT))
    rows.sort(key=lambda r: (KIND_ORDER[r.kind], r.pk))  # service records first, as upstairs needs them
    if not rows:
        return  # already answered (a second delivery of the same message)
    records, gone = build_records(rows)
    now = clock.now()
    if gone:
        Upload.objects.filter(pk__in=[r.pk for r in gone]).update(
            status=S.REJECTED, reject_code="record_gone", reject_reason="本地记录已不存在", done_at=now
        )
    if not records:
        return
    sent = [r for r in rows if r not in gone]
    counts = daily_counts()
    try:
        results = (client or parent_client(ParentClient)).upload(records, counts=counts)
    except ParentUnavailable as exc:
        if counts is not None:  # not delivered: the next batch (or the quiet round) carries them
            UploadCursor.objects.filter(name=COUNTS_CURSOR).update(at=None)
        for row in sent:
            Upload.objects.filter(pk=row.pk, status=S.SENT).update(
                status=S.RETRYING, last_error=str(exc)[:500], next_attempt_at=now + _backoff(row.attempts)
            )
        return
    _apply_results(sent, results, now)


def _apply_results(rows: list[Upload], results: list[dict], now) -> None:
    accepted, retry, rejected = [], [], []
    for row, result in zip(rows, results, strict=True):
        status = result.get("status") if isinstance(result, dict) else None
        code = str(result.get("code") or "")[:64] if isinstance(result, dict) else ""
        message = str(result.get("message") or "")[:500] if isinstance(result, dict) else ""
        if status in ("accepted", "duplicate"):
            accepted.append(row.pk)
        elif status == "rejected" and code in NOT_YET and row.waits < MAX_NOT_YET:
            retry.append((row, code, message))
        else:
            rejected.append((row.pk, code or "no_result", message or "上级系统未给出结果"))
    with transaction.atomic():
        if accepted:
            Upload.objects.filter(pk__in=accepted).update(
                status=S.ACCEPTED, done_at=now, last_error="", reject_code="", reject_reason=""
            )
        for row, code, message in retry:
            Upload.objects.filter(pk=row.pk).update(
                status=S.RETRYING,
                reject_code=code,
                reject_reason=message,
                waits=F("waits") + 1,
                next_attempt_at=now + timedelta(seconds=min(300, 5 * (row.waits + 1))),
            )
        for pk, code, message in rejected:
            Upload.objects.filter(pk=pk).update(
                status=S.REJECTED, reject_code=code, reject_reason=message, done_at=now
            )


def requeue(ids=None, *, kind: str | None = None) -> int:
    """重新上报: rejected rows (all, or the given ones) queued again, e.g. after the data was corrected."""
    rows = Upload.objects.filter(status=S.REJECTED).exclude(reject_code__in=("superseded", "record_gone"))
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    if kind:
        rows = rows.filter(kind=kind)
    return rows.update(
        status=S.QUEUED, next_attempt_at=None, reject_code="", reject_reason="", attempts=0, waits=0
    )


def release_stuck(now=None) -> int:
    """Rows sent long ago without an answer (their message died or was lost) are sent again."""
    now = now or clock.now()
    return Upload.objects.filter(status=S.SENT, sent_at__lt=now - STUCK_AFTER).update(
        status=S.RETRYING, next_attempt_at=now, last_error="发送后长时间无结果，重新发送"
    )


def upload_round() -> tuple[int, int, int]:
    """Collect, release stuck rows, claim due batches: (new rows, released, claimed)."""
    return collect() + catch_up_ratings(), release_stuck(), send()


def run_round() -> str | None:
    """The worker's round (nothing without a parent)."""
    if not configured():
        return None
    added, released, claimed = upload_round()
    if not claimed:
        queue_counts_if_quiet()
    if added or released or claimed:
        return f"上报：新增 {added} 条，重发 {released} 条，本轮发送 {claimed} 条"
    return None
