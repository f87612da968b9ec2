"""Calendar reads and writes: the process-wide working-day service, seeding, and loading a year from a file."""

import csv
import io
import json
import time
from datetime import date, datetime

from django.db import transaction
from django.db.models import Count, Max

from haocha.workcalendar.arithmetic import SHANGHAI, Calendar, WorkdayService
from haocha.workcalendar.models import CalendarDay, CalendarYear

HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}
KIND_WORDS = {
    "holiday": "holiday",
    "休": "holiday",
    "假": "holiday",
    "makeup": "makeup",
    "班": "makeup",
    "workday": "makeup",
}


# Called with the changed years after a year is entered or corrected (work orders recompute their deadlines).
CHANGE_HOOKS: list = []


class CalendarFileError(ValueError):
    pass


def load_calendar() -> Calendar:
    holidays, makeups = set(), set()
    for day, kind in CalendarDay.objects.values_list("date", "kind"):
        (holidays if kind == CalendarDay.Kind.HOLIDAY else makeups).add(day)
    years = frozenset(CalendarYear.objects.values_list("year", flat=True))
    return Calendar(holidays=frozenset(holidays), makeup_days=frozenset(makeups), known_years=years)


def _version() -> tuple:
    """Changes whenever a year or a day is added, edited or removed (in any process)."""
    years = CalendarYear.objects.aggregate(n=Count("id"), last=Max("entered_at"))
    days = CalendarDay.objects.aggregate(n=Count("id"), last=Max("updated_at"), top=Max("id"))
    return (years["n"], years["last"], days["n"], days["last"], days["top"])


class _ReloadingService(WorkdayService):
    """Reloads when another process changed the calendar (checked at most every 30 seconds)."""

    CHECK_SECONDS = 30.0

    def __init__(self):
        super().__init__(load_calendar)
        self._checked = 0.0
        self._version = None

    def index(self):
        now = time.monotonic()
        if now - self._checked > self.CHECK_SECONDS:
            self._checked = now
            version = _version()
            if version != self._version:
                self._version = version
                self.invalidate()
        return super().index()

    def refresh(self) -> None:
        self._checked = 0.0


workdays = _ReloadingService()


def missing_years(today: date | None = None) -> list[int]:
    """Years deadlines may fall in that nobody has entered: this year, and next year from November on."""
    today = today or datetime.now(SHANGHAI).date()
    wanted = [today.year] + ([today.year + 1] if today.month >= 11 else [])
    known = set(CalendarYear.objects.filter(year__in=wanted).values_list("year", flat=True))
    return [y for y in wanted if y not in known]


@transaction.atomic
def calendar_year_replace(
    *, year: int, holidays: dict, makeups: dict, source: str, note: str = ""
) -> CalendarYear:
    """Enter (or correct) one year's arrangement as a whole: {date: name} for days off and make-up days."""
    for day in [*holidays, *makeups]:
        if day.year != year:
            raise CalendarFileError(f"{day} 不属于 {year} 年")
    both = set(holidays) & set(makeups)
    if both:
        raise CalendarFileError(f"{min(both)} 不能既是节假日又是调休上班日")
    CalendarDay.objects.filter(date__year=year).delete()
    CalendarDay.objects.bulk_create(
        [CalendarDay(date=d, kind=CalendarDay.Kind.HOLIDAY, name=n) for d, n in sorted(holidays.items())]
        + [
            CalendarDay(date=d, kind=CalendarDay.Kind.MAKEUP_WORKDAY, name=n)
            for d, n in sorted(makeups.items())
        ]
    )
    entry, _ = CalendarYear.objects.update_or_create(year=year, defaults={"source": source, "note": note})
    transaction.on_commit(lambda: _changed([year]))
    return entry


def calendar_changed(years: list[int]) -> None:
    """After an administrator's edit: reload and recompute open deadlines once the change is committed."""
    transaction.on_commit(lambda: _changed(years))


def _changed(years: list[int]) -> None:
    workdays.refresh()
    workdays.invalidate()
    for hook in CHANGE_HOOKS:
        hook(years)


def seed_from_package() -> list[int]:
    """Enter every year the chinese-calendar package knows and nobody has entered yet."""
    import chinese_calendar

    by_year: dict[int, tuple[dict, dict]] = {}
    for day, name in chinese_calendar.holidays.items():
        by_year.setdefault(day.year, ({}, {}))[0][day] = HOLIDAY_NAMES.get(name, name)
    for day, name in chinese_calendar.workdays.items():
        if day.weekday() >= 5:  # the package lists make-up working days among its workdays
            by_year.setdefault(day.year, ({}, {}))[1][day] = HOLIDAY_NAMES.get(name, name)
    known = set(CalendarYear.objects.values_list("year", flat=True))
    seeded = []
    for year, (holidays, makeups) in sorted(by_year.items()):
        if year in known:
            continue
        calendar_year_replace(
            year=year,
            holidays=holidays,
            makeups=makeups,
            source=CalendarYear.Source.PACKAGE,
            note="由 chinese-calendar 软件包导入",
        )
        seeded.append(year)
    return seeded


def parse_calendar_file(text: str, filename: str = "") -> dict[int, tuple[dict, dict]]:
    """CSV `date,kind,name` (kind: holiday/休 or makeup/班) or JSON {"holidays": {...}, "makeup_days": {...}}."""
    rows = []
    stripped = text.lstrip()
    if filename.endswith(".json") or stripped.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CalendarFileError(f"JSON 格式错误：{exc}") from exc
        for key, kind in (("holidays", "holiday"), ("makeup_days", "makeup")):
            entries = data.get(key, {})
            if isinstance(entries, list):
                entries = {d: "" for d in entries}
            rows += [(d, kind, n) for d, n in entries.items()]
    else:
        for lineno, row in enumerate(csv.reader(io.StringIO(text)), start=1):
            if not row or row[0].strip().startswith("#") or row[0].strip().lower() == "date":
                continue
            if len(row) < 2:
                raise CalendarFileError(f"第{lineno}行：应为“日期,类型,名称”")
            rows.append((row[0].strip(), row[1].strip(), row[2].strip() if len(row) > 2 else ""))
    years: dict[int, tuple[dict, dict]] = {}
    for raw_day, raw_kind, name in rows:
        try:
            day = date.fromisoformat(raw_day)
        except ValueError as exc:
            raise CalendarFileError(f"无法识别的日期：{raw_day}") from exc
        kind = KIND_WORDS.get(raw_kind.lower() if raw_kind.isascii() else raw_kind)
        if kind is None:
            raise CalendarFileError(f"{raw_day} 的类型“{raw_kind}”无法识别（holiday/休 或 makeup/班）")
        holidays, makeups = years.setdefault(day.year, ({}, {}))
        (holidays if kind == "holiday" else makeups)[day] = name
    if not years:
        raise CalendarFileError("文件中没有日期")
    return years
