"""Group commit: concurrent writes in one process share one durable commit.

A durable commit costs a disk flush (SQLite in WAL mode with synchronous=FULL, PostgreSQL with fsync on),
and SQLite lets one writer in at a time; one transaction per rating caps the intake at the disk's flush
rate, and SQLite writers that find the database locked sleep in steps of up to 100 ms before they retry.

`run_grouped(fn)` hands a write to this process's writer thread. The writer takes every write waiting at
that moment, runs each in its own savepoint inside one transaction, commits once, and only then answers
each caller with its own result or exception: nothing is acknowledged before it is durable, and one
failing write (a duplicate, say) does not fail the others.

A caller already inside a transaction (a larger service, a test) runs its write inline.
"""

import logging
import os
import queue
import threading
from concurrent.futures import Future

from django.conf import settings
from django.db import connections, transaction

from haocha.core.errors import DomainError

log = logging.getLogger(__name__)

MAX_BATCH = 128
WAIT_SECONDS = 60


class _Writer:
    def __init__(self, using: str):
        self.using = using
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.pid = os.getpid()
        self.thread = threading.Thread(target=self._loop, name=f"group-commit-{using}", daemon=True)
        self.thread.start()
        # figures for `haocha bench` and the tests: batches committed and writes in them
        self.batches = 0
        self.writes = 0

    def submit(self, fn) -> Future:
        future: Future = Future()
        self.queue.put((fn, future))
        return future

    def _loop(self) -> None:
        while True:
            first = self.queue.get()
            if first is None:  # stop(): no caller is waiting on this writer any more
                connections[self.using].close()
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self.queue.put(None)  # handled after this batch
                    break
                batch.append(item)
            try:
                self._commit(batch)
            except BaseException as exc:
                log.exception("group commit failed")
                for _fn, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                connections[self.using].close()  # the next batch starts on a fresh connection

    def _commit(self, batch: list) -> None:
        outcomes = []
        connections[self.using].close_if_unusable_or_obsolete()
        with transaction.atomic(using=self.using):
            for fn, future in batch:
                try:
                    with transaction.atomic(using=self.using):
                        outcomes.append((future, True, fn()))
                except Exception as exc:
                    outcomes.append((future, False, exc))
        self.batches += 1
        self.writes += len(batch)
        for future, ok, value in outcomes:
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)


_writers: dict[str, _Writer] = {}
_writers_lock = threading.Lock()


def _writer(using: str) -> _Writer:
    writer = _writers.get(using)
    if writer is None or writer.pid != os.getpid():  # a forked child needs its own thread
        with _writers_lock:
            writer = _writers.get(using)
            if writer is None or writer.pid != os.getpid():
                writer = _writers[using] = _Writer(using)
    return writer


def enabled(using: str = "default") -> bool:
    return settings.HAOCHA_GROUP_COMMIT and not connections[using].in_atomic_block


def run_grouped(fn, using: str = "default"):
    """Run `fn()` in a transaction, committed together with other writes waiting at the same moment.

    Returns fn's result or raises its exception once the transaction is durable (or has failed).
    """
    if not enabled(using):
        with transaction.atomic(using=using):
            return fn()
    future = _writer(using).submit(fn)
    try:
        return future.result(timeout=WAIT_SECONDS)
    except TimeoutError as exc:
        raise DomainError("数据写入繁忙，请稍后用同一幂等键重试", code="write_timeout", status=503) from exc


def stop() -> None:
    """Let this process's writers finish what they hold, close their connections and end (tests use it
    before the test database is dropped)."""
    with _writers_lock:
        writers = [w for w in _writers.values() if w.pid == os.getpid()]
        _writers.clear()
    for writer in writers:
        writer.queue.put(None)
        writer.thread.join(timeout=WAIT_SECONDS)


def stats(using: str = "default") -> dict:
    writer = _writers.get(using)
    if writer is None or writer.pid != os.getpid():
        return {"batches": 0, "writes": 0}
    return {"batches": writer.batches, "writes": writer.writes}
