"""The client of the 政务服务成效管理系统: one signed POST per batch of records (docking/signing.py headers)."""

from django.conf import settings

from haocha.integrations.docking.client import no_redirect_opener, post_batch

RECORDS_PATH = "/api/performance/records"


class PerformanceUnavailable(Exception):
    """The system did not answer, or refused the whole batch (sent again later)."""


def configured() -> bool:
    """Nothing is pushed unless the address, this system's app id and the shared secret are all set."""
    return bool(
        settings.HAOCHA_PERFORMANCE_URL
        and settings.HAOCHA_PERFORMANCE_APP_ID
        and settings.HAOCHA_PERFORMANCE_SECRET
    )


class PerformanceClient:
    def __init__(self, url: str | None = None, app_id: str | None = None, secret: str | None = None):
        self.url = (url or settings.HAOCHA_PERFORMANCE_URL).rstrip("/")
        self.app_id = app_id or settings.HAOCHA_PERFORMANCE_APP_ID
        self.secret = secret or settings.HAOCHA_PERFORMANCE_SECRET
        self.timeout = settings.HAOCHA_PERFORMANCE_TIMEOUT
        self._opener = no_redirect_opener()

    def push(self, records: list[dict]) -> list[dict]:
        """Send one batch; the system's result for each record, in order."""
        return post_batch(
            self._opener,
            self.url,
            RECORDS_PATH,
            {"records": records},
            len(records),
            app_id=self.app_id,
            secret=self.secret,
            timeout=self.timeout,
            who="成效管理系统",
            unavailable=PerformanceUnavailable,
        )
