"""The explorer in a real browser, offline: Debian's headless Chromium (driven by Playwright,
which never downloads a browser here) against the gateway under uvicorn on loopback. Every
request the page makes must go to the gateway; anything else is refused and fails the test.

Settings are the test profile, which behaves like production: introspection is staff-only,
so the page must show the login panel first and load the schema after login.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, Route, async_playwright, expect

from models import clock
from models.roles import Role
from resolvers.settings import configure, get_settings
from tests.support.api import PASSWORD, gql, make_user
from tests.support.individuals import serve_gateway

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The flags known to run Chromium here as root, without its background connections.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # No name resolves but loopback: the page cannot reach any other host even by accident.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
WAIT_MS = 60_000  # generous: two cores shared with other work
SESSION_KEY = "mcks.explorer.session"


@pytest.fixture
async def live_app(db: str) -> AsyncIterator[str]:
    configure(replace(get_settings(), graphql_ide=True))
    from gateway.app import create_app

    async with serve_gateway(create_app(manage_db=False)) as client:
        yield str(client.base_url).rstrip("/")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not shutil.which(CHROMIUM):
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium (.ci/run does)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=FLAGS
        )
        try:
            yield launched
        finally:
            await launched.close()


class Watch:
    """What the page did that it must not: foreign requests, CSP violations, script errors."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.foreign: list[str] = []
        self.problems: list[str] = []

    async def route(self, route: Route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob") or f"{parts.scheme}://{parts.netloc}" == self.origin:
            await route.continue_()
        else:
            self.foreign.append(url)
            await route.abort()

    def console(self, message: Any) -> None:
        text = message.text
        # The browser logs an ended session's 401 answer, which the page expects; a CSP
        # refusal ("Refused to ...") or a script error is a fault.
        if message.type == "error" and "status of 401" not in text:
            self.problems.append(text)


async def open_page(browser: Browser, origin: str, locale: str = "tr-TR") -> tuple[Page, Watch]:
    context = await browser.new_context(locale=locale)
    watch = Watch(origin)
    await context.route("**/*", watch.route)
    page = await context.new_page()
    page.on("console", watch.console)
    page.on("pageerror", lambda error: watch.problems.append(str(error)))
    page.set_default_timeout(WAIT_MS)
    await page.goto(origin + "/graphql")
    return page, watch


async def sign_in(page: Page, username: str, password: str) -> None:
    await expect(page.locator("#mcks-login-form")).to_be_visible()
    await page.fill("#mcks-username", username)
    await page.fill("#mcks-password", password)
    async with page.expect_response(
        lambda r: r.request.method == "POST" and "IntrospectionQuery" in (r.request.post_data or "")
    ) as introspection:
        await page.click("#mcks-submit")
    # The schema loads by itself after login, and is the staff's.
    assert (await introspection.value).status == 200
    await expect(page.locator(".graphiql-query-editor .CodeMirror")).to_be_visible()


async def run_query(page: Page, query: str) -> None:
    editor = "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror"
    await page.evaluate(f"q => {editor}.setValue(q)", query)
    # GraphiQL parses the editor a moment after a change (debounced); a run before that
    # would pick the transport for the previous document.
    await page.wait_for_function(
        f"q => {{ const ast = {editor}.documentAST; return !!ast && ast.loc.source.body === q; }}",
        arg=query,
    )
    await page.click(".graphiql-execute-button")


def response_text(page: Page) -> Any:
    return page.locator(".graphiql-response .CodeMirror")


async def storage_and_url(page: Page) -> str:
    dump = await page.evaluate(
        """() => {
          const all = {};
          for (const store of [localStorage, sessionStorage])
            for (let i = 0; i < store.length; i++) all[store.key(i)] = store.getItem(store.key(i));
          return JSON.stringify({storage: all, url: location.href, title: document.title});
        }"""
    )
    return str(dump)


async def session_token(page: Page) -> str | None:
    raw = await page.evaluate(f"() => sessionStorage.getItem('{SESSION_KEY}')")
    return json.loads(raw)["token"] if raw else None


async def test_staff_sign_in_query_and_sign_out_offline(
    live_app: str, browser: Browser, client: Any
) -> None:
    await make_user("kurum.inceleme", Role.STAFF_REVIEWER)
    page, watch = await open_page(browser, live_app)

    # Before login: the panel, and no GraphiQL (so no wall of introspection errors).
    await expect(page.locator("#mcks-login-form h1")).to_have_text("MCKS GraphQL gezgini")
    await expect(page.locator("#graphiql")).to_be_hidden()

    await sign_in(page, "kurum.inceleme", PASSWORD)
    await expect(page.locator("#mcks-bar")).to_contain_text("Kurum.Inceleme")
    # A password typed into the editor anyway is neither sent nor saved.
    await run_query(
        page,
        f'mutation {{ login(username: "kurum.inceleme", password: "{PASSWORD}") {{ token }} }}',
    )
    await expect(response_text(page)).to_contain_text("Parolalar editöre yazılmaz")
    # The next document replaces it in the tab GraphiQL saves (after its debounce).
    await run_query(page, "{ viewer { kind role name } }")
    await expect(response_text(page)).to_contain_text("STAFF_REVIEWER", timeout=WAIT_MS)

    # The password is nowhere the browser keeps things; the token only in this tab's session.
    token = await session_token(page)
    assert token
    kept = await storage_and_url(page)
    assert PASSWORD not in kept
    local = await page.evaluate("() => JSON.stringify(Object.assign({}, localStorage))")
    assert token not in local
    assert urlsplit(page.url).query == ""
    assert await page.locator("#mcks-password").input_value() == ""

    # Sign out: the panel is back, the token forgotten here and revoked on the server.
    await page.click("#mcks-logout")
    await expect(page.locator("#mcks-message")).to_have_text("Oturum kapatıldı.")
    await expect(page.locator("#graphiql")).to_be_hidden()
    assert await session_token(page) is None
    # The page forgets the token first and revokes it in the background: wait for the revoke.
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        body = await gql(client, "{ viewer { kind } }", token=token, expect_status=None)
        if body.get("errors") or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.1)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    assert watch.foreign == []
    assert watch.problems == []


