"""JSON log lines, one per event, carrying the request id and the caller's key id.

stdlib logging with a small orjson formatter rather than structlog: uvicorn, SQLAlchemy and every other
library already log through stdlib, so one formatter on the root handler makes all of their lines JSON too,
with no second logging system to configure.
Log identifiers only (decision, order and customer ids, key ids): never names, registration numbers or bodies.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

_CONTEXT: ContextVar[dict[str, str] | None] = ContextVar("creditgate_log_context", default=None)
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged as a field.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


def request_id_from(header: str | None) -> str:
    """The caller's X-Request-ID when it is a plain token of at most 128 characters; a fresh one otherwise."""
    if header and _SANE_REQUEST_ID.match(header):
        return header
    return uuid.uuid4().hex


def start_context(request_id: str) -> Any:
    """A fresh context for one request; returns the token to end it with."""
    return _CONTEXT.set({"request_id": request_id})


def end_context(token: Any) -> None:
    _CONTEXT.reset(token)


def bind(**fields: str) -> None:
    """Adds fields to every later line of this request (the dict is shared with worker threads)."""
    context = _CONTEXT.get()
    if context is not None:
        context.update(fields)


def current_request_id() -> str | None:
    context = _CONTEXT.get()
    return context.get("request_id") if context else None


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(_CONTEXT.get() or {})
        line.update({key: value for key, value in vars(record).items() if key not in _STANDARD})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure_logging(level: str = "INFO", json_lines: bool = True) -> None:
    """One handler on the root logger; uvicorn's loggers hand their lines to it."""
    handler = logging.StreamHandler(sys.stdout)
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # Our own access line carries the request id; uvicorn's would repeat it without one.
    logging.getLogger("uvicorn.access").disabled = True
    # aiosqlite's debug lines print every statement's parameters, i.e. whole rows: never below WARNING.
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)
