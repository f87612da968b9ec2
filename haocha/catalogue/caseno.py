"""办件编号 as people and systems write it: one normal form everywhere a case number comes in (registration,
look-ups, ratings, imports), so " HZ-1", "HZ-1\u200b" and "HZ-1" are one case, not three."""

import re

from haocha.core.text import remove_format_characters

MAX_LENGTH = 50
# After normalising: no white space, control characters or "/" (a case number is a path segment of the API).
_REFUSED = re.compile(r"[\s\x00-\x1f\x7f/]")


def normalise_case_no(value) -> str:
    """The case number without zero-width and other format characters, and without white space at its ends."""
    return remove_format_characters(str(value or "")).strip()


def case_no_problem(case_no: str) -> str:
    """Why a normalised case number cannot be registered ('' if it can)."""
    if not case_no or len(case_no) > MAX_LENGTH:
        return f"办件编号不能为空且不超过{MAX_LENGTH}个字符"
    if _REFUSED.search(case_no):
        return "办件编号不能含空白、控制字符或“/”"
    return ""
