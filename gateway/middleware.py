"""The gateway's front door: request id, client address, bearer token → actor, body caps.

Pure ASGI (no BaseHTTPMiddleware) so the operator hot path pays one dict lookup, not a
task switch. The token is resolved from the header before a byte of the body is read, so the
body is capped by who sends it (a stranger gets a small cap, see resolvers.settings).
Authentication failures answer here, in GraphQL's error shape. WebSocket sessions
authenticate in their own handshake (gateway.ws).
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import replace

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.logs import request_id_var
from gateway.refusals import send_refusal
from gateway.token_cache import TOKENS
from models.ip_rules import client_ip
from resolvers.accounts.auth import authenticate
from resolvers.actor import Actor
from resolvers.db_errors import is_database_unavailable
from resolvers.errors import Bilingual, DomainError, ErrorCode
from resolvers.settings import Settings, get_settings
from schema.context import preferred_language

log = logging.getLogger("mcks.http")

# fullmatch: `$` would also accept a trailing newline (a forged log line).
REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")
# /metrics checks its own token (MCKS_METRICS_TOKEN), not a person's or a client's.
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# Browsers cannot add custom headers to a cross-site form post: requiring one on
# multipart requests closes the CSRF hole that plain multipart uploads open.
UPLOAD_HEADERS = ("x-mcks-upload", "apollo-require-preflight")
# A refused body is not read: the connection cannot be reused.
CLOSE = ((b"connection", b"close"),)


class BodyTooLarge(Exception):
    pass


def body_limit(settings: Settings, actor: Actor, content_type: str) -> int:
    """The largest body this caller may send with this content type."""
    if not actor.is_authenticated:
        return settings.anonymous_max_body_bytes
    if content_type.startswith("multipart/"):
        return settings.max_request_bytes
    return settings.max_json_body_bytes


def too_large(limit: int) -> Bilingual:
    return Bilingual(
        f"gövde en fazla {limit} bayt olabilir (dosyalar multipart ile, oturum açarak gönderilir)",
        f"the body may be at most {limit} bytes (files go as multipart, after logging in)",
    )


class GatewayMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        settings = get_settings()
        headers = Headers(scope=scope)
        incoming_id = headers.get("x-request-id", "")
        request_id = incoming_id if REQUEST_ID_RE.fullmatch(incoming_id) else uuid.uuid4().hex
        request_id_var.set(request_id)
        peer = scope["client"][0] if scope.get("client") else ""
        ip = client_ip(peer, headers.get("x-forwarded-for"), settings.trusted_proxies)
        lang = preferred_language(headers.get("accept-language"))
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["client_ip"] = ip
        state["lang"] = lang

        async def reject(
            code: ErrorCode,
            status: int,
            headers: tuple[tuple[bytes, bytes], ...] = (),
            **params: object,
        ) -> None:
            await send_refusal(send, status, code, lang, request_id, headers, **params)

        if scope["type"] == "websocket":
            # The session authenticates in connection_init (gateway.ws); a refusal here
            # could not be sent on a socket that is not accepted yet.
            state["actor"] = Actor.anonymous(ip, request_id)
            await self.app(scope, receive, send)
            return

        length = headers.get("content-length")
        if length is not None and not length.isdigit():
            await reject(
                ErrorCode.BAD_REQUEST,
                400,
                CLOSE,
                reason=Bilingual("Content-Length geçersiz", "invalid Content-Length"),
            )
            return
        content_type = headers.get("content-type", "")
        if content_type.startswith("multipart/") and not any(h in headers for h in UPLOAD_HEADERS):
            await reject(
                ErrorCode.BAD_REQUEST,
                400,
                reason=Bilingual(
                    "multipart istekler X-MCKS-Upload: 1 başlığını taşımalı",
                    "multipart requests need the header X-MCKS-Upload: 1",
                ),
            )
            return

        actor = Actor.anonymous(ip, request_id)
        authorization = headers.get("authorization")
        if authorization and scope["path"] not in OPEN_PATHS:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                await reject(ErrorCode.UNAUTHENTICATED, 401)
                return
            token = token.strip()
            cached = TOKENS.get(token, ip) if settings.token_cache_seconds > 0 else None
            if cached is not None:
                actor = replace(cached, request_id=request_id)
            else:
                try:
                    actor = await authenticate(token, ip, request_id)
                except DomainError as error:
                    status = 403 if error.code == ErrorCode.IP_NOT_ALLOWED else 401
                    await reject(error.code, status, **error.params)
                    return
                except Exception as error:
                    if not is_database_unavailable(error):
                        raise
                    log.warning("database unavailable while authenticating: %r", error)
                    await reject(ErrorCode.SERVICE_UNAVAILABLE, 503)
                    return
                if settings.token_cache_seconds > 0:
                    TOKENS.put(token, ip, actor, settings.token_cache_seconds)
        state["actor"] = actor

        # Known before the body is read: a stranger's 40 MB is refused unread.
        limit = body_limit(settings, actor, content_type)
        if length is not None and int(length) > limit:
            await reject(ErrorCode.PAYLOAD_TOO_LARGE, 413, CLOSE, reason=too_large(limit))
            return

        started = False
        received = 0

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                response_headers = list(message.get("headers", []))
                if not any(name.lower() == b"x-request-id" for name, _ in response_headers):
                    response_headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = response_headers
            await send(message)

        try:
            await self.app(scope, capped_receive, send_with_id)
        except BodyTooLarge:
            if not started:
                await reject(ErrorCode.PAYLOAD_TOO_LARGE, 413, CLOSE, reason=too_large(limit))
        except Exception as error:
            # Whatever a route let escape answers in GraphQL's shape with the request id,
            # never the server's plain-text 500: 503 when the database is out of reach.
            if started or scope["type"] != "http":
                raise
            if is_database_unavailable(error):
                log.warning("database unavailable (request %s): %r", request_id, error)
                await reject(ErrorCode.SERVICE_UNAVAILABLE, 503)
            else:
                log.exception("unexpected error (request %s)", request_id)
                await reject(ErrorCode.INTERNAL_ERROR, 500)
