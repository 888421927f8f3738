"""Download links (`url` beside each `fileId`): a browser tab opens them without a header,
for the session they were issued to, for a few minutes. Expired, altered and foreign links
are refused with a code; a link is issued only to whoever may read the file."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

from models import clock
from models.roles import Role
from resolvers.settings import get_settings, updated
from tests.support.api import gql, login, make_user, make_world
from tests.support.workflow import jpeg

CERTIFICATES = "query($firm: Int) { ceCertificates(firmId: $firm) { items { fileId url } } }"
NAME = "ÇE belgesi Şahin.jpg"


@pytest.fixture
def storage(db: str, tmp_path: Path) -> Path:
    root = tmp_path / "files"
    updated(storage_dir=root)
    return root


async def certificate_url(client: httpx.AsyncClient, token: str, firm: int | None = None) -> str:
    body = await gql(client, CERTIFICATES, {"firm": firm}, token=token)
    items = body["data"]["ceCertificates"]["items"]
    assert len(items) == 1, body
    url: str = items[0]["url"]
    return url


def path_of(url: str) -> str:
    """What a tab asks the server for: the link without scheme and host."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def changed(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(params)
    return f"{parts.path}?{urlencode(query)}"


def refusal(response: httpx.Response) -> str:
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


@pytest.fixture
async def world(storage: Path, client: httpx.AsyncClient) -> dict[str, Any]:
    world = await make_world()
    token = await login(client, "a.user")
    content = jpeg(4096)
    assert (await upload_ce_named(client, token, content))["errors"] == []
    return {"world": world, "token": token, "content": content}


async def upload_ce_named(client: httpx.AsyncClient, token: str, content: bytes) -> Any:
    from tests.support.uploads import upload
    from tests.support.workflow import UPLOAD_CE

    body = await upload(
        client,
        token,
        0,
        content,
        NAME,
        query=UPLOAD_CE,
        variables={"brand": "APPLE", "model": "A2403"},
    )
    return body["data"]["uploadCeCertificate"]


async def test_a_tab_opens_the_link_without_a_header(client, world) -> None:
    url = await certificate_url(client, world["token"])
    assert url.startswith("http://testserver/files/")
    response = await client.get(path_of(url))  # no Authorization header
    assert response.status_code == 200, response.text
    assert response.content == world["content"]
    assert response.headers["content-type"].startswith("image/jpeg")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%C3%87E%20belgesi%20%C5%9Eahin.jpg" in disposition
    assert response.headers["etag"]
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["cache-control"] == "private, no-store"

    # Ranges: a viewer may resume or page through a large PDF.
    part = await client.get(path_of(url), headers={"Range": "bytes=0-9"})
    assert part.status_code == 206
    assert part.content == world["content"][:10]


async def test_the_header_download_serves_the_same_bytes_with_ranges(client, world) -> None:
    body = await gql(client, CERTIFICATES, {"firm": None}, token=world["token"])
    file_id = body["data"]["ceCertificates"]["items"][0]["fileId"]
    headers = {"Authorization": f"Bearer {world['token']}"}
    response = await client.get(f"/files/{file_id}", headers=headers)
    assert response.status_code == 200 and response.content == world["content"]
    part = await client.get(f"/files/{file_id}", headers={**headers, "Range": "bytes=4-7"})
    assert part.status_code == 206 and part.content == world["content"][4:8]


async def test_a_link_expires_after_the_configured_minutes(client, world) -> None:
    minutes = get_settings().download_link_minutes
    assert minutes == 10  # the default
    clock.freeze(clock.now())
    url = await certificate_url(client, world["token"])
    clock.advance(timedelta(minutes=minutes) - timedelta(seconds=1))
    assert (await client.get(path_of(url))).status_code == 200
    clock.advance(timedelta(seconds=1))
    expired = await client.get(path_of(url), headers={"Accept-Language": "en"})
    assert expired.status_code == 410
    assert refusal(expired) == "DOWNLOAD_LINK_EXPIRED"
    assert "expired" in expired.json()["errors"][0]["message"]

    # A fresh link works again: expiry is per link, the session is still valid.
    assert (await client.get(path_of(await certificate_url(client, world["token"])))).is_success


async def test_the_lifetime_is_a_setting(client, world) -> None:
    updated(download_link_minutes=2)
    clock.freeze(clock.now())
    url = await certificate_url(client, world["token"])
    clock.advance(timedelta(minutes=2))
    assert (await client.get(path_of(url))).status_code == 410


