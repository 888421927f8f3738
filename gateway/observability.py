"""The outermost middleware: one access-log line and the request metrics per HTTP request.

It wraps gateway.middleware (request id, actor), so it sees what the inner layers put in
the request's state (actor, GraphQL operation) and the status the answer went out with. Pure
ASGI and a few dictionary lookups: it sits on the operators' hot path.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.logs import describe, request_state_var
from resolvers import metrics
from resolvers.settings import get_settings

access = logging.getLogger("mcks.access")

NO_OPERATION = "none"


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state = scope.setdefault("state", {})
        token = request_state_var.set(state)
        status = 500  # what the client sees when the app fails before answering

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            # The route's template, never the raw path: bounded labels.
            route_label = getattr(route, "path", None) or metrics.OTHER
            operation = state.get("operation") or NO_OPERATION
            metrics.request_observed(route_label, operation, status, elapsed)
            if get_settings().access_log and access.isEnabledFor(logging.INFO):
                _log_access(scope, state, status, elapsed)
            request_state_var.reset(token)


def _log_access(scope: Scope, state: dict[str, object], status: int, elapsed: float) -> None:
    method, path = scope["method"], scope["path"]
    ip = state.get("client_ip", "")
    actor = describe(state.get("actor"))  # type: ignore[arg-type]
    name = state.get("operation_name")
    ms = round(elapsed * 1000, 2)
    shown = f" {name}" if name else ""
    access.info(
        f'{ip} "{method} {path}"{shown} {status} {ms} ms {actor}',
        extra={
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": ms,
            "client_ip": ip,
        },
    )
