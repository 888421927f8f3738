"""`mcks tac …`: the TAC registry from the command line (`mcks tac import FILE.csv`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any


def add_tac_commands(subparsers: Any) -> None:
    """Add `tac import` to the `mcks` parser's subcommands (argparse `add_subparsers()`)."""
    tac = subparsers.add_parser("tac", help="manage the TAC registry")
    tac_commands = tac.add_subparsers(dest="tac_command", required=True)
    load = tac_commands.add_parser(
        "import",
        help="load the registry from a CSV file",
        description=(
            "Load TAC models from a CSV file with a header row: tac, brand, model, imei_count "
            "(required), marketing_name, device_type (optional), in any order. By default the "
            "file is the whole registry: active TACs it lacks are retired, and an import that "
            "would retire more than a set share of the registry is refused unless --force. "
            "Bad lines are printed and skipped; the good ones are applied. Exit status: 0 "
            "applied, 1 refused (nothing changed)."
        ),
    )
    load.add_argument("file", type=Path, help="the CSV file")
    load.add_argument("--merge", action="store_true", help="only add and update; retire nothing")
    load.add_argument("--force", action="store_true", help="apply even if it retires a large share")
    load.set_defaults(func=cmd_tac_import)


def cmd_tac_import(args: argparse.Namespace) -> int:
    # Imported here: gateway.cli imports this module to register the command.
    from gateway.cli import _with_db
    from resolvers.actor import Actor
    from resolvers.errors import DomainError, DomainErrors
    from resolvers.tac.csv_import import ImportResult, TacImportMode, import_tac_csv

    path: Path = args.file
    try:
        content = path.read_bytes()
    except OSError as os_error:
        print(f"cannot read {path}: {os_error.strerror}", file=sys.stderr)
        return 1

    async def run() -> ImportResult:
        return await import_tac_csv(
            Actor.system("cli"),
            content,
            file_name=path.name,
            mode=TacImportMode.MERGE if args.merge else TacImportMode.REPLACE,
            force=args.force,
        )

    try:
        result: ImportResult = asyncio.run(_with_db(run))
    except DomainErrors as refusals:
        for refusal in refusals.errors:
            print(f"refused, nothing changed: {refusal.message('en')}", file=sys.stderr)
        return 1
    except DomainError as refusal:
        print(f"refused, nothing changed: {refusal.message('en')}", file=sys.stderr)
        return 1
    for line_error in result.line_errors:
        print(
            f"line {line_error.line}, column {line_error.column}: "
            f"{line_error.code.value}: {line_error.message_en}",
            file=sys.stderr,
        )
    print(
        f"{path.name} ({result.mode.value}{', forced' if result.forced else ''}): "
        f"{result.inserted} inserted, {result.updated} updated, "
        f"{result.reactivated} reactivated, {result.retired} retired, "
        f"{result.unchanged} unchanged, {len(result.line_errors)} line errors"
    )
    return 0
