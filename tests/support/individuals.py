"""Helpers for the individual-registration tests: the gateway and the authority simulator
served over real HTTP on loopback, machine clients, submissions, a seeded TAC registry."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Generator
from datetime import date
from typing import Any

import httpx
import uvicorn

from integrations.authorities.simulator import serve_simulator
from models import clock
from models.accounts import AccessToken, MachineClient
from models.imei import luhn_check_digit
from models.roles import ClientKind
from models.tac import TacModel
from resolvers.accounts.credentials import hash_token
from resolvers.settings import updated
from tests.support.api import gql

OPERATOR_TOKEN = "mcks_demo_operator_token"  # DEMOGSM, from gateway.demo
EDEVLET_TOKEN = "mcks_demo_edevlet_token"
OTHER_OPERATOR_TOKEN = "mcks_test_other_operator_token"
AUTHORITY_KEY = "test-authority-key"

APPLE_TAC = "35693803"  # APPLE A2403, two SIM slots: a device of two IMEIs
# The same model's single-SIM variant: a device of one IMEI (the default in these tests).
ONE_SIM_TAC = "35693811"
SAMSUNG_TAC = "49015420"  # SAMSUNG SM-G9359
UNKNOWN_TAC = "35000099"


def imei(serial: int, tac: str = ONE_SIM_TAC) -> str:
    first14 = f"{tac}{serial:06d}"
    return first14 + luhn_check_digit(first14)


def national_id(serial: int) -> str:
    """A valid T.C. kimlik numarası built from a serial (the two check digits computed)."""
    digits = [int(ch) for ch in f"1{serial:08d}"]
    tenth = ((sum(digits[0:9:2]) * 7) - sum(digits[1:8:2])) % 10
    eleventh = (sum(digits) + tenth) % 10
    return "".join(map(str, digits)) + f"{tenth}{eleventh}"


async def seed_tacs() -> None:
    now = clock.now()
    for tac, brand, model, count in (
        (APPLE_TAC, "APPLE", "A2403", 2),
        (ONE_SIM_TAC, "APPLE", "A2403", 1),
        (SAMSUNG_TAC, "SAMSUNG", "SM-G9359", 1),
    ):
        await TacModel.create(
            tac=tac,
            brand=brand,
            model_code=model,
            imei_count=count,
            created_at=now,
            updated_at=now,
        )


async def make_machine_client(
    name: str, kind: ClientKind, token: str, operator_code: str | None = None
) -> MachineClient:
    now = clock.now()
    client = await MachineClient.create(
        name=name, kind=kind, operator_code=operator_code, created_at=now
    )
    await AccessToken.create(
        token_hash=hash_token(token),
        client_id=client.id,
        created_at=now,
        expires_at=now.replace(year=now.year + 1),
    )
    return client


# --- real HTTP on loopback -----------------------------------------------------------------


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the test process keeps its own signal handling


@contextlib.asynccontextmanager
async def serve_gateway(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway app under uvicorn on 127.0.0.1 (a free port), with a client for it."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="off", access_log=False, log_level="warning"
    )
    server = _EmbeddedServer(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                await task
                raise RuntimeError("the gateway did not start")
            await asyncio.sleep(0.005)
        port = server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield client
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def authorities_on_loopback(
    slow_delay_seconds: float | None = None,
) -> AsyncIterator[str]:
    """The authority simulator on loopback, and the settings pointing all three adapters at
    it. SIM-SLOW is held until the simulator stops, so it times out for certain, and the
    client's deadline is generous for the answers that do come (a loaded CI machine)."""
    async with serve_simulator(
        api_key=AUTHORITY_KEY, slow_delay_seconds=slow_delay_seconds
    ) as base_url:
        point_authorities_at(base_url)
        yield base_url


# Generous for the answers that come (a loaded CI machine); SIM-SLOW is held regardless.
AUTHORITY_TIMEOUT = 10.0


def point_authorities_at(base_url: str, api_key: str = AUTHORITY_KEY) -> None:
    updated(
        authority_customs_url=base_url,
        authority_customs_api_key=api_key,
        authority_border_records_url=base_url,
        authority_border_records_api_key=api_key,
        authority_population_registry_url=base_url,
        authority_population_registry_api_key=api_key,
        authority_timeout_seconds=AUTHORITY_TIMEOUT,
    )


