"""Stored files: a refused upload leaves neither a row nor bytes (content addressing: never
the bytes another row or another upload in flight still uses), and a daily sweep removes
what was left behind anyway, keeping whatever is referenced or audited."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tortoise.transactions import in_transaction

from models import clock
from models.audit import AuditEvent
from models.files import FileKind, StoredFile
from models.jobs import Job
from resolvers import file_sweep, files, jobs
from resolvers.actor import Actor
from resolvers.errors import DomainError, ErrorCode
from resolvers.job_kinds import load_handlers
from resolvers.settings import updated
from tests.support.api import gql, login, make_world
from tests.support.uploads import imei, upload, xlsx
from tests.support.workflow import jpeg
from tests.test_application_analysis import APPLE, create_draft

load_handlers()
ACTOR = Actor.system("test")
CE_UPLOAD = """mutation($f: Upload!) {
  uploadCeCertificate(brand: "APPLE", model: "A2403", file: $f) { errors { code field } }
}"""


@pytest.fixture
def storage(db: str, tmp_path: Path) -> Path:
    root = tmp_path / "files"
    updated(storage_dir=root, file_sweep_grace_hours=24)
    return root


async def put(content: bytes, kind: FileKind = FileKind.OTHER) -> StoredFile:
    """A file stored outside any use case (no `atomic_uploads`: its claim stays)."""
    return await files.store(
        ACTOR,
        content,
        kind=kind,
        original_name="a.txt",
        content_type="application/octet-stream",
        firm_id=None,
        max_bytes=1 << 20,
    )


def stored_files(root: Path) -> set[str]:
    """Every file under the storage directory (directories themselves do not matter)."""
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def later(hours: float) -> datetime:
    """A clock this far past the real time the files were written at."""
    return datetime.now(UTC) + timedelta(hours=hours)


def good_list(serial: int) -> bytes:
    return xlsx(
        [("APPLE", "A2403", imei(f"{APPLE}{serial:06d}"), imei(f"{APPLE}{serial + 1:06d}"))]
    )


def broken_list() -> bytes:
    return xlsx([("APPLE", "A2403", "35A000221"), ("APPLE", "A2403", None)])


async def test_a_refused_device_list_leaves_the_storage_as_it_was(client, storage):
    await make_world()
    user = await login(client, "a.user")
    application_id = await create_draft(client, user)
    accepted = await upload(client, user, application_id, good_list(400001))
    assert accepted["data"]["uploadDeviceList"]["errors"] == []
    before, rows_before = stored_files(storage), await StoredFile.all().count()
    assert len(before) == 1  # the accepted list's blob, nothing in flight

    refused = await upload(client, user, application_id, broken_list())
    assert refused["data"]["uploadDeviceList"]["errors"]
    assert stored_files(storage) == before
    assert await StoredFile.all().count() == rows_before

    # Refused for the state rather than the content: nothing stays either.
    await gql(
        client,
        'mutation($id: Int!) { cancelApplication(applicationId: $id, reason: "x") { errors { code } } }',
        {"id": application_id},
        token=user,
    )
    late = await upload(client, user, application_id, good_list(400011))
    assert late["data"]["uploadDeviceList"]["errors"][0]["code"] == "INVALID_STATE"
    assert stored_files(storage) == before
    assert await StoredFile.all().count() == rows_before


async def store_and_fail(content: bytes) -> StoredFile:
    """A use case that stores a file, then is refused inside its transaction."""
    stored: StoredFile | None = None
    with pytest.raises(DomainError):
        async with files.uploads():
            async with in_transaction():
                stored = await put(content)
                raise DomainError(ErrorCode.INVALID_INPUT)
    assert stored is not None
    return stored


async def test_refused_bytes_that_another_row_uses_are_kept(client, storage):
    await make_world()
    user = await login(client, "a.user")
    application_id = await create_draft(client, user)
    content = good_list(410001)
    assert (await upload(client, user, application_id, content))["data"]["uploadDeviceList"][
        "errors"
    ] == []
    [row] = await StoredFile.all()
    before = stored_files(storage)
    # The same bytes stored by a use case that is then refused: the accepted list keeps them.
    await store_and_fail(content)
    assert stored_files(storage) == before
    assert await files.read_bytes(row) == content
    assert [r.id for r in await StoredFile.all()] == [row.id]


async def test_a_rolled_back_store_keeps_bytes_an_upload_in_flight_has_claimed(storage):
    # Another upload of the same bytes is in flight: written and claimed, row not yet
    # committed. Ours fails and must not take the bytes from under it.
    other = await files.write_blob(b"same bytes", max_bytes=100)
    await store_and_fail(b"same bytes")
    assert files.path_of(other.sha256).read_bytes() == b"same bytes"
    assert await StoredFile.all().count() == 0

    # The same failure with nobody else wanting the bytes: they go, claims and all.
    stored = await store_and_fail(b"lonely bytes")
    assert not files.path_of(stored.sha256).exists()
    assert stored_files(storage) == {str(other.claim.relative_to(storage)), _rel(other, storage)}


def _rel(blob: files.Blob, root: Path) -> str:
    return str(files.path_of(blob.sha256).relative_to(root))


async def test_a_successful_upload_keeps_its_bytes_and_drops_its_claim(client, storage):
    await make_world()
    user = await login(client, "a.user")
    scan = jpeg()
    from tests.test_tac_registry import upload as multipart

    body = await multipart(client, CE_UPLOAD, {}, {"f": ("ce.jpg", scan, "image/jpeg")}, user)
    assert body["data"]["uploadCeCertificate"]["errors"] == []
    [row] = await StoredFile.all()
    assert stored_files(storage) == {str(files.path_of(row.sha256).relative_to(storage))}
    assert files.path_of(row.sha256).stat().st_nlink == 1  # no claim left


async def test_the_sweep_removes_orphans_and_keeps_what_is_referenced(client, storage):
    await make_world()
    user = await login(client, "a.user")
    application_id = await create_draft(client, user)
    content = good_list(420001)  # xlsx bytes carry a timestamp: keep the ones sent
    assert (await upload(client, user, application_id, content))["data"]["uploadDeviceList"][
        "errors"
    ] == []
    [referenced] = await StoredFile.all()
    # An orphan blob (a crash between writing and committing) and an unreferenced row whose
    # bytes are on disk (a refused list from before uploads were atomic).
    orphan = await files.write_blob(b"orphan bytes", max_bytes=100)
    leftover = await put(b"leftover row", FileKind.DEVICE_LIST)
    # An unreferenced row the audit trail names (a replaced CE scan, say): history, kept.
    audited = await put(b"replaced scan", FileKind.CE_CERTIFICATE)
    await AuditEvent.create(
        at=clock.now(),
        actor_kind="SYSTEM",
        actor_name="test",
        actor_role="SYSTEM",
        action="ce_certificate.uploaded",
        subject_type="CeCertificate",
        subject_id="1",
        details={"replacedFileId": audited.id},
    )
    # Within the grace period nothing goes (an upload could still be in flight).
    clock.freeze(later(1))
    assert await file_sweep.sweep() == file_sweep.SweepResult()
    assert files.path_of(orphan.sha256).exists()

    clock.freeze(later(25))
    result = await file_sweep.sweep()
    assert (result.rows, result.blobs) == (1, 2)
    assert result.leftovers == 3  # the claims write_blob left outside a use case
    assert not files.path_of(orphan.sha256).exists()
    assert not files.path_of(leftover.sha256).exists()
    assert {r.id for r in await StoredFile.all()} == {referenced.id, audited.id}
    assert await files.read_bytes(referenced) == content
    assert files.path_of(audited.sha256).exists()
    assert stored_files(storage) == {
        str(files.path_of(referenced.sha256).relative_to(storage)),
        str(files.path_of(audited.sha256).relative_to(storage)),
    }
    [deleted] = await AuditEvent.filter(action="files.unreferenced_rows_deleted")
    assert deleted.details["files"][0]["id"] == leftover.id
    assert deleted.actor_name == "file-sweep"
    assert await AuditEvent.filter(action="files.swept").count() == 1
    # Nothing more to do.
    assert await file_sweep.sweep() == file_sweep.SweepResult()


def test_every_file_reference_column_is_known_to_the_sweep(db):
    assert file_sweep.reference_columns() == sorted(
        [
            ("application", "device_list_file_id"),
            ("application_document", "file_id"),
            ("ce_certificate", "file_id"),
            ("correction_request", "documents_file_id"),
            ("correction_request", "letter_file_id"),
            ("correction_request", "petition_file_id"),
            ("fee_notice", "file_id"),
            ("fee_receipt", "file_id"),
            ("issued_document", "file_id"),
            ("notification", "attachment_file_id"),
            ("replacement_report", "letter_file_id"),
            ("replacement_report", "source_file_id"),
            ("tac_request", "letter_file_id"),
        ]
    )


async def test_a_set_aside_blob_left_by_a_crash_is_put_back(storage):
    stored = await put(b"in use", FileKind.OTHER)
    path = files.path_of(stored.sha256)
    aside = files.tmp_dir() / f"{stored.sha256}.crash.deleting"
    os.rename(path, aside)
    await file_sweep.sweep()
    assert path.read_bytes() == b"in use"
    assert not aside.exists()


async def test_the_sweep_is_a_daily_job(storage):
    schedulers = load_handlers()
    assert file_sweep.schedule_periodic in schedulers
    await file_sweep.schedule_periodic()
    await file_sweep.schedule_periodic()  # the same day's slot: queued once
    assert await Job.filter(kind=file_sweep.JOB_KIND).count() == 1
    orphan = await files.write_blob(b"orphan", max_bytes=100)
    clock.freeze(later(25))
    assert await jobs.drain() >= 1
    assert not files.path_of(orphan.sha256).exists()
    updated(file_sweep_grace_hours=0)
    await Job.all().delete()
    await file_sweep.schedule_periodic()
    assert not await Job.filter(kind=file_sweep.JOB_KIND).exists()
