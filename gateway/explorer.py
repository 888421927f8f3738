"""The GraphiQL explorer, self-hosted: the page at GET /graphql and every file it loads.

The regulator's network has no internet, so nothing comes from a CDN: the vendored files in
`static/explorer/vendor/` are copied unchanged from their npm packages (see its
`manifest.json` and licences), our own page script and style sit beside them. The page is
served with a Content-Security-Policy that allows only this origin (fonts and icons are
`data:` URIs inside GraphiQL's own stylesheet), and every script and stylesheet carries its
SRI hash, so a file changed on disk is refused by the browser, not run.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response

STATIC = Path(__file__).parent / "static" / "explorer"
VENDOR = STATIC / "vendor"
PREFIX = "/explorer/"

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # GraphiQL's stylesheet embeds its fonts and icons as data: URIs.
        "font-src 'self' data:",
        "img-src 'self' data:",
        # 'self' covers ws:// and wss:// to this host (subscriptions).
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@dataclass(frozen=True)
class Asset:
    name: str
    path: Path
    integrity: str
    immutable: bool  # vendored files carry their version in the name


def _sri(path: Path) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode()


@cache
def assets() -> dict[str, Asset]:
    """Every file the page may load, by the name it is served under (nothing else is)."""
    manifest = json.loads((VENDOR / "manifest.json").read_text(encoding="utf-8"))
    found: dict[str, Asset] = {}
    for entry in manifest["files"]:
        name = entry["file"]
        found[name] = Asset(name, VENDOR / name, entry["integrity"], immutable=True)
    for name in ("explorer.css", "explorer.js"):
        # Ours change with the code: hashed at start-up, revalidated by ETag.
        found[name] = Asset(name, STATIC / name, _sri(STATIC / name), immutable=False)
    return found


def _tag(asset: Asset) -> str:
    url = html.escape(PREFIX + asset.name)
    if asset.name.endswith(".css"):
        return f'<link rel="stylesheet" href="{url}" integrity="{asset.integrity}">'
    return f'<script src="{url}" integrity="{asset.integrity}"></script>'


@cache
def page_html() -> str:
    listed = list(assets().values())
    styles = "\n    ".join(_tag(a) for a in listed if a.name.endswith(".css"))
    scripts = "\n    ".join(_tag(a) for a in listed if a.name.endswith(".js"))
    template = (STATIC / "index.html").read_text(encoding="utf-8")
    return template.replace("{{styles}}", styles).replace("{{scripts}}", scripts)


def page_response() -> HTMLResponse:
    return HTMLResponse(page_html(), headers={**SECURITY_HEADERS, "Cache-Control": "no-store"})


async def explorer_asset(request: Request) -> Response:
    """GET /explorer/{name}: one of the page's files, from the list above only."""
    asset = assets().get(request.path_params["name"])
    if asset is None:
        return JSONResponse(
            {"errors": [{"message": "not found", "extensions": {"code": "NOT_FOUND"}}]},
            status_code=404,
        )
    cache_control = "public, max-age=31536000, immutable" if asset.immutable else "no-cache"
    return FileResponse(
        asset.path,
        media_type=MEDIA_TYPES[asset.path.suffix],
        headers={**SECURITY_HEADERS, "Cache-Control": cache_control},
    )
