"""Read a citizen's SMS reply: a level (digit or words) with an optional comment, an opt-out, or neither.

Digits follow the invitation text and the national `satisfaction` field: 5 非常满意 … 1 非常不满意.
Full-width characters are folded (NFKC), so "５ 很好" reads as "5 很好".
"""

import re
import unicodedata
from dataclasses import dataclass

from haocha.evaluations.levels import Level, from_satisfaction

MAX_COMMENT = 1000

OPT_OUT_WORDS = frozenset({"退订", "TD", "T", "退订短信", "取消订阅", "拒收", "退"})

# Longest first, so 不满意 is not read as 满意 and 非常不满意 not as 非常….
LEVEL_WORDS = sorted(
    {
        "非常满意": Level.VERY_SATISFIED,
        "很满意": Level.VERY_SATISFIED,
        "十分满意": Level.VERY_SATISFIED,
        "特别满意": Level.VERY_SATISFIED,
        "满意": Level.SATISFIED,
        "比较满意": Level.SATISFIED,
        "基本满意": Level.BASICALLY_SATISFIED,
        "一般": Level.BASICALLY_SATISFIED,
        "不满意": Level.DISSATISFIED,
        "不太满意": Level.DISSATISFIED,
        "非常不满意": Level.VERY_DISSATISFIED,
        "很不满意": Level.VERY_DISSATISFIED,
        "十分不满意": Level.VERY_DISSATISFIED,
        "特别不满意": Level.VERY_DISSATISFIED,
    }.items(),
    key=lambda kv: -len(kv[0]),
)

# What may separate the level from the comment: spaces and common punctuation, ASCII or Chinese.
_SEPARATORS = " \t\r\n,.;:!?~-_/|、，。；：！？～…—·"
_DIGIT = re.compile(r"^([1-5])(?![0-9])\s*(?:分|星)?")
_PUNCT = re.compile(r"[\s" + re.escape(_SEPARATORS) + r"]+")


@dataclass(frozen=True)
class Reply:
    kind: str  # "rating" | "opt_out" | "unknown"
    level: Level | None = None
    comment: str = ""


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(ch for ch in text if ch.isprintable() or ch in "\n\t")
    return re.sub(r"\s+", " ", text).strip()


def _comment(rest: str) -> str:
    return rest.lstrip(_SEPARATORS).strip()[:MAX_COMMENT]


def parse_reply(text: str) -> Reply:
    """Never raises: anything it cannot read is `unknown`."""
    clean = normalise(text)
    if not clean:
        return Reply("unknown")
    if _PUNCT.sub("", clean).upper() in OPT_OUT_WORDS:
        return Reply("opt_out")
    match = _DIGIT.match(clean)
    if match:
        return Reply("rating", from_satisfaction(match.group(1)), _comment(clean[match.end() :]))
    for word, level in LEVEL_WORDS:
        if clean.startswith(word):
            return Reply("rating", level, _comment(clean[len(word) :]))
    return Reply("unknown", comment=clean[:MAX_COMMENT])
