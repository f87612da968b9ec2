"""Typed environment helpers that fail loudly on a bad value."""

import os
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


def database_from_url(url: str, base_dir) -> dict:
    """Turn `sqlite:///path` or `postgres://user:pw@host:port/db` into a DATABASES entry."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            path = path.lstrip("/")
        if not os.path.isabs(path):
            path = os.path.join(base_dir, path)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path,
            # Keep each worker's connection: opening one costs the PRAGMAs, and closing the last one
            # checkpoints and removes the WAL -- about 4 ms of every request.
            "CONN_MAX_AGE": 600,
            # Every atomic block takes the write lock at BEGIN (IMMEDIATE), so a writer never fails on
            # upgrading a read lock; a writer that finds it taken waits up to `timeout` seconds (SQLite's
            # busy handler). WAL with synchronous=FULL: every commit is on disk when it returns.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=FULL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA cache_size=-65536;"
                    "PRAGMA mmap_size=1073741824;"
                ),
            },
            # A file (threads in concurrency tests share it), one per process so parallel runs never collide;
            # `make mutation` names one (HAOCHA_TEST_DATABASE) that its runs reuse.
            "TEST": {
                "NAME": os.environ.get("HAOCHA_TEST_DATABASE")
                or os.path.join(base_dir, "var", f"test-{os.getpid()}.sqlite3")
            },
        }
    if parsed.scheme in ("postgres", "postgresql"):
        options = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")) or "haocha",
            "USER": unquote(parsed.username or "") or "postgres",
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "127.0.0.1",
            "PORT": str(parsed.port or 5432),
            "CONN_MAX_AGE": 600,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
            "TEST": {"NAME": f"test_haocha_{os.getpid()}"},
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL scheme {parsed.scheme!r} is not supported (use sqlite or postgres)"
    )


def default_workers(vendor: str) -> int:
    """Server worker processes when HAOCHA_WORKERS is not set.

    SQLite: one. Every commit by one process makes SQLite in every other process drop its page cache, and
    they take turns at the single write lock anyway: measured with `haocha bench intake` on 2 cores (same
    run, interleaved), one worker stored 880-980 ratings/s at 1.0-1.1 ms of server CPU each (p99 under
    60 ms), two workers 690-770/s at 1.2-1.4 ms (p99 160-350 ms).
    PostgreSQL: two, one per core of the reference machine.
    """
    configured = os.environ.get("HAOCHA_WORKERS")
    if configured:
        return int(configured)
    return 1 if vendor == "sqlite" else 2
