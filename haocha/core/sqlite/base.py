"""Django's SQLite backend, with write transactions queued on an OS file lock.

SQLite lets one writer in at a time. A connection that finds the database locked sleeps in SQLite's busy
handler, 1, 2, 5, 10 ... up to 100 ms at a time, and retries: under concurrent writes from several server
processes most of the time went to those sleeps (measured: two server workers used one core between
them, p99 near a second). Every write transaction here (transaction_mode IMMEDIATE, so every atomic block)
first takes an exclusive lock on `<database>-writer.lock`, which the kernel hands to the next waiter the
moment it is released, and lets it go at COMMIT or ROLLBACK. The lock changes who waits and how, not what
SQLite guarantees: the database's own locking is still there underneath.

A waiter blocks on the lock for at most the connection's `timeout`, after which it fails as SQLite would
("database is locked"), so a stuck writer cannot hang its waiters for ever. (A first version polled the
lock with a 0.1-2 ms back-off: the lock then sat free between writers, and two server workers reached
660 ratings/s.)
"""

import contextlib
import fcntl
import os
import threading

from django.db import OperationalError
from django.db.backends.sqlite3 import base, creation


def _wait_for_lock(fd: int, timeout: float) -> bool:
    """Block on the lock (the kernel wakes the waiter the moment it is free) for at most `timeout` seconds.

    The lock belongs to the open file, not to a thread, so a helper thread can wait for it on the caller's
    behalf while the caller waits, with a timeout, for the helper. A helper that gets the lock after its
    caller gave up lets it go at once.
    """
    got = threading.Event()
    guard = threading.Lock()
    abandoned = False

    def wait() -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:  # the connection was closed meanwhile
            return
        with guard:
            if abandoned:
                fcntl.flock(fd, fcntl.LOCK_UN)
                return
            got.set()

    threading.Thread(target=wait, name="sqlite-writer-lock", daemon=True).start()
    if got.wait(timeout):
        return True
    with guard:
        if got.is_set():
            return True
        abandoned = True
    return False


class DatabaseCreation(creation.DatabaseCreation):
    def _destroy_test_db(self, test_database_name, verbosity):
        super()._destroy_test_db(test_database_name, verbosity)
        if test_database_name and not self.is_in_memory_db(test_database_name):
            with contextlib.suppress(FileNotFoundError):
                os.remove(f"{test_database_name}-writer.lock")


class DatabaseWrapper(base.DatabaseWrapper):
    creation_class = DatabaseCreation
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
        fd = self._lock_fd
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
            if not _wait_for_lock(fd, timeout):
                raise OperationalError("database is locked") from None
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