@pytest.mark.parametrize(
    "change",
    [
        {"sig": "A" * 43},
        {"expires": "9999999999"},
        {"session": "999"},
        {"viewer": "u999"},
        {"expires": "soon"},
    ],
)
async def test_an_altered_link_is_refused(client, world, change: dict[str, str]) -> None:
    url = await certificate_url(client, world["token"])
    response = await client.get(changed(url, **change), headers={"Accept-Language": "tr"})
    assert response.status_code == 403, response.text
    assert refusal(response) == "DOWNLOAD_LINK_INVALID"
    assert "bağlantı" in response.json()["errors"][0]["message"]


async def test_a_link_opens_only_its_own_file(client, world) -> None:
    url = await certificate_url(client, world["token"])
    parts = urlsplit(url)
    file_id = int(parts.path.rsplit("/", 1)[1])
    other = await client.get(f"/files/{file_id + 1}?{parts.query}")
    assert other.status_code == 403 and refusal(other) == "DOWNLOAD_LINK_INVALID"


async def test_logout_ends_the_links_of_the_session(client, world) -> None:
    url = await certificate_url(client, world["token"])
    body = await gql(client, "mutation { logout { ok } }", token=world["token"])
    assert body["data"]["logout"]["ok"] is True
    response = await client.get(path_of(url))
    assert response.status_code == 403 and refusal(response) == "DOWNLOAD_LINK_INVALID"


async def test_a_disabled_user_cannot_open_links_issued_before(client, world) -> None:
    url = await certificate_url(client, world["token"])
    admin = await login(client, "staff.admin")
    user_id = world["world"].users["a_user"].id
    body = await gql(
        client,
        "mutation($id: Int!) { setUserActive(userId: $id, active: false) { errors { code } } }",
        {"id": user_id},
        token=admin,
    )
    assert body["data"]["setUserActive"]["errors"] == []
    response = await client.get(path_of(url))
    assert response.status_code == 403 and refusal(response) == "DOWNLOAD_LINK_INVALID"


async def test_links_are_issued_only_to_readers_and_are_not_shared(client, world) -> None:
    firm_a = world["world"].firm_a.id
    # Staff read every file: their link is their own, bound to their session.
    reviewer = await login(client, "staff.reviewer")
    staff_url = await certificate_url(client, reviewer, firm=firm_a)
    firm_url = await certificate_url(client, world["token"])
    assert (
        dict(parse_qsl(urlsplit(staff_url).query))["session"]
        != (dict(parse_qsl(urlsplit(firm_url).query))["session"])
    )
    assert (await client.get(path_of(staff_url))).status_code == 200

    # Another firm sees none of firm A's certificates, so gets no link to them.
    other = await login(client, "b.user")
    body = await gql(client, CERTIFICATES, {"firm": None}, token=other)
    assert body["data"]["ceCertificates"]["items"] == []

    # Sent with another person's token, a link is refused: it is not theirs.
    response = await client.get(path_of(firm_url), headers={"Authorization": f"Bearer {other}"})
    assert response.status_code == 403 and refusal(response) == "DOWNLOAD_LINK_INVALID"
    # Its owner may send their token along.
    own = await client.get(path_of(firm_url), headers={"Authorization": f"Bearer {world['token']}"})
    assert own.status_code == 200


async def test_without_a_link_or_a_token_nothing_is_served(client, world) -> None:
    body = await gql(client, CERTIFICATES, {"firm": None}, token=world["token"])
    file_id = body["data"]["ceCertificates"]["items"][0]["fileId"]
    bare = await client.get(f"/files/{file_id}")
    assert bare.status_code == 401 and refusal(bare) == "UNAUTHENTICATED"


async def test_a_staff_member_who_must_change_the_password_gets_no_file(client, world) -> None:
    await make_user("staff.new", Role.STAFF_REVIEWER, must_change_password=True)
    token = await login(client, "staff.new")
    body = await gql(
        client, CERTIFICATES, {"firm": world["world"].firm_a.id}, token=token, expect_status=None
    )
    assert "PASSWORD_CHANGE_REQUIRED" in str(body)


def test_every_file_id_in_the_schema_has_its_link_beside_it() -> None:
    import re

    sdl = (Path(__file__).parent.parent / "schema.graphql").read_text(encoding="utf-8")
    for body in re.findall(r"\ntype \w+ \{(.*?)\n\}", sdl, flags=re.S):
        fields = set(re.findall(r"^  (\w+)[(:]", body, flags=re.M))
        for field in fields:
            if field == "fileId":
                assert "url" in fields, body
            elif field.endswith("FileId"):
                assert field.removesuffix("FileId") + "Url" in fields, field
