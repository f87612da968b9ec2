"""The five levels stored as a meaning, converted exactly at the edges to both national code tables.

- GB/T 39046-2020 A.8 满意度代码: 1 非常满意 … 5 非常不满意.
- The national interface field `satisfaction`: 1 非常不满意 … 5 非常满意.
"""

from django.db import models


class Level(models.TextChoices):
    VERY_SATISFIED = "very_satisfied", "非常满意"
    SATISFIED = "satisfied", "满意"
    BASICALLY_SATISFIED = "basically_satisfied", "基本满意"
    DISSATISFIED = "dissatisfied", "不满意"
    VERY_DISSATISFIED = "very_dissatisfied", "非常不满意"


ORDERED = (
    Level.VERY_SATISFIED,
    Level.SATISFIED,
    Level.BASICALLY_SATISFIED,
    Level.DISSATISFIED,
    Level.VERY_DISSATISFIED,
)
BAD_LEVELS = frozenset({Level.DISSATISFIED, Level.VERY_DISSATISFIED})
GOOD_LEVELS = frozenset({Level.VERY_SATISFIED, Level.SATISFIED})

_TO_GBT = {level: str(i) for i, level in enumerate(ORDERED, start=1)}
_FROM_GBT = {code: level for level, code in _TO_GBT.items()}
_TO_SATISFACTION = {level: 5 - i for i, level in enumerate(ORDERED)}
_FROM_SATISFACTION = {code: level for level, code in _TO_SATISFACTION.items()}
_FROM_WORD = {level.label: level for level in ORDERED}


class UnknownLevel(ValueError):
    pass


def is_bad(level: str) -> bool:
    return level in BAD_LEVELS


def to_gbt39046(level: str) -> str:
    """Level → GB/T 39046 A.8 code ('1' = 非常满意)."""
    try:
        return _TO_GBT[Level(level)]
    except (KeyError, ValueError) as exc:
        raise UnknownLevel(level) from exc


def from_gbt39046(code) -> Level:
    try:
        return _FROM_GBT[str(code).strip()]
    except KeyError as exc:
        raise UnknownLevel(code) from exc


def to_satisfaction(level: str) -> int:
    """Level → interface `satisfaction` (5 = 非常满意)."""
    try:
        return _TO_SATISFACTION[Level(level)]
    except (KeyError, ValueError) as exc:
        raise UnknownLevel(level) from exc


def from_satisfaction(code) -> Level:
    try:
        return _FROM_SATISFACTION[int(str(code).strip())]
    except (KeyError, ValueError) as exc:
        raise UnknownLevel(code) from exc


def from_word(word: str) -> Level:
    try:
        return _FROM_WORD[word.strip()]
    except KeyError as exc:
        raise UnknownLevel(word) from exc


def parse_level(value) -> Level:
    """Accept a meaning ('satisfied') or a Chinese word ('满意'); codes need an explicit table."""
    if isinstance(value, Level):
        return value
    text = str(value).strip()
    try:
        return Level(text)
    except ValueError:
        return from_word(text)
