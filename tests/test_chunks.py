"""Id lists in IN-list pieces (app/chunks.py): every id once, in order, no piece above the size."""

from __future__ import annotations

from app.chunks import IN_LIST_SIZE, chunks


def test_pieces_keep_order_and_size() -> None:
    ids = [f"C-{n}" for n in range(2 * IN_LIST_SIZE + 1)]
    pieces = list(chunks(ids))
    assert [len(piece) for piece in pieces] == [IN_LIST_SIZE, IN_LIST_SIZE, 1]
    assert [item for piece in pieces for item in piece] == ids


def test_a_given_size_and_nothing_for_nothing() -> None:
    assert [list(piece) for piece in chunks([1, 2, 3], 2)] == [[1, 2], [3]]
    assert list(chunks([])) == []
