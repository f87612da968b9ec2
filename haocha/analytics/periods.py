"""Which period the results pages open on (the last full month, not the first day of a new one), and how a
period that is not over yet is marked on them."""

from dataclasses import dataclass
from datetime import date, timedelta

from haocha.analytics.selectors import Period

KIND_WORDS = {"month": "月份", "quarter": "季度", "year": "年度"}


def last_full_month(today: date) -> date:
    """The first day of the last month that has ended: on 2 December, 1 November."""
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def last_full_quarter(today: date) -> tuple[int, int]:
    """(year, quarter) of the last quarter that has ended: on 2 December 2026, (2026, 3)."""
    quarter = (today.month - 1) // 3  # quarters begun before this one in the year
    return (today.year, quarter) if quarter else (today.year - 1, 4)


@dataclass(frozen=True)
class PeriodState:
    """How far a period has run: "partial" while today lies in it, "future" before it begins, else ""."""

    state: str
    label: str  # the sentence under the period: "部分月份 · 截至今日（12月2日），…"; "" once it is over
    mark: str = ""  # the tag on every chart and figure: "部分月份·截至今日"

    @property
    def partial(self) -> bool:
        return self.state == "partial"


def period_state(period: Period, today: date, kind: str = "custom") -> PeriodState:
    if period.start > today:
        return PeriodState("future", "统计期尚未开始，暂无数据", "未开始")
    if period.end >= today:
        word = KIND_WORDS.get(kind)
        head = f"部分{word}·" if word else ""
        label = f"{head}截至今日（{today.month}月{today.day}日）：统计期尚未结束，数据仍会变化"
        return PeriodState("partial", label, f"{head}截至今日")
    return PeriodState("", "")
