"""The GraphQL endpoint: strawberry's ASGI view with our context, the operators' fast path for
`checkImeis` in front of it, and clean refusals of requests that are not GraphQL.

A JSON body is read and parsed once, here, checked for shape
(gateway.request_body), and handed to the fast path or to strawberry already parsed. Whatever
strawberry would answer as plain text (bad multipart parts, wrong content type) answers in
GraphQL's error shape with a code instead.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from cross_web import HTTPException
from starlette.datastructures import Headers, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.file_uploads.utils import replace_placeholders_with_files

from gateway.check_fast_path import CheckFastPath
from gateway.explorer import page_response
from gateway.feed_fast_path import FeedFastPath
from gateway.refusals import send_refusal
from gateway.request_body import (
    RequestRefused,
    bad_request,
    check_shape,
    parse_request,
    read_body,
)
from gateway.ws import SessionHandler
from resolvers.actor import Actor
from resolvers.errors import ErrorCode
from resolvers.settings import get_settings
from schema.context import Context

# The request parsed in __call__, for strawberry's decode_json in the same task: one parse.
_parsed_request: ContextVar[dict[str, Any] | None] = ContextVar("parsed_request", default=None)

# strawberry's plain-text refusals, in both languages.
STRAWBERRY_REASONS = {
    "Unsupported content type": (
        "desteklenmeyen içerik türü (application/json ya da multipart/form-data gönderin)",
        "unsupported content type (send application/json or multipart/form-data)",
    ),
    "Batching is not enabled": (
        "bir istekte tek bir GraphQL işlemi gönderilebilir",
        "one GraphQL operation per request (batching is off)",
    ),
    "Not Found": (
        "gezgin kapalı; GraphQL isteklerini POST ile gönderin",
        "the explorer is off; send GraphQL requests with POST",
    ),
    "GraphQL only supports GET and POST requests.": (
        "GraphQL yalnızca GET ve POST isteklerini kabul eder",
        "GraphQL accepts only GET and POST requests",
    ),
    "No GraphQL query found in the request": (
        "istekte GraphQL sorgusu yok",
        "no GraphQL query found in the request",
    ),
}


def strawberry_reason(reason: str) -> tuple[str, str]:
    """strawberry's English reason in both languages; never English inside a Turkish text."""
    if reason in STRAWBERRY_REASONS:
        return STRAWBERRY_REASONS[reason]
    if reason.startswith("Unknown operation named"):
        name = reason.partition("named")[2].strip().rstrip(".")
        return f"belgede {name} adlı bir işlem yok", reason.rstrip(".")
    return "istek bir GraphQL isteği olarak işlenemedi", reason.rstrip(".")


class GatewayGraphQL(GraphQL):
    graphql_transport_ws_handler_class = SessionHandler

    def __init__(self, schema: Any, **options: Any) -> None:
        super().__init__(schema, **options)
        self.fast_path = CheckFastPath(schema)
        self.feed_fast_path = FeedFastPath(schema)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        state = scope.get("state") or {}
        try:
            await self._handle_http(scope, receive, send)
        except RequestRefused as refused:
            await send_refusal(
                send,
                refused.status,
                refused.code,
                state.get("lang", "tr"),
                state.get("request_id", ""),
                reason=refused.reason,
            )

    async def _handle_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        reset = None
        if scope["method"] == "POST" and Headers(scope=scope).get("content-type", "").startswith(
            "application/json"
        ):
            # JSON only: uploads (multipart) are never buffered here.
            body, receive = await read_body(receive)
            data = parse_request(body)
            if await self.fast_path.answer(scope, data, send):
                return
            reset = _parsed_request.set(data)
        try:
            try:
                response = await self.run(Request(scope=scope, receive=receive))
            except HTTPException as error:
                tr, en = strawberry_reason(error.reason)
                raise RequestRefused(error.status_code, ErrorCode.BAD_REQUEST, tr, en) from None
        finally:
            if reset is not None:
                _parsed_request.reset(reset)
        await response(scope, receive, send)

    def decode_json(self, data: str | bytes) -> object:
        parsed = _parsed_request.get()
        if parsed is not None:
            _parsed_request.set(None)
            return parsed
        return json.loads(data)

    async def parse_multipart(self, request: Any) -> dict[str, Any]:
        """strawberry's, with every part checked: what is wrong is said, never a 500."""
        try:
            form = await request.get_form_data()
        except Exception as error:  # starlette raises several kinds for a broken body
            raise bad_request(
                "multipart gövde okunamadı", f"the multipart body is broken ({error})"
            ) from None
        operations = _json_part(form.form, "operations")
        files_map = _json_part(form.form, "map")
        if not isinstance(operations, dict):
            raise bad_request(
                "'operations' bölümü tek bir GraphQL isteği (JSON nesnesi) olmalı",
                "the 'operations' part must be one GraphQL request (a JSON object)",
            )
        if not isinstance(files_map, dict) or not all(
            isinstance(paths, list) and all(isinstance(p, str) for p in paths)
            for paths in files_map.values()
        ):
            raise bad_request(
                "'map' bölümü her dosya bölümünü değişken yollarına eşleyen bir JSON nesnesi "
                "olmalı",
                "the 'map' part must be a JSON object mapping each file part to variable paths",
            )
        for name in files_map:
            part = form.files.get(name)
            if not isinstance(part, UploadFile) or not (part.filename or "").strip():
                raise bad_request(
                    f"'{name}' bölümü dosya adı olan bir dosya olmalı",
                    f"the part '{name}' must be a file with a file name",
                )
        check_shape(operations.get("variables"), "variables")
        try:
            return replace_placeholders_with_files(operations, files_map, form.files)
        except (KeyError, IndexError, ValueError, TypeError):
            raise bad_request(
                "'map' bölümündeki bir yol 'operations' içinde yok",
                "a path in the 'map' part does not exist in 'operations'",
            ) from None

    async def render_graphql_ide(self, request: Request) -> Response:
        """Our self-hosted page (gateway.explorer), not strawberry's CDN one."""
        return page_response()

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        state = request.scope.get("state", {})
        actor = state.get("actor") or Actor.anonymous(
            state.get("client_ip", ""), state.get("request_id", "")
        )
        return Context(
            request=request if isinstance(request, Request) else None,
            actor=actor,
            lang=state.get("lang", "tr"),
            response=response if isinstance(request, Request) else None,
        )


def _json_part(form: Any, name: str) -> object:
    raw = form.get(name)
    if raw is None:
        raise bad_request(f"'{name}' bölümü eksik", f"the part '{name}' is missing")
    if not isinstance(raw, str | bytes):
        raise bad_request(
            f"'{name}' bölümü metin olmalı, dosya değil",
            f"the part '{name}' must be text, not a file",
        )
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise bad_request(
            f"'{name}' bölümü geçerli bir JSON değil", f"the part '{name}' is not valid JSON"
        ) from None


def graphql_app(schema: Any, ide: bool) -> GatewayGraphQL:
    settings = get_settings()
    return GatewayGraphQL(
        schema,
        graphql_ide="graphiql" if ide else None,
        multipart_uploads_enabled=True,
        # Only the current protocol; the legacy one has no auth handshake worth trusting.
        subscription_protocols=("graphql-transport-ws",),
        connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout_seconds),
        max_subscriptions_per_connection=settings.ws_max_operations,
    )


__all__ = ["GatewayGraphQL", "graphql_app"]
