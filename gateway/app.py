"""The whole gateway at a glance: routes, middleware, lifespan."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute

from gateway import readiness
from gateway.annex_exports import application_ek2, application_ek3
from gateway.db import close_db, init_db, ping
from gateway.demo import start_demo_authorities, start_demo_payments
from gateway.downloads import application_devices_xlsx, device_list_template
from gateway.explorer import explorer_asset
from gateway.exports import blacklist_csv, greylist_csv, whitelist_csv
from gateway.graphql_view import graphql_app
from gateway.metrics import metrics_endpoint
from gateway.middleware import GatewayMiddleware
from gateway.observability import ObservabilityMiddleware
from gateway.payment_callback import payment_callback
from gateway.push import push_channel
from gateway.routes import download_file, healthz, readyz, verify_document
from gateway.worker import run_forever
from resolvers.applications import list_reader
from resolvers.documents import shutdown_renderer
from resolvers.operators import quota
from resolvers.settings import Settings, configure, get_settings
from schema import build_schema


def create_app(settings: Settings | None = None, manage_db: bool = True) -> Starlette:
    """`manage_db=False` when the caller (tests, benchmarks) owns the ORM's lifetime."""
    if settings is not None:
        configure(settings)
    settings = get_settings()
    graphql = graphql_app(build_schema(settings.development), ide=settings.graphql_ide)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if manage_db:
            await init_db()
            if not await ping():
                # Fail at startup, where a supervisor sees it, not on every request after.
                raise RuntimeError("the database does not answer (DATABASE_URL)")
        stack = AsyncExitStack()
        # Subscribers in this process wake on commits made anywhere (PostgreSQL LISTEN).
        await stack.enter_async_context(push_channel())
        # The demo's simulated authorities serve the process that sends the batches: this
        # one with the in-process worker, else each `mcks worker` starts its own.
        if manage_db and settings.development and settings.in_process_worker:
            await start_demo_authorities(stack)
        # The server opens card payments and takes their callbacks: the demo's virtual POS.
        if manage_db and settings.development:
            await start_demo_payments(stack)
        if manage_db:
            # Big device lists are read in processes forked from a server started now,
            # which imports this process's modules once, not on each upload.
            await asyncio.to_thread(list_reader.start_reader_server)
        stop = asyncio.Event()
        tasks = []
        if manage_db and settings.in_process_worker:
            tasks.append(
                asyncio.create_task(
                    run_forever(stop, settings.worker_poll_seconds, settings.job_lease_seconds)
                )
            )
        if manage_db:
            # Operators' quota counts checked since the last reservation reach the database.
            tasks.append(asyncio.create_task(quota.flush_forever(stop)))
        if manage_db and readiness.BEAT is not None:
            tasks.append(
                asyncio.create_task(
                    readiness.beat_while_ready(stop, settings.ready_timeout_seconds)
                )
            )
        if manage_db:
            # Everything alive now (schema, ORM metadata, modules) lives as long as the
            # process: keep it out of the cycle collector, whose full passes over it paused
            # requests for ~100 ms (the operators' p99).
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            stop.set()
            for task in tasks:
                await task
            await stack.aclose()
            if manage_db:
                shutdown_renderer()  # the PDF processes stop with the server, not after it
                await close_db()

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/explorer/{name}", explorer_asset),
            Route("/files/{file_id}", download_file),
            Route("/documents/verify/{code}", verify_document),
            Route("/templates/device-list.xlsx", device_list_template),
            Route("/applications/{application_id}/devices.xlsx", application_devices_xlsx),
            Route("/applications/{application_id}/ek2.txt", application_ek2),
            Route("/applications/{application_id}/ek3.txt", application_ek3),
            Route("/exports/whitelist.csv", whitelist_csv),
            Route("/exports/blacklist.csv", blacklist_csv),
            Route("/exports/greylist.csv", greylist_csv),
            Route("/payments/callback", payment_callback, methods=["POST"]),
            WebSocketRoute("/graphql", graphql),
        ],
        # Outermost first: the access log and metrics see the whole request.
        middleware=[Middleware(ObservabilityMiddleware), Middleware(GatewayMiddleware)],
        lifespan=lifespan,
    )
