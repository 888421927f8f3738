"""The `mcks` command: migrate, create the first admin and a machine client, demo data."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from gateway import cli
from gateway.db import close_db, init_db
from models.accounts import MachineClient, User
from resolvers.accounts.auth import authenticate
from resolvers.settings import configure


def test_a_fresh_install_gets_its_first_admin_and_operator(tmp_path, settings, capsys):
    url = f"sqlite://{tmp_path}/fresh.sqlite3"
    configure(replace(settings, database_url=url))
    assert cli.main(["migrate"]) == 0
    assert cli.main(["migrate"]) == 0  # applying again changes nothing
    assert (
        cli.main(
            [
                "create-admin",
                "--username",
                "ilk.yonetici",
                "--full-name",
                "İlk Yönetici",
                "--email",
                "yonetici@kurum.example",
            ]
        )
        == 0
    )
    assert (
        cli.main(
            [
                "create-client",
                "--name",
                "GSM Bir",
                "--kind",
                "OPERATOR",
                "--operator-code",
                "GSM1",
                "--allowed-ip",
                "10.0.0.0/8",
            ]
        )
        == 0
    )
    token = capsys.readouterr().out.strip().splitlines()[-1]

    async def check() -> None:
        await init_db(url)
        try:
            admin = await User.get(username="ilk.yonetici")
            assert admin.role == "STAFF_ADMIN" and admin.must_change_password
            client = await MachineClient.get(name="GSM Bir")
            assert client.allowed_ips == ["10.0.0.0/8"]
            actor = await authenticate(token, "10.1.2.3")
            assert actor.operator_code == "GSM1"
        finally:
            await close_db()

    asyncio.run(check())


def test_demo_data_only_in_development(tmp_path, settings, capsys):
    url = f"sqlite://{tmp_path}/demo.sqlite3"
    configure(replace(settings, database_url=url, env="production"))
    assert cli.main(["migrate"]) == 0
    assert cli.main(["demo"]) == 2
    configure(replace(settings, database_url=url, env="development"))
    assert cli.main(["demo"]) == 0
    assert cli.main(["demo"]) == 0  # idempotent
    assert "mcks_demo_operator_token" in capsys.readouterr().out
