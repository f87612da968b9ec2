"""Read a citizen's SMS reply: a level (digit or words) with an optional comment, an opt-out, or neither.

Digits follow the invitation text and the national `satisfaction` field: 5 非常满意 … 1 非常不满意.
Full-width letters, digits and spaces are read as their ASCII forms, so "５　很好" reads as "5 很好";
the comment keeps the citizen's own characters.
"""

import re
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
_SEPARATORS = " \t\r\n,.;:!?~-_/|、，。；：！？～…—·\u3000"
_DIGIT = re.compile(r"^([1-5])(?![0-9])\s*(?:分|星)?")
_PUNCT = re.compile(r"[\s" + re.escape(_SEPARATORS) + r"]+")
# Full-width ASCII (ＴＤ, ５) and the ideographic space, folded one character for one character, so a
# position in the folded text is the same position in what the citizen wrote.
_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


@dataclass(frozen=True)
class Reply:
    kind: str  # "rating" | "opt_out" | "unknown"
    level: Level | None = None
    comment: str = ""


def _clean(text: str) -> str:
    return "".join(ch for ch in (text or "") if ch.isprintable() or ch in "\n\t ").strip()


def _comment(rest: str) -> str:
    """The citizen's own words after the level, as written (only leading separators dropped)."""
    return rest.lstrip(_SEPARATORS).strip()[:MAX_COMMENT]


def parse_reply(text: str) -> Reply:
    """Never raises: anything it cannot read is `unknown`."""
    clean = _clean(text)
    folded = clean.translate(_FOLD)
    if not clean:
        return Reply("unknown")
    if _PUNCT.sub("", folded).upper() in OPT_OUT_WORDS:
        return Reply("opt_out")
    match = _DIGIT.match(folded)
    if match:
        return Reply("rating", from_satisfaction(match.group(1)), _comment(clean[match.end() :]))
    for word, level in LEVEL_WORDS:
        if folded.startswith(word):
            return Reply("rating", level, _comment(clean[len(word) :]))
    return Reply("unknown", comment=clean[:MAX_COMMENT])
