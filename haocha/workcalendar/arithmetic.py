"""Working-day arithmetic: is a date a working day, and when is a deadline of N working days due.

A deadline is the end (24:00 Asia/Shanghai) of the N-th working day after the day of receipt; the day of
receipt never counts (民法典 201/203, 行政许可法 82). The end of day D is returned as 00:00 of D+1, an
instant: an order is overdue when now >= due.
"""

import bisect
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from haocha.workcalendar.statutory import statutory_holidays

SHANGHAI = ZoneInfo("Asia/Shanghai")
WORK_HOURS = (
    9,
    17,
)  # office hours of a working day (local time): "N working hours", "silent in working hours"


@dataclass(frozen=True)
class Calendar:
    holidays: frozenset
    makeup_days: frozenset
    known_years: frozenset

    def is_workday(self, day: date) -> bool:
        """An entered year: its days off and make-up days, else Monday–Friday. A year nobody entered: the
        statutory holidays (computed, see statutory.py) off, no 调休."""
        if day.year not in self.known_years:
            return day.weekday() < 5 and day not in statutory_holidays(day.year)
        if day in self.holidays:
            return False
        if day in self.makeup_days:
            return True
        return day.weekday() < 5


class WorkdayIndex:
    """Sorted ordinals of working days over a span of years, for O(log n) deadline arithmetic."""

    def __init__(self, calendar: Calendar, first_year: int, last_year: int):
        self.calendar = calendar
        self.first = date(first_year, 1, 1)
        self.last = date(last_year, 12, 31)
        ordinals = []
        day = self.first
        one = timedelta(days=1)
        while day <= self.last:
            if calendar.is_workday(day):
                ordinals.append(day.toordinal())
            day += one
        self.ordinals = ordinals

    def covers(self, day: date) -> bool:
        return self.first <= day and day + timedelta(days=400) <= self.last

    def nth_workday_after(self, day: date, n: int) -> date:
        """The n-th working day strictly after `day` (n >= 1)."""
        i = bisect.bisect_right(self.ordinals, day.toordinal())
        return date.fromordinal(self.ordinals[i + n - 1])


def _nth_workday_slow(calendar: Calendar, day: date, n: int) -> date:
    count = 0
    while count < n:
        day += timedelta(days=1)
        if calendar.is_workday(day):
            count += 1
    return day


def local_date(moment: datetime) -> date:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: a receipt time needs its time zone")
    return moment.astimezone(SHANGHAI).date()


def end_of_day(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=SHANGHAI)


class WorkdayService:
    """Thread-safe holder of the calendar and its index; reloaded when the calendar changes."""

    def __init__(self, loader):
        self._loader = loader
        self._lock = threading.Lock()
        self._index: WorkdayIndex | None = None

    def invalidate(self) -> None:
        with self._lock:
            self._index = None

    def index(self) -> WorkdayIndex:
        idx = self._index
        if idx is None:
            with self._lock:
                if self._index is None:
                    calendar = self._loader()
                    today = datetime.now(SHANGHAI).date()
                    years = [*calendar.known_years, today.year]
                    self._index = WorkdayIndex(calendar, min(years) - 1, max(max(years), today.year) + 3)
                idx = self._index
        return idx

    def calendar(self) -> Calendar:
        return self.index().calendar

    def is_workday(self, day: date) -> bool:
        return self.calendar().is_workday(day)

    def nth_workday_after(self, day: date, n: int) -> date:
        if n < 1:
            raise ValueError("n must be at least 1 working day")
        idx = self.index()
        if idx.covers(day) and n < 250:
            return idx.nth_workday_after(day, n)
        return _nth_workday_slow(idx.calendar, day, n)

    def due(self, received: datetime, days: int) -> datetime:
        """The deadline of `days` working days for something received at `received`."""
        return end_of_day(self.nth_workday_after(local_date(received), days))

    def in_working_hours(self, moment: datetime) -> bool:
        local = moment.astimezone(SHANGHAI)
        return self.is_workday(local.date()) and WORK_HOURS[0] <= local.hour < WORK_HOURS[1]

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Hours of office time (WORK_HOURS on working days) from start to end."""
        if end <= start:
            return 0.0
        a, b = start.astimezone(SHANGHAI), end.astimezone(SHANGHAI)
        total = 0.0
        day = a.date()
        while day <= b.date():
            if self.is_workday(day):
                opens = datetime.combine(day, time(WORK_HOURS[0]), tzinfo=SHANGHAI)
                closes = datetime.combine(day, time(WORK_HOURS[1]), tzinfo=SHANGHAI)
                lo, hi = max(a, opens), min(b, closes)
                if hi > lo:
                    total += (hi - lo).total_seconds() / 3600
            day += timedelta(days=1)
        return total

    def workdays_between(self, start: datetime, end: datetime) -> int:
        """Working days strictly after start's day up to and including end's day."""
        a, b = local_date(start), local_date(end)
        if b <= a:
            return 0
        idx = self.index()
        if idx.covers(a) and idx.covers(b):
            lo = bisect.bisect_right(idx.ordinals, a.toordinal())
            hi = bisect.bisect_right(idx.ordinals, b.toordinal())
            return hi - lo
        count, day = 0, a
        while day < b:
            day += timedelta(days=1)
            count += idx.calendar.is_workday(day)
        return count
