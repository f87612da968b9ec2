"""SQLite write transactions queue on the writer lock file: a waiter gets in as soon as the holder
commits, gives up with "database is locked" after the connection's timeout, and a wait that gave up never
releases a lock taken later."""

import contextlib
import fcntl
import os
import threading
import time

import pytest
from django.db import OperationalError, connection, transaction

from haocha.organisations.models import Region

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only"),
]


def _holder(locked: threading.Event, release: threading.Event):
    try:
        with transaction.atomic():
            Region.objects.create(code="439997001000", name="持锁", level=Region.Level.STREET)
            locked.set()
            release.wait(timeout=30)
    finally:
        connection.close()


@contextlib.contextmanager
def another_writer():
    """Another connection holds a write transaction until the yielded event is set."""
    locked, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_holder, args=(locked, release))
    holder.start()
    assert locked.wait(timeout=30)
    try:
        yield release
    finally:
        release.set()
        holder.join(timeout=30)


@contextlib.contextmanager
def lock_timeout(seconds: float):
    options = connection.settings_dict["OPTIONS"]
    saved = options.get("timeout")
    options["timeout"] = seconds
    try:
        yield
    finally:
        options["timeout"] = saved


def _lock_is_free(path: str) -> bool:
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # releases it, if it was taken here
    return True


def test_a_waiting_writer_gets_in_when_the_holder_commits():
    entered = {}

    def waiter():
        try:
            with transaction.atomic():
                entered["at"] = time.monotonic()
                Region.objects.create(code="439997002000", name="等待", level=Region.Level.STREET)
        finally:
            connection.close()

    with another_writer() as release:
        w = threading.Thread(target=waiter)
        w.start()
        time.sleep(0.3)
        assert "at" not in entered  # still queued behind the holder
        released_at = time.monotonic()
        release.set()
    w.join(timeout=30)
    assert entered["at"] >= released_at
    assert entered["at"] - released_at < 0.5  # handed over at once, not after a long busy-sleep
    assert Region.objects.filter(code__startswith="439997").count() == 2


def test_a_writer_gives_up_after_the_timeout():
    with another_writer(), lock_timeout(0.3):
        started = time.monotonic()
        with pytest.raises(OperationalError, match="database is locked"), transaction.atomic():
            Region.objects.create(code="439997003000", name="超时", level=Region.Level.STREET)
        assert 0.3 <= time.monotonic() - started < 5
    # the refused writer holds nothing: the next write goes through
    with transaction.atomic():
        Region.objects.create(code="439997004000", name="之后", level=Region.Level.STREET)


def test_a_late_abandoned_wait_does_not_release_a_later_holder():
    """A timed-out wait's helper gets the lock after its caller gave up: it must let go of its own lock
    only, never the one the same connection took since (flock locks belong to the open file)."""
    path = connection._lock_path()
    with another_writer() as release:
        with lock_timeout(0.2), pytest.raises(OperationalError), transaction.atomic():
            pass  # times out; its helper thread is still waiting for the lock
        release.set()
        with transaction.atomic():  # the same connection, as soon as the holder is done
            Region.objects.create(code="439997005000", name="再次", level=Region.Level.STREET)
            time.sleep(0.3)  # the abandoned helper gets its turn meanwhile
            assert not _lock_is_free(path), "the lock was released under its holder"
    assert _lock_is_free(path)