async def test_an_expired_token_brings_the_panel_back_in_english(
    live_app: str, browser: Browser
) -> None:
    await make_user("kurum.arsiv", Role.STAFF_ARCHIVE)
    page, watch = await open_page(browser, live_app, locale="en-GB")
    await expect(page.locator("#mcks-login-form h1")).to_have_text("MCKS GraphQL explorer")
    await sign_in(page, "kurum.arsiv", PASSWORD)

    clock.advance(timedelta(minutes=get_settings().token_ttl_minutes + 1))
    await run_query(page, "{ viewer { name } }")
    await expect(page.locator("#mcks-message")).to_have_text(
        "Your session has expired or was ended. Please sign in again."
    )
    await expect(page.locator("#graphiql")).to_be_hidden()
    assert await session_token(page) is None

    clock.reset()
    await sign_in(page, "kurum.arsiv", PASSWORD)
    assert watch.foreign == []
    assert watch.problems == []


async def test_a_wrong_password_is_refused_in_the_panel(live_app: str, browser: Browser) -> None:
    await make_user("kurum.yonetici", Role.STAFF_ADMIN)
    page, watch = await open_page(browser, live_app)
    await page.fill("#mcks-username", "kurum.yonetici")
    await page.fill("#mcks-password", "Yanlis.Parola.1")
    await page.click("#mcks-submit")
    await expect(page.locator("#mcks-message")).to_be_visible()
    await expect(page.locator("#graphiql")).to_be_hidden()
    assert "Yanlis.Parola.1" not in await storage_and_url(page)
    assert watch.foreign == []


async def test_subscriptions_send_the_token_in_connection_init(
    live_app: str, browser: Browser
) -> None:
    await make_user("kurum.inceleme", Role.STAFF_REVIEWER)
    page, _ = await open_page(browser, live_app)
    await sign_in(page, "kurum.inceleme", PASSWORD)
    token = await session_token(page)

    sockets: list[str] = []
    sent: list[dict[str, Any]] = []
    received: list[dict[str, Any]] = []

    def attach(socket: Any) -> None:
        # Listen from the socket's first moment: connection_init is its first frame.
        sockets.append(socket.url)
        socket.on("framesent", lambda frame: sent.append(json.loads(frame)))
        socket.on("framereceived", lambda frame: received.append(json.loads(frame)))

    page.on("websocket", attach)
    await run_query(page, "subscription Watch { viewer { name } }")
    await wait_until(lambda: any(m.get("type") == "connection_ack" for m in received))
    assert sockets == [live_app.replace("http://", "ws://") + "/graphql"]
    init = next(m for m in sent if m.get("type") == "connection_init")
    assert init["payload"] == {"Authorization": f"Bearer {token}"}


async def wait_until(condition: Any, seconds: float = WAIT_MS / 1000) -> None:
    """Poll a condition fed by browser events, up to a generous deadline."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "the condition never held"
        await asyncio.sleep(0.05)
