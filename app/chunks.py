"""Long id lists in pieces: one IN list per piece keeps each statement within the databases' parameter limits."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

# Bound parameters per IN list: far below SQLite's 32,766 and PostgreSQL's 65,535 a statement may carry.
IN_LIST_SIZE = 5000


def chunks(items: Sequence[T], size: int = IN_LIST_SIZE) -> Iterator[Sequence[T]]:
    """`items` in order, `size` at a time (the last piece shorter); nothing for an empty sequence."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
