"""Logging: the request id, actor and GraphQL operation on every line; text or JSON.

`MCKS_LOG_FORMAT=json` writes one JSON object a line (python-json-logger: a formatter for the
standard logging module, so every library's lines, uvicorn's and tortoise's included, come
out in the same shape without touching the code that logs). The access log is ours
(`mcks.access`, written by gateway.observability), not uvicorn's: uvicorn's access logger is
process-wide and any second server in the process (the demo's authority simulator) would
reconfigure it.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from resolvers.actor import Actor

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
# The request's ASGI state (actor, operation), set by gateway.observability for its task.
request_state_var: ContextVar[dict[str, Any] | None] = ContextVar("request_state", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
JSON_FIELDS = "%(levelname)s %(name)s %(message)s %(request_id)s %(actor)s %(operation)s"


def describe(actor: Actor | None) -> str:
    """`user:12`, `client:3`, `anonymous`: who, without personal data."""
    if actor is None:
        return "-"
    kind = actor.kind.lower()
    return f"{kind}:{actor.id}" if actor.id is not None else kind


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        state = request_state_var.get()
        if state is not None:
            if not hasattr(record, "actor"):
                record.actor = describe(state.get("actor"))
            if not hasattr(record, "operation"):
                record.operation = state.get("operation_name")
        else:
            record.__dict__.setdefault("actor", None)
            record.__dict__.setdefault("operation", None)
        return True


def formatter(fmt: str) -> logging.Formatter:
    if fmt == "json":
        return JsonFormatter(
            JSON_FIELDS,
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",  # ISO 8601, UTC
            json_ensure_ascii=False,  # Turkish letters stay readable
        )
    return logging.Formatter(TEXT_FORMAT)


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(formatter(fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
