"""Helpers for the operator-interface tests: IMEIs, list entries, operator clients."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from models import clock
from models.accounts import AccessToken, MachineClient
from models.imei import luhn_check_digit
from models.registry import BlacklistReason, WhitelistSource, WhitelistStatus
from models.roles import ClientKind
from models.tac import TacModel
from resolvers import registry_changes
from resolvers.accounts.credentials import hash_token
from resolvers.actor import Actor
from tests.support.api import gql

OPERATOR_TOKEN = "mcks_demo_operator_token"
STAFF = Actor.system("test-staff")

CHECK = """
query($imeis: [String!]!, $msisdn: String) {
  checkImeis(imeis: $imeis, msisdn: $msisdn) {
    imei verdict status reason brand model graceEndsAt
  }
}"""


TEST_TAC = "35693803"  # the TAC of `imei()`: not in the demo registry unless registered


async def register_tac(tac: str = TEST_TAC, brand: str = "APPLE", model: str = "A2403") -> None:
    """Put a TAC in the registry: unregistered IMEIs of it may get a grace period."""
    now = clock.now()
    await TacModel.create(
        tac=tac, brand=brand, model_code=model, imei_count=2, created_at=now, updated_at=now
    )


def imei(serial: int, tac: str = TEST_TAC) -> str:
    """A valid 15-digit IMEI: the TAC, a 6-digit serial and the Luhn check digit."""
    first14 = f"{tac}{serial:06d}"
    return first14 + luhn_check_digit(first14)


async def whitelist(
    *imeis: str,
    status: WhitelistStatus = WhitelistStatus.REGISTERED,
    firm_id: int | None = None,
    brand: str = "APPLE",
    model: str = "A2403",
) -> None:
    async with in_transaction():
        await registry_changes.add_to_whitelist(
            STAFF,
            [
                registry_changes.WhitelistAddition(
                    imei=i,
                    brand=brand,
                    model_code=model,
                    source=WhitelistSource.FIRM_APPLICATION,
                    status=status,
                    firm_id=firm_id,
                )
                for i in imeis
            ],
        )


async def unlist(*imeis: str, reason: str) -> None:
    async with in_transaction():
        await registry_changes.remove_from_whitelist(STAFF, list(imeis), reason)


async def blacklist(*imeis: str, reason: BlacklistReason = BlacklistReason.STOLEN) -> None:
    async with in_transaction():
        await registry_changes.add_to_blacklist(
            STAFF, [registry_changes.BlacklistAddition(i, reason, "EGM-2026/1") for i in imeis]
        )


async def make_operator(name: str, code: str, token: str) -> MachineClient:
    now = clock.now()
    client = await MachineClient.create(
        name=name, kind=ClientKind.OPERATOR, operator_code=code, created_at=now
    )
    await AccessToken.create(
        token_hash=hash_token(token),
        client_id=client.id,
        created_at=now,
        expires_at=now.replace(year=now.year + 1),
    )
    return client


async def check(client, imeis, msisdn=None, token=OPERATOR_TOKEN):  # type: ignore[no-untyped-def]
    """`checkImeis` as an operator sends it; the answers (the request must succeed)."""
    body = await gql(client, CHECK, {"imeis": imeis, "msisdn": msisdn}, token=token)
    assert "errors" not in body, body
    return body["data"]["checkImeis"]


def brief(answer: dict) -> tuple:
    return answer["verdict"], answer["status"], answer["reason"]
