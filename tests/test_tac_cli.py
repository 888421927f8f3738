"""`mcks tac import FILE.csv`: the registry loaded from the command line."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import replace

from gateway import cli
from gateway.cli_tac import add_tac_commands
from gateway.db import close_db, init_db
from models.audit import AuditEvent
from models.tac import TacModel
from resolvers.settings import configure


def mcks_tac(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="mcks")
    add_tac_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def registry_state(url: str) -> dict[str, tuple[str, bool]]:
    async def read() -> dict[str, tuple[str, bool]]:
        await init_db(url)
        try:
            return {m.tac: (m.model_code, m.is_active) async for m in TacModel.all()}
        finally:
            await close_db()

    return asyncio.run(read())


def test_staff_load_the_registry_from_a_csv_file(tmp_path, settings, capsys):
    url = f"sqlite://{tmp_path}/cli.sqlite3"
    configure(replace(settings, database_url=url))
    assert cli.main(["migrate"]) == 0
    registry = tmp_path / "tac.csv"
    registry.write_text(
        "tac,brand,model,imei_count\n"
        + "".join(f"{35000000 + i},Samsung,SM-A{i},2\n" for i in range(10))
        + "3500001,Samsung,SM-X,2\n",  # line 12: seven digits
        encoding="utf-8",
    )
    assert mcks_tac(["tac", "import", str(registry)]) == 0
    out, err = capsys.readouterr()
    assert "10 inserted" in out and "1 line errors" in out and "REPLACE" in out
    assert "line 12, column tac: INVALID_TAC" in err
    assert len(registry_state(url)) == 10

    # Half of the registry missing from the next file: refused, nothing changed ...
    registry.write_text(
        "tac,brand,model,imei_count\n"
        + "".join(f"{35000000 + i},Samsung,SM-A{i},2\n" for i in range(5)),
        encoding="utf-8",
    )
    assert mcks_tac(["tac", "import", str(registry)]) == 1
    assert "would retire 5 of 10 active TACs" in capsys.readouterr().err
    assert all(active for _, active in registry_state(url).values())
    # ... merged it retires nothing, forced it retires the missing half.
    assert mcks_tac(["tac", "import", "--merge", str(registry)]) == 0
    assert "0 retired, 5 unchanged" in capsys.readouterr().out
    assert mcks_tac(["tac", "import", "--force", str(registry)]) == 0
    assert "5 retired" in capsys.readouterr().out
    state = registry_state(url)
    assert sum(active for _, active in state.values()) == 5 and not state["35000009"][1]

    async def audit_trail() -> list[tuple[str, str]]:
        await init_db(url)
        try:
            rows = await AuditEvent.filter(action="tac.imported").order_by("id")
            return [(e.actor_name, e.details["mode"]) for e in rows]
        finally:
            await close_db()

    assert asyncio.run(audit_trail()) == [("cli", "REPLACE"), ("cli", "MERGE"), ("cli", "REPLACE")]


def test_a_missing_or_unreadable_file_is_reported(tmp_path, settings, capsys):
    url = f"sqlite://{tmp_path}/cli.sqlite3"
    configure(replace(settings, database_url=url))
    assert cli.main(["migrate"]) == 0
    assert mcks_tac(["tac", "import", str(tmp_path / "yok.csv")]) == 1
    assert "cannot read" in capsys.readouterr().err
    excel = tmp_path / "tac.xlsx"
    excel.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    assert mcks_tac(["tac", "import", str(excel)]) == 1
    assert "save it as CSV" in capsys.readouterr().err
