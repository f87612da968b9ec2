"""The outbox: enqueue inside a transaction; the worker delivers with retries, backoff and a dead list."""

import logging
import traceback
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from haocha.core.models import Message, OutboxMessage

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
LOCK_SECONDS = 60
HANDLERS: dict[str, Callable[[dict], None]] = {}


class PermanentError(Exception):
    """The message can never be delivered as it is: no retry."""


def handler(topic: str):
    def register(fn):
        HANDLERS[topic] = fn
        return fn

    return register


def outbox_enqueue(*, topic: str, key: str, payload: dict) -> None:
    """Write a message in the caller's transaction; the same key is enqueued once."""
    try:
        with transaction.atomic():
            OutboxMessage.objects.create(
                topic=topic, key=key[:128], payload=payload, next_attempt_at=timezone.now()
            )
    except IntegrityError:
        pass


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 5 * 2 ** (attempts - 1)))


def outbox_process(*, limit: int = 100, now=None) -> dict:
    """Deliver due messages once each; returns counts. Safe to run in several workers at once."""
    now = now or timezone.now()
    counts = {"done": 0, "retry": 0, "dead": 0}
    due = list(
        OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        lock = now + timedelta(seconds=LOCK_SECONDS)
        claimed = (
            OutboxMessage.objects.filter(pk=pk, status=OutboxMessage.Status.PENDING)
            .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
            .update(locked_until=lock, attempts=F("attempts") + 1)
        )
        if not claimed:
            continue  # another worker has it
        msg = OutboxMessage.objects.get(pk=pk)
        fn = HANDLERS.get(msg.topic)
        try:
            if fn is None:
                raise PermanentError(f"没有处理主题 {msg.topic} 的程序")
            fn(msg.payload)
        except PermanentError as exc:
            OutboxMessage.objects.filter(pk=pk).update(
                status=OutboxMessage.Status.DEAD, last_error=str(exc), locked_until=None
            )
            counts["dead"] += 1
        except Exception as exc:  # transient: retry with backoff, dead after MAX_ATTEMPTS
            log.warning("outbox %s failed: %s", msg.key, exc)
            dead = msg.attempts >= MAX_ATTEMPTS
            OutboxMessage.objects.filter(pk=pk).update(
                status=OutboxMessage.Status.DEAD if dead else OutboxMessage.Status.PENDING,
                next_attempt_at=now + _backoff(msg.attempts),
                last_error="".join(traceback.format_exception_only(exc)).strip()[:2000],
                locked_until=None,
            )
            counts["dead" if dead else "retry"] += 1
        else:
            OutboxMessage.objects.filter(pk=pk).update(
                status=OutboxMessage.Status.DONE, done_at=timezone.now(), locked_until=None, last_error=""
            )
            counts["done"] += 1
    return counts


@handler("staff.notify")
def deliver_staff_message(payload: dict) -> None:
    """In-app messages; applied once per user and key however often the message is delivered."""
    for user_id in payload.get("user_ids", []):
        Message.objects.get_or_create(
            user_id=user_id,
            key=payload["key"],
            defaults={
                "title": payload["title"],
                "body": payload.get("body", ""),
                "link": payload.get("link", ""),
            },
        )
