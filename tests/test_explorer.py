"""The explorer page without a browser: only this origin in it, its headers, its files
exactly the vendored npm files (tests/test_explorer_browser.py runs it in Chromium)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from resolvers.settings import configure, get_settings

VENDOR = Path(__file__).parent.parent / "gateway" / "static" / "explorer" / "vendor"


@pytest.fixture
async def ide_client(db: str) -> Any:
    configure(replace(get_settings(), graphql_ide=True))
    from gateway.app import create_app

    transport = httpx.ASGITransport(app=create_app(manage_db=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_the_page_names_no_other_host_and_allows_only_self(ide_client: Any) -> None:
    page = await ide_client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "unpkg" not in page.text
    assert re.findall(r"(?:https?:)?//[\w.-]+", page.text) == []
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    # No inline script: everything the page runs is a file with its SRI hash.
    assert re.findall(r"<script>", page.text) == []
    sources = re.findall(r'<script src="([^"]+)" integrity="([^"]+)"', page.text)
    assert [s for s, _ in sources][-1] == "/explorer/explorer.js"
    for src, integrity in sources + re.findall(
        r'<link rel="stylesheet" href="([^"]+)" integrity="([^"]+)"', page.text
    ):
        asset = await ide_client.get(src)
        assert asset.status_code == 200, src
        digest = base64.b64encode(hashlib.sha384(asset.content).digest()).decode()
        assert integrity == f"sha384-{digest}", src
        assert asset.headers["x-content-type-options"] == "nosniff"


async def test_vendored_files_are_the_npm_files_named_in_the_manifest() -> None:
    manifest = json.loads((VENDOR / "manifest.json").read_text(encoding="utf-8"))
    names = {entry["package"] for entry in manifest["files"]}
    assert names == {"react", "react-dom", "graphiql", "@graphiql/plugin-explorer"}
    for entry in manifest["files"]:
        data = (VENDOR / entry["file"]).read_bytes()
        assert (
            entry["integrity"]
            == "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()
        ), entry["file"]
        assert (VENDOR / entry["license_file"]).is_file()
        assert entry["version"] in entry["file"]


async def test_only_listed_files_are_served_and_versioned_ones_are_cached(
    ide_client: Any,
) -> None:
    assert (await ide_client.get("/explorer/manifest.json")).status_code == 404
    assert (await ide_client.get("/explorer/..%2Fexplorer.py")).status_code == 404
    vendored = await ide_client.get("/explorer/graphiql-3.8.3.min.js")
    assert "immutable" in vendored.headers["cache-control"]
    assert vendored.headers["content-type"].startswith("text/javascript")
    ours = await ide_client.get("/explorer/explorer.js")
    assert ours.headers["cache-control"] == "no-cache" and ours.headers["etag"]
