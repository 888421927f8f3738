"""Helpers for the after-registration scenarios: registered applications, whitelisted and
held IMEIs seeded directly (the firm workflow is not what these tests are about), the
operator's view of an IMEI, multipart requests with several files, PDFs read back."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from pypdf import PdfReader
from tortoise.transactions import in_transaction

from models import clock
from models.accounts import Firm
from models.applications import Application
from models.progress import HeldImei
from models.registry import WhitelistSource
from models.workflow import ApplicationKind, ApplicationStatus
from resolvers import registry_changes
from resolvers.documents import render_document, render_pdf_sync, shutdown_renderer
from tests.support.api import gql
from tests.support.operators import CHECK, OPERATOR_TOKEN, STAFF
from tests.support.operators import imei as _imei

# The demo TAC registry's iPhone (load_demo): IMEIs of this TAC pass the TAC checks.
TAC = "35407115"
BRAND, MODEL = "APPLE", "A2403"


def imei(serial: int, tac: str = TAC) -> str:
    return _imei(serial, tac)


async def registered_application(
    firm: Firm,
    kind: ApplicationKind = ApplicationKind.IMPORT,
    status: ApplicationStatus = ApplicationStatus.COMPLETED,
) -> Application:
    """An application past its payment (the workflow's outcome, seeded)."""
    now = clock.now()
    return await Application.create(
        firm_id=firm.id,
        kind=kind,
        status=status,
        created_by="seed",
        import_date=date(2026, 3, 2),
        customs_declaration_no="26340100IM000123",
        created_at=now,
        updated_at=now,
    )


async def register(
    application: Application, *imeis: str, brand: str = BRAND, model: str = MODEL
) -> None:
    """Put IMEIs on the whitelist as the application's payment does."""
    async with in_transaction():
        await registry_changes.add_to_whitelist(
            STAFF,
            [
                registry_changes.WhitelistAddition(
                    imei=value,
                    brand=brand,
                    model_code=model,
                    source=WhitelistSource.FIRM_APPLICATION,
                    firm_id=application.firm_id,
                    application_id=application.id,
                )
                for value in imeis
            ],
        )


async def hold(
    application: Application, *imeis: str, brand: str = BRAND, model: str = MODEL
) -> None:
    """Hold a mainboard/swap application's IMEIs as its payment does."""
    for value in imeis:
        await HeldImei.create(
            imei=value,
            application_id=application.id,
            firm_id=application.firm_id,
            brand=brand,
            model_code=model,
            kind=application.kind,
            held_at=clock.now(),
        )


async def operator_view(
    client: httpx.AsyncClient, *imeis: str, msisdn: str | None = None
) -> dict[str, tuple[str, str, str | None]]:
    """What the demo operator's `checkImeis` says: IMEI → (verdict, status, reason)."""
    body = await gql(client, CHECK, {"imeis": list(imeis), "msisdn": msisdn}, token=OPERATOR_TOKEN)
    assert "errors" not in body, body
    return {a["imei"]: (a["verdict"], a["status"], a["reason"]) for a in body["data"]["checkImeis"]}


async def multipart(
    client: httpx.AsyncClient,
    token: str,
    query: str,
    variables: dict[str, Any],
    files: dict[str, tuple[str, bytes]],
) -> dict[str, Any]:
    """A GraphQL multipart request with one upload per named variable."""
    names = list(files)
    operations = {"query": query, "variables": {**variables, **dict.fromkeys(names)}}
    parts: dict[str, Any] = {
        "operations": (None, json.dumps(operations)),
        "map": (None, json.dumps({str(i): [f"variables.{n}"] for i, n in enumerate(names)})),
    }
    for i, name in enumerate(names):
        filename, content = files[name]
        parts[str(i)] = (filename, content, "application/octet-stream")
    response = await client.post(
        "/graphql",
        files=parts,
        headers={"Authorization": f"Bearer {token}", "X-MCKS-Upload": "1"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module")
def pdf_workers() -> Iterator[None]:
    """Stop the PDF worker processes after the module (each module starts its own pool)."""
    yield
    shutdown_renderer()


def scanned_pdf(title: str) -> bytes:
    """A small PDF as a firm's scanner makes one (a petition, import documents)."""
    return render_pdf_sync(
        render_document(title, f"<p>{title}</p>", reference=None, issued_at=clock.now())
    )


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


async def download(client: httpx.AsyncClient, token: str, path: str) -> httpx.Response:
    return await client.get(path, headers={"Authorization": f"Bearer {token}"})
