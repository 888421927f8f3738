"""Stored documents: written atomically to disk under their SHA-256, read back by owners.

Content is addressed by hash (`ab/cd/abcd…`), so the same bytes are kept once; the
database row says who uploaded what, for which firm, under which name. Several rows may
share one blob, so bytes go only when no row and no upload in flight still wants them:

* An upload in flight holds a *claim*: a hard link to the blob under `claims/`, made
  before its row exists. A blob whose link count is 1 is claimed by nobody.
* A use case that stores uploads runs under `atomic_uploads`: when it fails (a refused
  device list, a rolled-back transaction) its claims are dropped and each blob it wrote is
  deleted unless a row or another claim uses it; when it succeeds the claims are dropped.
* Deleting is rename-then-check: the blob is moved aside, and put back if a claim or a
  row appeared meanwhile, so a concurrent upload of the same bytes never loses them.
* `resolvers.file_sweep` removes, after a grace period, what a crash left behind.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import ParamSpec, TypeVar

import aiofiles
import aiofiles.os

from models import clock
from models.files import FileKind, StoredFile
from resolvers.actor import Actor
from resolvers.errors import DomainError, invalid, not_found
from resolvers.settings import get_settings

CHUNK = 1 << 20
P = ParamSpec("P")
R = TypeVar("R")


def path_of(sha256: str) -> Path:
    return get_settings().storage_dir / sha256[:2] / sha256[2:4] / sha256


def tmp_dir() -> Path:
    return get_settings().storage_dir / "tmp"


def claims_dir() -> Path:
    return get_settings().storage_dir / "claims"


async def run_sync(function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """File-system work off the event loop."""
    return await aiofiles.os.wrap(function)(*args, **kwargs)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Blob:
    """Bytes on disk, claimed by one upload in flight until its outcome is known."""

    sha256: str
    size: int
    claim: Path  # a hard link to the blob: readable whatever happens to the blob's path


# The blobs written by the running `atomic_uploads` use case (None outside one).
_in_flight: ContextVar[list[Blob] | None] = ContextVar("mcks_uploads_in_flight", default=None)


async def _chunks_of(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]
    if not data:
        yield b""


def _place(tmp: Path, final: Path, claim: Path) -> None:
    """Make `final` hold the bytes of `tmp` and `claim` a link to it (tmp is consumed)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    while True:
        try:
            os.link(final, claim)  # already stored: claim that copy, drop ours
        except FileNotFoundError:
            pass
        else:
            os.unlink(tmp)
            return
        try:
            os.link(tmp, final)  # the first copy: ours
        except FileExistsError:
            continue  # placed by someone else a moment ago: claim theirs
        os.replace(tmp, claim)
        return


async def write_blob(
    content: bytes | AsyncIterator[bytes], *, max_bytes: int, field: str = "file"
) -> Blob:
    """Write content to disk (temp file, fsync, link into place) and claim it. Inside an
    `atomic_uploads` use case the claim ends with it; elsewhere the sweep ends it."""
    chunks = _chunks_of(content) if isinstance(content, bytes) else content
    await aiofiles.os.makedirs(tmp_dir(), exist_ok=True)
    await aiofiles.os.makedirs(claims_dir(), exist_ok=True)
    tmp_path = tmp_dir() / uuid.uuid4().hex
    digest = hashlib.sha256()
    size = 0
    try:
        async with aiofiles.open(tmp_path, "wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise invalid(
                        field,
                        f"dosya {max_bytes // 1024} KB sınırını aşıyor",
                        f"the file exceeds the {max_bytes // 1024} KB limit",
                    )
                digest.update(chunk)
                await out.write(chunk)
            await out.flush()
            await aiofiles.os.wrap(os.fsync)(out.fileno())
        sha256 = digest.hexdigest()
        # The claim's name carries its age: its inode's times are the blob's.
        claim = claims_dir() / f"{int(time.time())}-{uuid.uuid4().hex}"
        await aiofiles.os.wrap(_place)(tmp_path, path_of(sha256), claim)
    finally:
        if await aiofiles.os.path.exists(tmp_path):
            await aiofiles.os.remove(tmp_path)
    blob = Blob(sha256, size, claim)
    in_flight = _in_flight.get()
    if in_flight is not None:
        in_flight.append(blob)
    return blob


async def record(
    actor: Actor,
    blob: Blob,
    *,
    kind: FileKind,
    original_name: str,
    content_type: str,
    firm_id: int | None,
) -> StoredFile:
    """The row of a written blob (inside the operation's transaction)."""
    return await StoredFile.create(
        sha256=blob.sha256,
        size=blob.size,
        content_type=content_type[:127],
        original_name=(original_name or "file")[:255],
        kind=kind,
        firm_id=firm_id,
        uploaded_by=actor.name,
        created_at=clock.now(),
    )


