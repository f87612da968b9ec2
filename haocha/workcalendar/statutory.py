"""The statutory public holidays of any year, computed in advance (《全国年节及纪念日放假办法》, 2024 revision).

For a year whose State Council arrangement nobody has entered yet, the calendar uses these days off and no
调休: every staff page still warns, and entering the arrangement (admin or `haocha workdays load`) replaces
them. Lunar dates come from the `lunardate` package (1900–2099), 清明 from chinese-calendar's solar terms.
"""

from datetime import date, timedelta
from functools import lru_cache

# (name, first day, number of days); a first day is a callable of the year.
NEW_YEAR, SPRING, QINGMING, LABOUR, DRAGON_BOAT, MID_AUTUMN, NATIONAL = (
    "元旦",
    "春节",
    "清明节",
    "劳动节",
    "端午节",
    "中秋节",
    "国庆节",
)


def _lunar(year: int, month: int, day: int) -> date | None:
    from lunardate import LunarDate

    try:
        return LunarDate(year, month, day).to_solar_date()
    except ValueError:  # outside the package's table (1900–2099)
        return None


def _qingming(year: int) -> date | None:
    import chinese_calendar

    try:
        terms = chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 10))
    except (KeyError, ValueError, IndexError, NotImplementedError):  # outside 1900–2100
        return None
    return next((day for day, name in terms if name == "清明"), None)


def _eve_of_spring_festival(year: int) -> date | None:
    new_year = _lunar(year, 1, 1)
    return new_year - timedelta(days=1) if new_year else None


_RULES = (
    (NEW_YEAR, lambda y: date(y, 1, 1), 1),
    (SPRING, _eve_of_spring_festival, 4),  # 除夕 to 初三 (since 2025)
    (QINGMING, _qingming, 1),
    (LABOUR, lambda y: date(y, 5, 1), 2),
    (DRAGON_BOAT, lambda y: _lunar(y, 5, 5), 1),
    (MID_AUTUMN, lambda y: _lunar(y, 8, 15), 1),
    (NATIONAL, lambda y: date(y, 10, 1), 3),
)


@lru_cache(maxsize=256)
def statutory_holidays(year: int) -> dict[date, str]:
    """{date: festival} of the statutory days off of `year`, without 调休 (which only the State Council sets)."""
    days: dict[date, str] = {}
    for name, first, length in _RULES:
        start = first(year)
        if start is None:
            continue
        for i in range(length):
            days[start + timedelta(days=i)] = name
    return days
