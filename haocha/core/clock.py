"""The current time, overridable per thread so history can be replayed through the real services."""

import threading
from contextlib import contextmanager
from datetime import datetime

from django.utils import timezone

_local = threading.local()


def now() -> datetime:
    return getattr(_local, "moment", None) or timezone.now()


@contextmanager
def replay_at(moment: datetime):
    """Run services as if it were `moment` (demo data and imports of history); never nested across threads."""
    previous = getattr(_local, "moment", None)
    _local.moment = moment
    try:
        yield
    finally:
        _local.moment = previous
