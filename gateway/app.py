"""The whole gateway at a glance: routes, middleware, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute

from gateway.db import close_db, init_db
from gateway.graphql_view import graphql_app
from gateway.middleware import GatewayMiddleware
from gateway.routes import healthz, readyz
from gateway.settings import Settings, configure, get_settings
from schema import build_schema


def create_app(settings: Settings | None = None, manage_db: bool = True) -> Starlette:
    """`manage_db=False` when the caller (tests, benchmarks) owns the ORM's lifetime."""
    if settings is not None:
        configure(settings)
    settings = get_settings()
    graphql = graphql_app(build_schema(), ide=settings.graphql_ide)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if manage_db:
            await init_db()
        try:
            yield
        finally:
            if manage_db:
                await close_db()

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
        ],
        middleware=[Middleware(GatewayMiddleware)],
        lifespan=lifespan,
    )
