"""Stored documents: written atomically to disk under their SHA-256, read back by owners.

Content is addressed by hash (`ab/cd/abcd…`), so the same bytes are kept once; the
database row says who uploaded what, for which firm, under which name.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiofiles
import aiofiles.os

from models import clock
from models.files import FileKind, StoredFile
from resolvers.actor import Actor
from resolvers.errors import DomainError, invalid, not_found
from resolvers.settings import get_settings

CHUNK = 1 << 20


def path_of(sha256: str) -> Path:
    return get_settings().storage_dir / sha256[:2] / sha256[2:4] / sha256


async def _chunks_of(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]
    if not data:
        yield b""


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
    """Write content to disk (temp file, fsync, rename) and record it. Call inside the
    operation's transaction: a rolled-back row leaves at worst an unreferenced blob."""
    chunks = _chunks_of(content) if isinstance(content, bytes) else content
    root = get_settings().storage_dir
    tmp_dir = root / "tmp"
    await aiofiles.os.makedirs(tmp_dir, exist_ok=True)
    tmp_path = tmp_dir / uuid.uuid4().hex
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
        final = path_of(digest.hexdigest())
        await aiofiles.os.makedirs(final.parent, exist_ok=True)
        await aiofiles.os.replace(tmp_path, final)
    finally:
        if await aiofiles.os.path.exists(tmp_path):
            await aiofiles.os.remove(tmp_path)
    return await StoredFile.create(
        sha256=digest.hexdigest(),
        size=size,
        content_type=content_type[:127],
        original_name=(original_name or "file")[:255],
        kind=kind,
        firm_id=firm_id,
        uploaded_by=actor.name,
        created_at=clock.now(),
    )


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
