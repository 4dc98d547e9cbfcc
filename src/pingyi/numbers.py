"""Whole numbers typed into forms and query strings.

`str.isdigit()` accepts "²" and other digits that `int()` refuses, and a number can be
larger than any id column holds; both must read as "not a number", never a crash.
"""

from __future__ import annotations

from typing import Any

ID_MAX = 2**31 - 1  # the largest id every database here can hold


def plain_int(value: Any, maximum: int = ID_MAX) -> int | None:
    """The ASCII digits of a non-negative whole number up to `maximum`, else None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        return None
    number = int(text)
    return number if number <= maximum else None
