"""Django's SQLite backend, with write transactions queued on an OS file lock.

SQLite lets one writer in at a time. A connection that finds the database locked sleeps in SQLite's busy
handler, 1, 2, 5, 10 ... up to 100 ms at a time, and retries: under concurrent writes from several server
processes most of the time went to those sleeps (measured: two server workers used one core between
them, p99 near a second). Every atomic block here (transaction_mode IMMEDIATE: each one is a write
transaction) first takes an exclusive flock on `<database>-writer.lock`, whose waiters the kernel wakes
the moment it is released, and lets it go at COMMIT or ROLLBACK. The lock changes who waits and how, not
what SQLite guarantees: the database's own locking is still there underneath, and a write outside an
atomic block (a plain save() in autocommit) still waits in SQLite's busy handler.

A waiter blocks on the lock for at most the connection's `timeout`, after which it fails as SQLite would
("database is locked"), so a stuck writer cannot hang its waiters for ever. (A first version polled the
lock with a 0.1-2 ms back-off: the lock then sat free between writers, and two server workers reached
660 ratings/s.) If the lock file cannot be opened (say it belongs to another user), the backend logs it
once and works as Django's own, without the queue.

Do not delete the lock file of a database in use: processes holding the old file would no longer
exclude those opening a new one (the test and bench databases remove theirs with the database).
"""

import contextlib
import fcntl
import logging
import os
import threading

from django.db import OperationalError
from django.db.backends.sqlite3 import base, creation

log = logging.getLogger(__name__)
_UNUSABLE: set[str] = set()  # lock paths that could not be opened (logged once)


def _open_lock(path: str, database: str) -> int | None:
    """Open (creating it like SQLite creates -wal and -shm: the database's mode and owner) the lock file."""
    try:
        st = os.stat(database)
        mode, owner = st.st_mode & 0o666, (st.st_uid, st.st_gid)
    except OSError:
        mode, owner = 0o644, None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, mode)
    except OSError as exc:
        if path not in _UNUSABLE:
            _UNUSABLE.add(path)
            log.warning(
                "SQLite writer lock %s unusable (%s): writers wait in SQLite's busy handler", path, exc
            )
        return None
    if owner is not None and os.geteuid() == 0:
        with contextlib.suppress(OSError):
            os.fchown(fd, *owner)
    return fd


def _wait_for_lock(path: str, database: str, timeout: float) -> int | None:
    """A new descriptor of the lock file holding the lock, or None after `timeout` seconds.

    The caller cannot block on flock with a timeout, so a helper thread blocks on a descriptor of its own
    while the caller waits for it with a timeout. A helper that gets the lock after its caller gave up
    (timed out or interrupted) lets it go and closes its descriptor: it shares nothing with the caller's.
    """
    fd = _open_lock(path, database)
    if fd is None:
        return None
    got = threading.Event()
    guard = threading.Lock()
    state = {"abandoned": False}

    def wait() -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with guard:
            if not state["abandoned"]:
                got.set()
                return
        os.close(fd)  # closing the descriptor releases its lock

    threading.Thread(target=wait, name="sqlite-writer-lock", daemon=True).start()
    interrupted = True
    try:
        got.wait(timeout)
        interrupted = False
    finally:
        with guard:
            if not got.is_set():
                state["abandoned"] = True  # the helper lets the lock go when it gets it
            elif interrupted:
                os.close(fd)  # got it, but the caller is leaving with an exception
    return fd if got.is_set() and not interrupted else None


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
        path = self._lock_path()
        if path is None or path in _UNUSABLE:
            return
        if self._lock_fd is None:
            self._lock_fd = _open_lock(path, str(self.settings_dict["NAME"]))
            if self._lock_fd is None:
                return
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
            fd = _wait_for_lock(path, str(self.settings_dict["NAME"]), timeout)
            if fd is None:
                raise OperationalError("database is locked") from None
            os.close(self._lock_fd)  # the waiter's descriptor, which holds the lock, replaces it
            self._lock_fd = fd
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
