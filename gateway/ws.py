"""WebSocket sessions (graphql-transport-ws) that live no longer than their token.

strawberry fixes the context when the socket opens; here the session authenticates in
`connection_init` (`{"Authorization": "Bearer …"}`, or the handshake's header), every
operation is authorised again at the moment it starts, and a watcher re-checks the token:
at once when this process ends a session (logout, revocation, deactivation, a password or
allowlist change, via resolvers.sessions), at the token's expiry, and every
`MCKS_WS_RECHECK_SECONDS` for what other processes did. A session whose token no longer
works is closed: 4401 when it ended (logged out, expired, revoked, disabled), 4403 when the
caller may not use it from here (IP allowlist) or never showed a valid token.

Only subscriptions travel over the socket; queries and mutations go over HTTP, where the
body limits, the fast path and the access log apply.

Flow control (the push channel): each subscription reads into a bounded queue
(resolvers.push); one that falls behind the live changes is closed with 4413 and resumes from
the last cursor it received. A client (user or machine client) may hold
`MCKS_WS_MAX_CONNECTIONS_PER_CLIENT` sockets in this process (more: 4420), and a socket that
runs no subscription for `MCKS_WS_IDLE_TIMEOUT_SECONDS` is closed (4410).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from contextlib import aclosing, suppress
from datetime import datetime
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)

from gateway.feed_fast_path import FeedFastPath, FeedPlan
from models import clock
from resolvers.accounts.auth import authenticate
from resolvers.accounts.sessions import token_expires_at
from resolvers.actor import Actor
from resolvers.errors import DomainError, ErrorCode, render_message
from resolvers.sessions import on_sessions_changed, remove_listener
from resolvers.settings import get_settings
from schema.context import Context
from schema.errors import ErrorPolicy

log = logging.getLogger("mcks.ws")

# Close codes of the GraphQL over WebSocket protocol.
SESSION_ENDED = 4401
FORBIDDEN = 4403
BAD_MESSAGE = 4400
INTERNAL = 4500
# Our own: the push channel's flow control.
IDLE = 4410
SLOW_CONSUMER = 4413
TOO_MANY_CONNECTIONS = 4420

# Open sockets per client in this process (the per-client limit).
_open_sessions: Counter[str] = Counter()


def _client_key(actor: Actor) -> str:
    return f"{actor.kind}:{actor.id}"


def _token_of(payload: dict[str, Any]) -> object:
    """`Authorization` at the top of the connection_init payload (GraphiQL sends the headers
    editor's JSON there as connectionParams) or under `headers` (Apollo-style clients)."""
    headers = payload.get("headers")
    nested = headers if isinstance(headers, dict) else {}
    for source in (payload, nested):
        for key in ("Authorization", "authorization"):
            if key in source:
                return source[key]
    return None


def bearer_token(value: object) -> str | None:
    """The token of `Bearer <token>`, or None."""
    if not isinstance(value, str):
        return None
    scheme, _, token = value.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


class SessionHandler(BaseGraphQLTransportWSHandler[Context, None]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.token: str | None = None
        self.expires_at: datetime | None = None
        self.peer = self.context.actor  # anonymous: the client's address and request id
        self.recheck = asyncio.Event()
        self.watcher: asyncio.Task[None] | None = None
        self.closed = False
        self.counted_as: str | None = None
        self.idle_since: float | None = None
        self.context.close_slow_consumer = self.close_slow_consumer

    # --- the session ------------------------------------------------------------------------

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        if self.connection_timed_out:
            return
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        if self.connection_init_received:
            await self.close(4429, "Too many initialisation requests")
            return
        self.connection_init_received = True
        payload = message.get("payload") or {}
        if not isinstance(payload, dict):
            await self.close(BAD_MESSAGE, "Invalid connection init payload")
            return
        headers = self.view.get_websocket_headers(self.websocket.ws)  # type: ignore[attr-defined]
        self.token = bearer_token(_token_of(payload)) or bearer_token(headers.get("authorization"))
        if self.token is None:
            await self.close(FORBIDDEN, "Forbidden: send Authorization: Bearer <token>")
            return
        actor = await self.authorise(at_init=True)
        if actor is None:
            return
        self.expires_at = await token_expires_at(self.token)
        limit = get_settings().ws_max_connections_per_client
        key = _client_key(actor)
        if limit and _open_sessions[key] >= limit:
            await self.close(TOO_MANY_CONNECTIONS, f"Too many connections (at most {limit})")
            return
        _open_sessions[key] += 1
        self.counted_as = key
        await self.send_message({"type": "connection_ack"})
        self.connection_acknowledged = True
        on_sessions_changed(self.recheck.set)
        self.watcher = asyncio.create_task(self.watch())

    async def authorise(self, at_init: bool = False) -> Actor | None:
        """The session's actor now, or None after closing the socket."""
        assert self.token is not None
        try:
            actor = await authenticate(self.token, self.peer.ip, self.peer.request_id)
        except DomainError as error:
            if at_init:
                await self.close(FORBIDDEN, "Forbidden: the token is not valid here")
            elif error.code == ErrorCode.IP_NOT_ALLOWED:
                await self.close(FORBIDDEN, "Forbidden: not allowed from this address")
            else:
                await self.close(SESSION_ENDED, "Unauthorized: the session has ended")
            return None
        except Exception:
            log.exception("WebSocket session check failed")
            await self.close(INTERNAL, "Internal error; reconnect")
            return None
        self.context.actor = actor
        return actor

    async def watch(self) -> None:
        settings = get_settings()
        loop = asyncio.get_running_loop()
        next_check = loop.time() + settings.ws_recheck_seconds
        while not self.closed:
            now = loop.time()
            timeout = max(0.0, next_check - now)
            if self.expires_at is not None:
                until_expiry = (self.expires_at - clock.now()).total_seconds()
                timeout = max(0.0, min(timeout, until_expiry))
            idle_limit = settings.ws_idle_timeout_seconds
            if idle_limit > 0:
                if self.operations:
                    self.idle_since = None
                elif self.idle_since is None:
                    self.idle_since = now
                if self.idle_since is not None and now - self.idle_since >= idle_limit:
                    await self.close(IDLE, f"Idle: no subscription for {idle_limit} s")
                    return
                # Operations do not wake the watcher: look again a few times per limit.
                timeout = min(timeout, idle_limit / 4)
            with suppress(TimeoutError):
                await asyncio.wait_for(self.recheck.wait(), timeout)
            expired = self.expires_at is not None and clock.now() >= self.expires_at
            if not (self.recheck.is_set() or expired or loop.time() >= next_check):
                continue  # woke for the idle check only
            self.recheck.clear()
            next_check = loop.time() + settings.ws_recheck_seconds
            if self.closed or await self.authorise() is None:
                return

    async def close_slow_consumer(self) -> None:
        await self.close(SLOW_CONSUMER, "Slow consumer: resubscribe from your last cursor")

    async def close(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        with suppress(Exception):
            await self.websocket.close(code=code, reason=reason)

    async def shutdown(self) -> None:
        self.closed = True
        if self.counted_as is not None:
            _open_sessions[self.counted_as] -= 1
            if _open_sessions[self.counted_as] <= 0:
                del _open_sessions[self.counted_as]
            self.counted_as = None
        remove_listener(self.recheck.set)
        if self.watcher is not None and self.watcher is not asyncio.current_task():
            self.watcher.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await self.watcher
        await super().shutdown()

    # --- operations -------------------------------------------------------------------------

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not self.connection_acknowledged:
            await self.close(SESSION_ENDED, "Unauthorized")
            return
        payload = message.get("payload")
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            await self.close(BAD_MESSAGE, "Invalid subscribe payload")
            return
        # Authorised as an HTTP request would be, at the moment it starts.
        if await self.authorise() is None:
            return
        kind = operation_kind(payload["query"], payload.get("operationName"))
        if kind is not None and kind != OperationType.SUBSCRIPTION:
            error = GraphQLError(
                render_message(
                    ErrorCode.BAD_REQUEST,
                    self.context.lang,
                    {"reason": _queries_over_http(self.context.lang)},
                ),
                extensions={"code": ErrorCode.BAD_REQUEST.value},
            )
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [error.formatted]}
            )
            return
        if await self.start_feed(message, payload):
            return
        await super().handle_subscribe(message)

    async def start_feed(self, message: SubscribeMessage, payload: dict[str, Any]) -> bool:
        """Run an operators' feed subscription on the fast path (gateway.feed_fast_path);
        False when strawberry should run it."""
        fast: FeedFastPath | None = getattr(self.view, "feed_fast_path", None)
        plan = fast.plan(payload["query"], payload.get("operationName")) if fast else None
        if fast is None or plan is None:
            return False
        arguments = fast.arguments(plan, self.context.actor, payload.get("variables"))
        operation_id = message["id"]
        if arguments is None or operation_id in self.operations:
            return False  # strawberry refuses (and closes on a reused id) as it always does
        limit = self.max_subscriptions_per_connection
        if limit is not None and len(self.operations) >= limit:
            return False
        operation = Operation(self, operation_id, payload["query"], payload.get("variables"), None)
        operation.task = asyncio.create_task(self.run_feed(operation, fast, plan, arguments))
        operation.task.add_done_callback(self._task_done)
        self.operations[operation_id] = operation
        return True

    async def run_feed(
        self,
        operation: Operation[Context, None],
        fast: FeedFastPath,
        plan: FeedPlan,
        arguments: dict[str, Any],
    ) -> None:
        actor = self.context.actor
        stream = plan.follow(
            actor, arguments.get("after"), arguments["first"], self.close_slow_consumer
        )
        try:
            async with aclosing(stream):
                async for page in stream:
                    if operation.completed:
                        return
                    await self.websocket.ws.send_text(fast.message(plan, operation.id, page))  # type: ignore[attr-defined]
        except asyncio.CancelledError:
            raise
        except Exception as error:
            processed = ErrorPolicy.process(
                GraphQLError(str(error), path=[plan.key], original_error=error),
                self.context.lang,
                actor.request_id,
            )
            with suppress(Exception):
                await operation.send_operation_message(
                    {
                        "id": operation.id,
                        "type": "next",
                        "payload": {"data": None, "errors": [processed.formatted]},
                    }
                )
        with suppress(Exception):
            await operation.send_operation_message({"id": operation.id, "type": "complete"})


def operation_kind(query: str, operation_name: object) -> OperationType | None:
    """The type of the operation the message asks for; None when the document cannot say
    (strawberry then answers the syntax or selection error itself)."""
    try:
        document = parse(query, max_tokens=get_settings().max_query_tokens)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if isinstance(operation_name, str):
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    return operations[0].operation if len(operations) == 1 else None


def _queries_over_http(lang: str) -> str:
    if lang == "en":
        return "only subscriptions run over the WebSocket; send queries and mutations over HTTP"
    return (
        "WebSocket üzerinden yalnızca abonelikler çalışır; sorgu ve değişiklikleri HTTP ile "
        "gönderin"
    )


__all__ = ["SessionHandler", "bearer_token"]
