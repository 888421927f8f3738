"""The GraphQL endpoint: strawberry's ASGI view with our context, and the operators' fast path
for `checkImeis` in front of it."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from gateway.check_fast_path import CheckFastPath, read_body
from resolvers.actor import Actor
from schema.context import Context


class GatewayGraphQL(GraphQL):
    def __init__(self, schema: Any, **options: Any) -> None:
        super().__init__(schema, **options)
        self.fast_path = CheckFastPath(schema)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # JSON posts only: uploads (multipart) are never buffered here.
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and Headers(scope=scope).get("content-type", "").startswith("application/json")
        ):
            body, receive = await read_body(receive)
            if await self.fast_path.answer(scope, body, send):
                return
        await super().__call__(scope, receive, send)

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


def graphql_app(schema: Any, ide: bool) -> GatewayGraphQL:
    return GatewayGraphQL(
        schema,
        graphql_ide="graphiql" if ide else None,
        multipart_uploads_enabled=True,
        # Only the current protocol; the legacy one has no auth handshake worth trusting.
        subscription_protocols=("graphql-transport-ws",),
    )


__all__ = ["GatewayGraphQL", "graphql_app"]
