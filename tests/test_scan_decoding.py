"""Invoice and CE scans are JPEGs that decode (guide §3), judged by Pillow decoding the
image, not by their first bytes (PDFs stay allowed where they were: the capacity report,
tests/test_workflow_kinds.py)."""

from __future__ import annotations

import json

import pytest

from tests.support.api import login, make_world
from tests.support.workflow import UPLOAD_CE, jpeg, upload_ce, upload_document
from tests.test_application_analysis import create_draft


def with_size(data: bytes, width: int, height: int) -> bytes:
    """The same JPEG whose frame header claims another size (a decompression bomb)."""
    at = data.index(b"\xff\xc0") + 5  # marker, length (2), precision (1): height, width
    return data[:at] + height.to_bytes(2, "big") + width.to_bytes(2, "big") + data[at + 4 :]


@pytest.fixture
async def user(client) -> str:
    await make_world()
    return await login(client, "a.user")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 600, id="jpeg-magic-only"),
        pytest.param(jpeg()[:900], id="cut-short"),
        pytest.param(jpeg()[:40] + b"\x00" * 2008, id="scrambled"),
    ],
)
async def test_a_file_that_only_starts_like_a_jpeg_is_refused(client, user, content):
    refused = await upload_ce(client, user, "APPLE", "A2403", content)
    [error] = refused["errors"]
    assert (error["code"], error["field"]) == ("INVALID_INPUT", "file")
    assert "JPEG olarak açılamadı" in error["message"]
    application_id = await create_draft(client, user)
    invoice = await upload_document(client, user, application_id, "INVOICE", content, "f.jpg")
    assert "JPEG olarak açılamadı" in invoice["errors"][0]["message"]


async def test_a_small_file_claiming_a_huge_image_is_refused_before_decoding(client, user):
    bomb = with_size(jpeg(), 12000, 9000)
    [error] = (await upload_ce(client, user, "APPLE", "A2403", bomb))["errors"]
    assert "12000×9000 piksel" in error["message"]


async def test_real_scans_pass_and_a_refusal_reads_in_english_too(client, user):
    assert (await upload_ce(client, user, "APPLE", "A2403", jpeg(250 * 1024)))["errors"] == []
    application_id = await create_draft(client, user)
    invoice = await upload_document(client, user, application_id, "INVOICE", jpeg(), "f.jpg")
    assert invoice["errors"] == []
    operations = {"query": UPLOAD_CE, "variables": {"brand": "X", "model": "Y", "file": None}}
    english = await client.post(
        "/graphql",
        files={
            "operations": (None, json.dumps(operations)),
            "map": (None, json.dumps({"0": ["variables.file"]})),
            "0": ("ce.jpg", jpeg()[:500], "image/jpeg"),
        },
        headers={"Authorization": f"Bearer {user}", "X-MCKS-Upload": "1", "Accept-Language": "en"},
    )
    [error] = english.json()["data"]["uploadCeCertificate"]["errors"]
    assert "cannot be opened as a JPEG" in error["message"]


async def test_a_bomb_beyond_pillows_own_limit_is_refused_as_too_large(client, user):
    bomb = with_size(jpeg(), 65000, 65000)
    [error] = (await upload_ce(client, user, "APPLE", "A2403", bomb))["errors"]
    assert "görüntü çok büyük" in error["message"]
