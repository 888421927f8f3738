"""Download links: a short-lived URL for one file and one viewer, which a browser tab opens
without an `Authorization` header (GET /files/{id}?viewer=…&session=…&expires=…&sig=…).

The link is an HMAC (keyed from the secret key, apart from the token hashes' use of it) over
the file id, the viewer (person or client id), the session (token id) and the expiry. It is
issued only to whoever may read the file, and redeemed only while the session that asked for
it is still valid and still may read it: logout, a revoked token, a disabled account, an
address no longer allowed all end it, as they end the token itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from models import clock
from models.files import StoredFile
from resolvers.accounts.auth import actor_of_token_id
from resolvers.actor import Actor
from resolvers.errors import Bilingual, DomainError, ErrorCode
from resolvers.files import get_file, missing_file, visible
from resolvers.settings import get_settings

VIEWER_PREFIX = {"USER": "u", "CLIENT": "c"}


def _key() -> bytes:
    # Its own key: a link's MAC can never double as a token hash, or the other way round.
    secret = get_settings().secret_key.encode()
    return hmac.new(secret, b"mcks download link v1", hashlib.sha256).digest()


def _signature(file_id: int, viewer: str, session: int, expires: int) -> str:
    message = f"{file_id}\n{viewer}\n{session}\n{expires}".encode()
    digest = hmac.new(_key(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _viewer(actor: Actor) -> str | None:
    prefix = VIEWER_PREFIX.get(actor.kind)
    if prefix is None or actor.id is None or actor.token_id is None:
        return None
    return f"{prefix}{actor.id}"


def link_for(actor: Actor, stored: StoredFile) -> str | None:
    """The link (path and query) to a file row, or None when this actor may not read it."""
    viewer = _viewer(actor)
    if viewer is None or actor.token_id is None or not visible(stored, actor):
        return None
    minutes = get_settings().download_link_minutes
    expires = int((clock.now() + timedelta(minutes=minutes)).timestamp())
    query = urlencode(
        {
            "viewer": viewer,
            "session": actor.token_id,
            "expires": expires,
            "sig": _signature(stored.id, viewer, actor.token_id, expires),
        }
    )
    return f"/files/{stored.id}?{query}"


async def file_rows(ids: list[int]) -> list[StoredFile | None]:
    """File rows by id, in order (one query for a page of links: a DataLoader's batch)."""
    found = {row.id: row for row in await StoredFile.filter(id__in=set(ids))}
    return [found.get(file_id) for file_id in ids]


def is_link(params: Mapping[str, str]) -> bool:
    return "sig" in params


@dataclass(frozen=True)
class Redeemed:
    stored: StoredFile
    actor: Actor


def _invalid(tr: str, en: str) -> DomainError:
    return DomainError(ErrorCode.DOWNLOAD_LINK_INVALID, reason=Bilingual(tr, en))


async def redeem(file_id: int, params: Mapping[str, str], caller: Actor) -> Redeemed:
    """The file a link opens, for the viewer it was issued to; DOWNLOAD_LINK_INVALID (altered,
    another session's, the session ended), DOWNLOAD_LINK_EXPIRED, or NOT_FOUND. `caller` is
    who sends the request (anonymous from a plain tab; with a token, it must be the viewer)."""
    viewer = params.get("viewer", "")
    try:
        session = int(params.get("session", ""))
        expires = int(params.get("expires", ""))
    except ValueError:
        raise _invalid("bağlantı eksik ya da bozuk", "it is incomplete or damaged") from None
    expected = _signature(file_id, viewer, session, expires)
    if not hmac.compare_digest(expected, params.get("sig", "")):
        raise _invalid("bağlantı değiştirilmiş", "it has been altered")
    # Signed by us: past its time is "expired", whatever else may be true of it.
    if clock.now().timestamp() >= expires:
        raise DomainError(ErrorCode.DOWNLOAD_LINK_EXPIRED)
    try:
        actor = await actor_of_token_id(session, caller.ip, caller.request_id)
    except DomainError as error:
        if error.code == ErrorCode.IP_NOT_ALLOWED:
            raise
        raise _invalid(
            "bağlantıyı alan oturum kapanmış", "the session it was issued to has ended"
        ) from None
    if _viewer(actor) != viewer or (
        caller.is_authenticated and (caller.kind, caller.id) != (actor.kind, actor.id)
    ):
        raise _invalid("bağlantı başka bir oturumun", "it belongs to another session")
    if actor.must_change_password:
        raise DomainError(ErrorCode.PASSWORD_CHANGE_REQUIRED)
    try:
        stored = await get_file(actor, file_id)
    except DomainError:
        raise missing_file() from None
    return Redeemed(stored, actor)
