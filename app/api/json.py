"""Request bodies parsed strictly: an object that names a key twice is refused, not read with the last value."""

from __future__ import annotations

import json
from typing import Any

from app.errors import FieldError, InvalidRequest


class _Repeated(dict[str, Any]):
    """An object whose pairs named `key` more than once."""

    key: str


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) == len(pairs):
        return found
    repeated = _Repeated(found)
    seen: set[str] = set()
    for key, _value in pairs:
        if key in seen:
            repeated.key = key
            break
        seen.add(key)
    return repeated


def _first_repeated(value: Any, path: str) -> str | None:
    """The field path of the first repeated key, depth first in document order."""
    if isinstance(value, _Repeated):
        return f"{path}.{value.key}" if path else value.key
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for name, child in children:
        if isinstance(child, dict | list):
            where = f"{path}[{name}]" if isinstance(name, int) else (f"{path}.{name}" if path else str(name))
            found = _first_repeated(child, where)
            if found is not None:
                return found
    return None


def loads(raw: bytes | str) -> Any:
    """JSON as json.loads reads it; InvalidRequest (422) naming the field when an object repeats a key."""
    document = json.loads(raw, object_pairs_hook=_pairs)
    field = _first_repeated(document, "")
    if field is not None:
        message = "this key appears more than once in its object"
        raise InvalidRequest(
            f"{field}: {message}", errors=[FieldError(field=field, message=message, type="duplicate_key")]
        )
    return document


def duplicate_keys(raw: bytes) -> None:
    """Refuse a body that repeats a key; a body that is not JSON at all is left to the parser's own error."""
    if not raw:
        return
    try:
        loads(raw)
    except ValueError:
        return
