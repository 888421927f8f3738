"""Building device-list files and uploading them through GraphQL multipart requests."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any

import httpx
from openpyxl import Workbook

from models.imei import luhn_check_digit


def imei(prefix14: str) -> str:
    """A valid IMEI from its first 14 digits."""
    assert len(prefix14) == 14
    return prefix14 + luhn_check_digit(prefix14)


def xlsx(
    rows: Sequence[Sequence[Any]],
    header: Sequence[str] = ("MARKA", "MODEL", "IMEI1", "IMEI2", "IMEI3", "IMEI4"),
) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


UPLOAD = """mutation($id: Int!, $file: Upload!) {
  uploadDeviceList(applicationId: $id, file: $file) {
    deviceCount imeiCount warnings { row column message }
    application { id deviceCount imeiCount }
    errors { code field message }
  }
}"""


async def upload(
    client: httpx.AsyncClient,
    token: str,
    application_id: int,
    content: bytes,
    filename: str = "liste.xlsx",
    query: str = UPLOAD,
    variables: dict[str, Any] | None = None,
    file_variable: str = "file",
) -> dict[str, Any]:
    operations = {
        "query": query,
        "variables": {**(variables or {"id": application_id}), file_variable: None},
    }
    response = await client.post(
        "/graphql",
        files={
            "operations": (None, json.dumps(operations)),
            "map": (None, json.dumps({"0": [f"variables.{file_variable}"]})),
            "0": (filename, content, "application/octet-stream"),
        },
        headers={"Authorization": f"Bearer {token}", "X-MCKS-Upload": "1"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
