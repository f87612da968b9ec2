"""Text as people see it: what is invisible (spaces, zero-width and other format characters) does not count."""

import unicodedata
from functools import lru_cache

# Letters that render as nothing (Hangul fillers, the blank Braille pattern): not format characters, but
# used the same way to make a blank look like text.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


@lru_cache(maxsize=4096)
def is_invisible(char: str) -> bool:
    """A character that shows nothing: white space, a format character (zero-width space and joiners, the
    byte-order mark, soft hyphen, direction marks …) or a blank letter."""
    return char.isspace() or unicodedata.category(char) == "Cf" or char in _BLANK_LETTERS


def strip_invisible(text: str) -> str:
    """`text` without what is invisible at either end; '' if nothing visible is left."""
    if not text:
        return ""
    start, end = 0, len(text)
    while start < end and is_invisible(text[start]):
        start += 1
    while end > start and is_invisible(text[end - 1]):
        end -= 1
    return text[start:end]


def remove_format_characters(text: str) -> str:
    """`text` without zero-width and other format characters anywhere in it (they separate nothing a reader
    sees, so two strings that differ only by them are the same to a reader)."""
    if text.isascii():
        return text
    return "".join(c for c in text if unicodedata.category(c) != "Cf")
