"""The daily sweep of stored files: what a crash or an older release left behind goes.

Uploads clean up after themselves (`resolvers.files`); this job catches the rest, each only
once it is older than `file_sweep_grace_hours`, so nothing in flight is touched:

* temporary files of interrupted writes and stale upload claims;
* blobs on disk that no file row uses (a rolled-back generated PDF, a process killed
  between writing and committing);
* file rows nothing points to and no audit event mentions: the leftovers of refused device
  lists from before uploads were atomic. A row some table refers to (any `…file_id` column
  of any model, found by introspection so a new one is covered) or that the audit trail
  names (a replaced device list or CE scan is history) is kept. Deletions are audited.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from tortoise import Tortoise
from tortoise.transactions import in_transaction

from models import clock
from models.audit import AuditEvent
from models.files import StoredFile
from models.jobs import Job
from resolvers import audit, bulk, files, jobs
from resolvers.actor import Actor
from resolvers.settings import get_settings

JOB_KIND = "files.sweep"
DAY_SECONDS = 24 * 3600
SWEEPER = Actor.system("file-sweep")
ROW_BATCH = 500
AUDIT_SCAN_BATCH = 5000
_SHA = re.compile(r"[0-9a-f]{64}")
_HEX2 = re.compile(r"[0-9a-f]{2}")


@dataclass(frozen=True)
class SweepResult:
    blobs: int = 0  # unreferenced blobs deleted from disk
    rows: int = 0  # unreferenced file rows deleted
    leftovers: int = 0  # temporary files and expired claims removed


@jobs.handler(JOB_KIND)
async def sweep_job(job: Job) -> None:
    await sweep()


async def schedule_periodic() -> None:
    """Queue one sweep a day, unless sweeping is off (grace 0)."""
    if get_settings().file_sweep_grace_hours > 0:
        await jobs.enqueue_once_per_slot(JOB_KIND, DAY_SECONDS)


async def sweep() -> SweepResult:
    hours = get_settings().file_sweep_grace_hours
    if hours <= 0:
        return SweepResult()
    cutoff = clock.now() - timedelta(hours=hours)
    leftovers = await files.run_sync(_remove_leftovers, cutoff.timestamp())
    rows, row_shas = await _sweep_rows(cutoff)
    blobs = 0
    for sha256 in row_shas:  # the swept rows' bytes, unless another row shares them
        blobs += await files.discard_if_unused(sha256)
    blobs += await _sweep_blobs(cutoff.timestamp())
    if blobs or leftovers:
        await audit.record(
            SWEEPER,
            "files.swept",
            "StoredFile",
            f"unused before {cutoff.isoformat()}",
            {"blobs": blobs, "leftovers": leftovers, "graceHours": hours},
        )
    return SweepResult(blobs=blobs, rows=rows, leftovers=leftovers)


# --- disk ----------------------------------------------------------------------------------


def _remove_leftovers(cutoff: float) -> int:
    removed = 0
    for entry in _entries(files.tmp_dir()):
        if entry.name.endswith(".deleting"):
            # A deletion cut short between moving a blob aside and deciding: put it back
            # and let the blob sweep decide again.
            with contextlib.suppress(FileNotFoundError):
                files.put_back(Path(entry.path), entry.name.split(".", 1)[0])
            continue
        if entry.stat().st_mtime < cutoff:
            removed += _unlink(entry.path)
    for entry in _entries(files.claims_dir()):
        # Claims are named `<epoch seconds>-<uuid>`; their inode times are the blob's.
        created = entry.name.split("-", 1)[0]
        if created.isdigit() and int(created) < cutoff:
            removed += _unlink(entry.path)
    return removed


def _unlink(path: str) -> int:
    try:
        os.unlink(path)
    except FileNotFoundError:
        return 0
    return 1


def _entries(directory: Path) -> Iterator[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as entries:
            yield from (e for e in entries if e.is_file(follow_symlinks=False))
    except FileNotFoundError:
        return


def _unclaimed_old_blobs(cutoff: float) -> list[str]:
    """Blobs (`ab/cd/<sha256>`) nobody has claimed and nobody has touched since `cutoff`."""
    found = []
    root = get_settings().storage_dir
    for first in _dirs(root):
        for second in _dirs(Path(first.path)):
            for entry in _entries(Path(second.path)):
                if not _SHA.fullmatch(entry.name):
                    continue
                stat = entry.stat(follow_symlinks=False)
                if stat.st_nlink == 1 and max(stat.st_mtime, stat.st_ctime) < cutoff:
                    found.append(entry.name)
    return found


def _dirs(directory: Path) -> Iterator[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as entries:
            yield from (
                e for e in entries if _HEX2.fullmatch(e.name) and e.is_dir(follow_symlinks=False)
            )
    except FileNotFoundError:
        return


async def _sweep_blobs(cutoff: float) -> int:
    candidates = await files.run_sync(_unclaimed_old_blobs, cutoff)
    deleted = 0
    for start in range(0, len(candidates), ROW_BATCH):
        batch = candidates[start : start + ROW_BATCH]
        used = set(await StoredFile.filter(sha256__in=batch).values_list("sha256", flat=True))
        for sha256 in batch:
            if sha256 not in used:
                deleted += await files.discard_if_unused(sha256, older_than=cutoff)
    return deleted


# --- rows ----------------------------------------------------------------------------------


def reference_columns() -> list[tuple[str, str]]:
    """(table, column) of every model field that holds a StoredFile id (`…file_id`)."""
    columns = []
    for app in Tortoise.apps.values():
        for model in app.values():
            for name, field in model._meta.fields_map.items():
                if name.endswith("file_id"):
                    columns.append((model._meta.db_table, field.source_field or name))
    return sorted(columns)


def _unreferenced_sql(where: str) -> str:
    not_referenced = " ".join(
        f"AND NOT EXISTS (SELECT 1 FROM {table} r WHERE r.{column} = f.id)"
        for table, column in reference_columns()
    )
    return f"SELECT f.id FROM stored_file f WHERE {where} {not_referenced} ORDER BY f.id"


async def _unreferenced(where: str) -> list[int]:
    _, rows = await bulk.current().execute_query(_unreferenced_sql(where))
    return [int(row[0]) for row in rows]


def _file_ids_in(details: Any, wanted: set[int]) -> Iterator[int]:
    """File ids an audit event's details name (`fileId`, `replacedFileId`, …)."""
    if isinstance(details, dict):
        for key, value in details.items():
            if key.lower().endswith("fileid") and isinstance(value, int) and value in wanted:
                yield value
            elif isinstance(value, dict | list):
                yield from _file_ids_in(value, wanted)
    elif isinstance(details, list):
        for item in details:
            yield from _file_ids_in(item, wanted)


