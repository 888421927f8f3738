"""The GraphQL endpoint: strawberry's ASGI view with our context."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from resolvers.actor import Actor
from schema.context import Context


class GatewayGraphQL(GraphQL):
    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        state = request.scope.get("state", {})
        actor = state.get("actor") or Actor.anonymous(
            state.get("client_ip", ""), state.get("request_id", "")
        )
        return Context(
            request=request if isinstance(request, Request) else None,
            actor=actor,
            lang=state.get("lang", "tr"),
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