# --- GraphQL -------------------------------------------------------------------------------

REGISTRATION_FIELDS = """
  id reference clientReference channel operatorCode status statusLabel statusReason
  applicant { identityKind nationalIdNumber passportNumber nationality fullName birthDate }
  brand model entryDate customsDeclarationNo purchaseCountry purchaseDate
  edevletVerificationReference edevletVerifiedAt
  imeis { imei passed reasons { code label } whitelistStatus removalReason removedAt
    registryBrand registryModel }
  verifications { authority status verified reasonCode reason authorityNote answeredAt }
  verifiedAt rejectedAt rejectedBy rejectionCode rejectionReason
"""

SUBMIT_AKM = (
    "mutation($input: AkmRegistrationInput!) { submitAkmRegistration(input: $input) {"
    " replayed errors { code message field } registration {" + REGISTRATION_FIELDS + "} } }"
)
SUBMIT_EDEVLET = (
    "mutation($input: EdevletDeclarationInput!) { submitEdevletDeclaration(input: $input) {"
    " replayed errors { code message field } registration {" + REGISTRATION_FIELDS + "} } }"
)
BY_ID = "query($id: Int!) { individualRegistration(id: $id) {" + REGISTRATION_FIELDS + "} }"
BY_REFERENCE = (
    "query($ref: String!) { individualRegistration(clientReference: $ref) {"
    + REGISTRATION_FIELDS
    + "} }"
)
CHECK = "query($imeis: [String!]!) { checkImeis(imeis: $imeis) { imei verdict status reason } }"
FEED = (
    "query($after: String) { whitelistChanges(after: $after, first: 1000) {"
    " items { op imei status source reason } pageInfo { endCursor } } }"
)


def declaration(
    reference: str,
    imeis: list[str],
    *,
    name: str = "Ayşe Yılmaz",
    national: str | None = None,
    passport: tuple[str, str] | None = None,
    entry: date = date(2026, 2, 10),
    customs: str | None = None,
    brand: str = "Apple",
    model: str = "iPhone 12",
    verification: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A submission's GraphQL input (a citizen with a national id unless `passport`)."""
    applicant: dict[str, Any] = {"fullName": name, "birthDate": "1990-04-01"}
    if passport is not None:
        applicant["passportNumber"], applicant["nationality"] = passport
    else:
        applicant["nationalIdNumber"] = national or national_id(1)
    data: dict[str, Any] = {
        "clientReference": reference,
        "applicant": applicant,
        "device": {"imeis": imeis, "brand": brand, "model": model},
        "entryDate": entry.isoformat(),
        "customsDeclarationNo": customs,
        "purchaseCountry": "DE",
    }
    if verification is not None:
        data["verification"] = verification
    return data


async def submit_akm(
    client: httpx.AsyncClient, data: dict[str, Any], token: str = OPERATOR_TOKEN
) -> dict[str, Any]:
    body = await gql(client, SUBMIT_AKM, {"input": data}, token=token)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["submitAkmRegistration"]
    return payload


async def submit_edevlet(
    client: httpx.AsyncClient, data: dict[str, Any], token: str = EDEVLET_TOKEN
) -> dict[str, Any]:
    body = await gql(client, SUBMIT_EDEVLET, {"input": data}, token=token)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["submitEdevletDeclaration"]
    return payload


async def check_imeis(
    client: httpx.AsyncClient, imeis: list[str], token: str = OPERATOR_TOKEN
) -> dict[str, dict[str, Any]]:
    body = await gql(client, CHECK, {"imeis": imeis}, token=token)
    assert "errors" not in body, body
    return {answer["imei"]: answer for answer in body["data"]["checkImeis"]}


async def feed(client: httpx.AsyncClient, token: str = OPERATOR_TOKEN) -> list[dict[str, Any]]:
    body = await gql(client, FEED, {"after": None}, token=token)
    assert "errors" not in body, body
    items: list[dict[str, Any]] = body["data"]["whitelistChanges"]["items"]
    return items