async def _mentioned_in_audit(candidates: set[int]) -> set[int]:
    mentioned: set[int] = set()
    last = 0
    while True:
        events = (
            await AuditEvent.filter(id__gt=last)
            .order_by("id")
            .limit(AUDIT_SCAN_BATCH)
            .values_list("id", "details")
        )
        if not events:
            return mentioned
        for event_id, details in events:
            mentioned.update(_file_ids_in(details, candidates))
            last = event_id


async def _sweep_rows(cutoff: Any) -> tuple[int, list[str]]:
    newest = await StoredFile.filter(created_at__lt=cutoff).order_by("-id").first()
    if newest is None:
        return 0, []
    candidates = set(await _unreferenced(f"f.id <= {int(newest.id)}"))
    if not candidates:
        return 0, []
    doomed = sorted(candidates - await _mentioned_in_audit(candidates))
    deleted = 0
    shas: list[str] = []
    for start in range(0, len(doomed), ROW_BATCH):
        ids = ", ".join(str(i) for i in doomed[start : start + ROW_BATCH])
        async with in_transaction():
            # Checked again inside the transaction: nothing new refers to an old row, but
            # a deletion must never follow a stale look.
            still = await _unreferenced(f"f.id IN ({ids})")
            rows = await StoredFile.filter(id__in=still, created_at__lt=cutoff)
            if not rows:
                continue
            await StoredFile.filter(id__in=[r.id for r in rows]).delete()
            await audit.record(
                SWEEPER,
                "files.unreferenced_rows_deleted",
                "StoredFile",
                f"ids {rows[0].id}-{rows[-1].id}",
                {
                    "count": len(rows),
                    "files": [
                        {
                            "id": r.id,
                            "kind": r.kind.value,
                            "name": r.original_name,
                            "sha256": r.sha256,
                            "firmId": r.firm_id,
                            "uploadedBy": r.uploaded_by,
                        }
                        for r in rows
                    ],
                },
            )
        deleted += len(rows)
        shas.extend(r.sha256 for r in rows)
    return deleted, list(dict.fromkeys(shas))
