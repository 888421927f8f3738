"""`mcks`: migrate, serve, load demo data, create accounts, export the SDL."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from gateway.cli_tac import add_tac_commands
from gateway.db import close_db, init_db, migrate
from resolvers.settings import SettingsError, get_settings
from schema import SDL_PATH, export_sdl


async def _with_db(action: Callable[[], Awaitable[Any]]) -> Any:
    await init_db()
    try:
        return await action()
    finally:
        await close_db()


def cmd_migrate(args: argparse.Namespace) -> int:
    asyncio.run(migrate())
    print(f"migrated {get_settings().database_url}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from gateway.demo import load_demo

    if not get_settings().development:
        print("demo data is loaded only with MCKS_ENV=development", file=sys.stderr)
        return 2
    lines = asyncio.run(_with_db(load_demo))
    print("Demo credentials:")
    print("\n".join(lines))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from gateway.logs import configure_logging
    from gateway.serve import options_from, serve
    from resolvers.documents.seal import check_signing_key

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    # The key opens and its certificate is valid, before any process starts; a demo's first
    # start makes its local CA here. A SettingsError ends the command with its message.
    signer = check_signing_key(settings)
    print(f"documents are signed by {signer.certificate_subject}", flush=True)
    options = options_from(settings, args.host, args.port)
    workers = args.workers or settings.workers
    print(f"GraphQL explorer: http://{options.host}:{options.port}/graphql", flush=True)
    return serve(options, workers)


def cmd_create_admin(args: argparse.Namespace) -> int:
    from models.roles import Role
    from resolvers.accounts import admin
    from resolvers.actor import Actor

    async def create() -> Any:
        return await admin.create_user(
            Actor.system("cli"), args.username, args.full_name, args.email, Role.STAFF_ADMIN
        )

    new = asyncio.run(_with_db(create))
    print(f"created staff admin {new.user.username}; temporary password (change at first login):")
    print(new.temporary_password)
    return 0


def cmd_create_client(args: argparse.Namespace) -> int:
    from models.roles import ClientKind
    from resolvers.accounts import admin
    from resolvers.actor import Actor

    async def create() -> Any:
        return await admin.create_client(
            Actor.system("cli"),
            args.name,
            ClientKind(args.kind),
            args.operator_code,
            args.allowed_ip or [],
        )

    client, issued = asyncio.run(_with_db(create))
    print(f"created {client.kind.value} client {client.name!r}; its token (shown once):")
    print(issued.token)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    import signal

    from gateway.logs import configure_logging
    from gateway.worker import run_forever

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)

    async def work() -> None:
        from contextlib import AsyncExitStack

        from gateway.demo import start_demo_authorities
        from gateway.push import push_channel

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        async with AsyncExitStack() as stack:
            if settings.development:
                # The worker sends the verification batches: the demo's simulated
                # authorities must answer this process (the server starts none then).
                await start_demo_authorities(stack)
            # PostgreSQL: the jobs queued by the servers wake this worker at once.
            await stack.enter_async_context(push_channel())
            await run_forever(stop, get_settings().worker_poll_seconds, settings.job_lease_seconds)

    asyncio.run(_with_db(work))
    return 0


def cmd_export_schema(args: argparse.Namespace) -> int:
    sdl = export_sdl()
    if args.check:
        current = SDL_PATH.read_text(encoding="utf-8") if SDL_PATH.exists() else ""
        if current != sdl:
            print("schema.graphql is stale: run `mcks export-schema`", file=sys.stderr)
            return 1
        print("schema.graphql is up to date")
        return 0
    SDL_PATH.write_text(sdl, encoding="utf-8")
    print(f"wrote {SDL_PATH}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mcks", description="MCKS gateway")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply pending database migrations").set_defaults(
        func=cmd_migrate
    )
    sub.add_parser("demo", help="load demo data (development only)").set_defaults(func=cmd_demo)
    serve = sub.add_parser("serve", help="serve the API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument(
        "--workers", type=int, help="server processes behind the port (MCKS_WORKERS, default 1)"
    )
    serve.set_defaults(func=cmd_serve)
    sub.add_parser(
        "worker", help="run background jobs (several may share one PostgreSQL)"
    ).set_defaults(func=cmd_worker)
    create_admin = sub.add_parser("create-admin", help="create a staff admin")
    create_admin.add_argument("--username", required=True)
    create_admin.add_argument("--full-name", required=True)
    create_admin.add_argument("--email", required=True)
    create_admin.set_defaults(func=cmd_create_admin)
    create_client = sub.add_parser("create-client", help="create a machine client and its token")
    create_client.add_argument("--name", required=True)
    create_client.add_argument("--kind", required=True, choices=["OPERATOR", "E_DEVLET"])
    create_client.add_argument("--operator-code")
    create_client.add_argument("--allowed-ip", action="append", help="repeatable; IP or CIDR")
    create_client.set_defaults(func=cmd_create_client)
    add_tac_commands(sub)
    export = sub.add_parser("export-schema", help="write schema.graphql from the code")
    export.add_argument("--check", action="store_true", help="fail if schema.graphql is stale")
    export.set_defaults(func=cmd_export_schema)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
