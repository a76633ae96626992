"""Natural order: ``2.png`` before ``10.png``, ``sequence2`` before ``sequence10``; the one sort key for names."""

from __future__ import annotations

import re
from collections.abc import Iterable

_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[tuple[int, int, str], ...], str]:
    """Digit runs compare as numbers, other text without regard to case (then by case, so the order is total)."""
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p.lower()) for p in _DIGITS.split(text))
    return parts, text


def natural_sorted(items: Iterable[str]) -> list[str]:
    """``items`` in natural order."""
    return sorted(items, key=natural_key)
