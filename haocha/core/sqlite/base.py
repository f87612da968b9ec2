"""Django's SQLite backend, with write transactions queued on an OS file lock.

SQLite lets one writer in at a time. A connection that finds the database locked sleeps in SQLite's busy
handler, 1, 2, 5, 10 ... up to 100 ms at a time, and retries: under concurrent writes from several server
processes most of the time went to those sleeps (measured: two server workers used one core between
them, p99 near a second). Every write transaction here (transaction_mode IMMEDIATE, so every atomic block)
first takes an exclusive lock on `<database>-writer.lock`, which the kernel hands to the next waiter the
moment it is released, and lets it go at COMMIT or ROLLBACK. The lock changes who waits and how, not what
SQLite guarantees: the database's own locking is still there underneath.

The wait polls the lock with a short back-off (0.1 to 2 ms) up to the connection's `timeout`, after which
it fails as SQLite would ("database is locked"), so a stuck writer cannot hang its waiters for ever.
"""

import fcntl
import os
import time

from django.db import OperationalError
from django.db.backends.sqlite3 import base

_MAX_SLEEP = 0.002


class DatabaseWrapper(base.DatabaseWrapper):
    _lock_fd: int | None = None
    _lock_held = False

    def _lock_path(self) -> str | None:
        name = str(self.settings_dict["NAME"])
        if not name or self.is_in_memory_db():
            return None
        return f"{name}-writer.lock"

    def _acquire_writer_lock(self) -> None:
        if self._lock_held:
            return
        if self._lock_fd is None:
            path = self._lock_path()
            if path is None:
                return
            self._lock_fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
        deadline = None
        sleep = 0.0001
        while True:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                now = time.monotonic()
                if deadline is None:
                    deadline = now + timeout
                elif now > deadline:
                    raise OperationalError("database is locked") from None
                time.sleep(sleep)
                sleep = min(sleep * 2, _MAX_SLEEP)
        self._lock_held = True

    def _release_writer_lock(self) -> None:
        if self._lock_held:
            self._lock_held = False
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _start_transaction_under_autocommit(self):
        self._acquire_writer_lock()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer_lock()
            raise

    def _commit(self):
        try:
            return super()._commit()
        finally:
            if self.connection is None or not self.connection.in_transaction:
                self._release_writer_lock()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_writer_lock()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._release_writer_lock()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None