async def store(
    actor: Actor,
    content: bytes | AsyncIterator[bytes],
    *,
    kind: FileKind,
    original_name: str,
    content_type: str,
    firm_id: int | None,
    max_bytes: int,
    field: str = "file",
) -> StoredFile:
    """Write and record a file. Call inside the operation's transaction, and in a use case
    under `atomic_uploads`, so a failure leaves neither the row nor the bytes."""
    blob = await write_blob(content, max_bytes=max_bytes, field=field)
    return await record(
        actor,
        blob,
        kind=kind,
        original_name=original_name,
        content_type=content_type,
        firm_id=firm_id,
    )


@contextlib.asynccontextmanager
async def uploads() -> AsyncIterator[None]:
    """Run a use case whose stored files stay only if it succeeds (see the module doc).
    Open it outside the use case's transaction: it acts after the commit or rollback."""
    if _in_flight.get() is not None:  # nested: the outermost one decides
        yield
        return
    blobs: list[Blob] = []
    token = _in_flight.set(blobs)
    try:
        yield
    except BaseException:
        for blob in blobs:
            await _unclaim(blob)
        for sha256 in dict.fromkeys(b.sha256 for b in blobs):
            await discard_if_unused(sha256)
        raise
    else:
        for blob in blobs:
            await aiofiles.os.wrap(_keep)(blob)
    finally:
        _in_flight.reset(token)


def atomic_uploads(function: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Decorate a use case that stores uploads: `async with uploads()` around all of it."""

    @functools.wraps(function)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        async with uploads():
            return await function(*args, **kwargs)

    return wrapper


def _keep(blob: Blob) -> None:
    # A deleter that saw no claim and no row could have moved the blob aside just before
    # our row committed: put it back from our claim, then let the claim go.
    with contextlib.suppress(FileExistsError):
        os.link(blob.claim, path_of(blob.sha256))
    with contextlib.suppress(FileNotFoundError):
        os.unlink(blob.claim)


async def _unclaim(blob: Blob) -> None:
    with contextlib.suppress(FileNotFoundError):
        await aiofiles.os.remove(blob.claim)


def _set_aside(sha256: str, older_than: float | None) -> Path | None:
    """Move an unclaimed blob aside (atomically); None when it is claimed, young or gone."""
    final = path_of(sha256)
    try:
        stat = os.stat(final)
    except FileNotFoundError:
        return None
    if stat.st_nlink > 1:
        return None
    if older_than is not None and max(stat.st_mtime, stat.st_ctime) > older_than:
        return None
    tmp_dir().mkdir(parents=True, exist_ok=True)
    aside = tmp_dir() / f"{sha256}.{uuid.uuid4().hex}.deleting"  # the sweep can put it back
    try:
        os.rename(final, aside)
    except FileNotFoundError:
        return None
    return aside


def put_back(aside: Path, sha256: str) -> None:
    with contextlib.suppress(FileExistsError):  # someone stored the same bytes again
        os.link(aside, path_of(sha256))
    os.unlink(aside)


async def discard_if_unused(sha256: str, older_than: float | None = None) -> bool:
    """Delete a blob no row and no upload in flight uses (and, with `older_than`, untouched
    since that epoch time); True when deleted. Safe against a concurrent upload of it."""
    if await StoredFile.filter(sha256=sha256).exists():
        return False
    aside = await aiofiles.os.wrap(_set_aside)(sha256, older_than)
    if aside is None:
        return False
    # Claimed between the check and the move, or its row committed meanwhile: keep it.
    claimed = (await aiofiles.os.stat(aside)).st_nlink > 1
    if claimed or await StoredFile.filter(sha256=sha256).exists():
        await aiofiles.os.wrap(put_back)(aside, sha256)
        return False
    await aiofiles.os.remove(aside)
    return True


async def read_bytes(stored: StoredFile) -> bytes:
    async with aiofiles.open(path_of(stored.sha256), "rb") as source:
        return await source.read()


async def iter_bytes(stored: StoredFile) -> AsyncIterator[bytes]:
    async with aiofiles.open(path_of(stored.sha256), "rb") as source:
        while chunk := await source.read(CHUNK):
            yield chunk


def visible(stored: StoredFile, actor: Actor) -> bool:
    """Staff see every file; a firm's users their firm's; machine clients none."""
    if actor.is_staff:
        return True
    return actor.is_firm and stored.firm_id is not None and stored.firm_id == actor.firm_id


async def get_file(actor: Actor, file_id: int) -> StoredFile:
    stored = await StoredFile.get_or_none(id=file_id)
    if stored is None or not visible(stored, actor):
        raise missing_file()
    return stored


def missing_file() -> DomainError:
    return not_found("Dosya", "File", field="fileId")


def sniff_kind(head: bytes) -> str | None:
    """What the first bytes say the file is (never trust the name)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"PK\x03\x04"):
        return "application/zip"
    return None
