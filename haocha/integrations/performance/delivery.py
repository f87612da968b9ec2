"""Queueing results for the 成效管理系统 and delivering them through the outbox, record by record.

Queue: `record_queue` writes a unit's result for a period once per distinct content (a changed result is the
next version, an unchanged one is left alone). Send (every worker round): due records claimed as one batch
and one outbox message in one transaction. Deliver (the outbox handler): the batch posted, signed; the
system answers per record (accepted, duplicate = already held, rejected with its reason); while it is down
the records wait with backoff. The receiver is idempotent on (record id, version), so a batch delivered
twice (a worker killed mid-post) doubles nothing.
"""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta

import orjson
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from haocha.core import clock
from haocha.core.outbox import handler, outbox_enqueue
from haocha.integrations.performance.client import PerformanceClient, PerformanceUnavailable, configured
from haocha.integrations.performance.models import PerformanceRecord

S = PerformanceRecord.Status
TOPIC = "performance.push"
STUCK_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class Result:
    """One unit's result for one period, as the system sends it (no personal data)."""

    kind: str
    unit_kind: str
    unit_id: int
    unit_code: str
    unit_name: str
    period: str
    payload: dict


def payload_hash(payload: dict) -> str:
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def record_queue(results: list[Result]) -> dict:
    """Queue each result whose content differs from the version last queued; returns counts
    {"new", "changed", "unchanged"}."""
    counts = {"new": 0, "changed": 0, "unchanged": 0}
    now = clock.now()
    with transaction.atomic():
        for r in results:
            digest = payload_hash(r.payload)
            key = {"kind": r.kind, "unit_kind": r.unit_kind, "unit_id": r.unit_id, "period": r.period}
            row = PerformanceRecord.objects.select_for_update().filter(**key).first()
            if row is None:
                PerformanceRecord.objects.create(
                    **key,
                    unit_code=r.unit_code,
                    unit_name=r.unit_name,
                    payload=r.payload,
                    payload_hash=digest,
                    queued_at=now,
                )
                counts["new"] += 1
            elif row.payload_hash != digest:
                PerformanceRecord.objects.filter(pk=row.pk).update(
                    unit_code=r.unit_code,
                    unit_name=r.unit_name,
                    payload=r.payload,
                    payload_hash=digest,
                    version=F("version") + 1,
                    status=S.QUEUED,
                    attempts=0,
                    batch="",
                    reject_code="",
                    reject_reason="",
                    last_error="",
                    queued_at=now,
                    next_attempt_at=None,
                    done_at=None,
                )
                counts["changed"] += 1
            else:
                counts["unchanged"] += 1
    return counts


def _due(now):
    return PerformanceRecord.objects.filter(status__in=(S.QUEUED, S.RETRYING)).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )


def send(*, batch_size: int | None = None, max_batches: int = 20) -> int:
    """Claim due records into batches, one outbox message each; returns how many were claimed."""
    size = batch_size or settings.HAOCHA_PERFORMANCE_BATCH
    claimed = 0
    for _ in range(max_batches):
        now = clock.now()
        with transaction.atomic():
            ids = list(_due(now).order_by("pk").values_list("pk", flat=True)[:size])
            if not ids:
                break
            batch = uuid.uuid4().hex
            PerformanceRecord.objects.filter(pk__in=ids).update(
                status=S.SENT, batch=batch, sent_at=now, attempts=F("attempts") + 1
            )
            outbox_enqueue(topic=TOPIC, key=f"performance:{batch}", payload={"batch": batch})
        claimed += len(ids)
        if len(ids) < size:
            break
    return claimed


def wire_record(row: PerformanceRecord) -> dict:
    return {
        "id": row.record_id,
        "version": row.version,
        "kind": row.kind,
        "unit": {"kind": row.unit_kind, "code": row.unit_code, "name": row.unit_name},
        "period": row.period,
        "data": row.payload,
    }


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(1800, 5 * 2 ** max(0, attempts - 1)))


@handler(TOPIC)
def deliver(payload: dict, client: PerformanceClient | None = None) -> None:
    """Post one batch and apply the answer record by record. A record queued again meanwhile (a newer
    version) is no longer `sent` under this batch: the answer about the older version leaves it alone."""
    rows = list(PerformanceRecord.objects.filter(batch=payload["batch"], status=S.SENT).order_by("pk"))
    if not rows:
        return  # answered already (a second delivery of the same message)
    now = clock.now()
    try:
        results = (client or PerformanceClient()).push([wire_record(r) for r in rows])
    except PerformanceUnavailable as exc:
        for row in rows:
            _sent(row).update(
                status=S.RETRYING, last_error=str(exc)[:500], next_attempt_at=now + _backoff(row.attempts)
            )
        return
    with transaction.atomic():
        for row, result in zip(rows, results, strict=True):
            result = result if isinstance(result, dict) else {}
            status = result.get("status")
            if status in ("accepted", "duplicate"):
                _sent(row).update(
                    status=S.ACCEPTED, done_at=now, last_error="", reject_code="", reject_reason=""
                )
            else:
                _sent(row).update(
                    status=S.REJECTED,
                    done_at=now,
                    reject_code=str(result.get("code") or "no_result")[:64],
                    reject_reason=str(result.get("message") or "成效管理系统未给出结果")[:500],
                )


def _sent(row: PerformanceRecord):
    """The row as it was sent: still `sent` in this batch and under this version."""
    return PerformanceRecord.objects.filter(pk=row.pk, status=S.SENT, batch=row.batch, version=row.version)


def requeue(ids) -> int:
    """重新推送: the given records (not those on their way) are sent again under their current version."""
    return (
        PerformanceRecord.objects.filter(pk__in=list(ids))
        .exclude(status=S.SENT)
        .update(
            status=S.QUEUED, attempts=0, next_attempt_at=None, reject_code="", reject_reason="", last_error=""
        )
    )


def release_stuck(now=None) -> int:
    """Records sent long ago without an answer (their message died or was lost) are sent again."""
    now = now or clock.now()
    return PerformanceRecord.objects.filter(status=S.SENT, sent_at__lt=now - STUCK_AFTER).update(
        status=S.RETRYING, next_attempt_at=now, last_error="发送后长时间无结果，重新发送"
    )


def run_round() -> str | None:
    """The worker's round: nothing while the system's address is not configured."""
    if not configured():
        return None
    released, claimed = release_stuck(), send()
    if released or claimed:
        return f"成效管理系统：重发 {released} 条，本轮发送 {claimed} 条"
    return None
