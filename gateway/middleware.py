"""The gateway's front door: request id, client address, body cap, bearer token → actor.

Pure ASGI (no BaseHTTPMiddleware) so the operator hot path pays one dict lookup, not a
task switch. Authentication failures answer here, in GraphQL's error shape.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from dataclasses import replace
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.logs import request_id_var
from gateway.token_cache import TOKENS
from models.ip_rules import client_ip
from resolvers.accounts.auth import authenticate
from resolvers.actor import Actor
from resolvers.db_errors import is_database_unavailable
from resolvers.errors import DomainError, ErrorCode, render_message
from resolvers.settings import get_settings
from schema.context import preferred_language

log = logging.getLogger("mcks.http")

REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
OPEN_PATHS = frozenset({"/healthz", "/readyz"})
# Browsers cannot add custom headers to a cross-site form post: requiring one on
# multipart requests closes the CSRF hole that plain multipart uploads open.
UPLOAD_HEADERS = ("x-mcks-upload", "apollo-require-preflight")


class BodyTooLarge(Exception):
    pass


async def send_json(send: Send, status: int, body: dict[str, Any], request_id: str) -> None:
    payload = json.dumps(body, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(payload)).encode()),
                (b"x-request-id", request_id.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def error_body(code: ErrorCode, message: str, request_id: str) -> dict[str, Any]:
    return {
        "errors": [
            {"message": message, "extensions": {"code": code.value, "requestId": request_id}}
        ]
    }


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
        request_id = incoming_id if REQUEST_ID_RE.match(incoming_id) else uuid.uuid4().hex
        request_id_var.set(request_id)
        peer = scope["client"][0] if scope.get("client") else ""
        ip = client_ip(peer, headers.get("x-forwarded-for"), settings.trusted_proxies)
        lang = preferred_language(headers.get("accept-language"))
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["client_ip"] = ip
        state["lang"] = lang

        async def reject(code: ErrorCode, status: int, **params: object) -> None:
            await send_json(
                send,
                status,
                error_body(code, render_message(code, lang, params), request_id),
                request_id,
            )

        if scope["type"] == "http":
            length = headers.get("content-length")
            if length is not None and (
                not length.isdigit() or int(length) > settings.max_request_bytes
            ):
                await reject(
                    ErrorCode.INVALID_INPUT,
                    413,
                    reason=f"body larger than {settings.max_request_bytes} bytes",
                )
                return
            content_type = headers.get("content-type", "")
            if content_type.startswith("multipart/") and not any(
                h in headers for h in UPLOAD_HEADERS
            ):
                await reject(
                    ErrorCode.INVALID_INPUT,
                    400,
                    reason="multipart requests need the header X-MCKS-Upload: 1",
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
                    await reject(ErrorCode.SERVICE_UNAVAILABLE, 503, request_id=request_id)
                    return
                if settings.token_cache_seconds > 0:
                    TOKENS.put(token, ip, actor, settings.token_cache_seconds)
        state["actor"] = actor

        started = False
        received = 0

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > settings.max_request_bytes:
                    raise BodyTooLarge
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(
                scope, capped_receive if scope["type"] == "http" else receive, send_with_id
            )
        except BodyTooLarge:
            if not started:
                await reject(
                    ErrorCode.INVALID_INPUT,
                    413,
                    reason=f"body larger than {settings.max_request_bytes} bytes",
                )
        except Exception as error:
            # Whatever a route let escape answers in GraphQL's shape with the request id,
            # never the server's plain-text 500: 503 when the database is out of reach.
            if started or scope["type"] != "http":
                raise
            if is_database_unavailable(error):
                log.warning("database unavailable (request %s): %r", request_id, error)
                await reject(ErrorCode.SERVICE_UNAVAILABLE, 503, request_id=request_id)
            else:
                log.exception("unexpected error (request %s)", request_id)
                await reject(ErrorCode.INTERNAL_ERROR, 500, request_id=request_id)
