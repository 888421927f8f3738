"""The changed-IMEI report (Tebliğ art. 16): replacements made earlier, in one Ek-3 file.

Two steps, because the firm chooses what happens once it has seen the whole result:

1. `upload_changed_imei_report` reads the whole file (`resolvers.after.ek3`), checks every
   pair with the replacements' rule (`replacements.check_pairs`) and stores the report
   PENDING_CONFIRMATION with one line per pair (valid, or its problem and line number).
   Nothing changes on the whitelist.
2. `confirm_changed_imei_report` applies the valid part (`apply_valid=True`) or nothing
   (`False`, the report is DISCARDED). Applying checks the valid lines again under the
   whitelist feed's lock: if any stopped being valid meanwhile (a held IMEI used by another
   report, an old IMEI corrected…), nothing is applied, those lines get their new problem and
   the firm is asked to decide again (REPORT_OUTDATED) — what it confirmed is exactly what is
   applied.
"""

from __future__ import annotations

from tortoise.transactions import in_transaction

from models import clock
from models.after import (
    ReplacementChannel,
    ReplacementLine,
    ReplacementReport,
    ReplacementReportStatus,
)
from models.files import FileKind
from resolvers import audit, bulk, files, registry_changes
from resolvers.actor import Actor
from resolvers.after import ek3, replacements
from resolvers.after.common import require_firm
from resolvers.after.replacements import CheckedPair, missing_report
from resolvers.errors import DomainError, ErrorCode, invalid, invalid_state
from resolvers.pagination import Page, paginate
from resolvers.settings import get_settings
from resolvers.workflow.common import Content, read_upload

MAX_LINES = 200_000
LINE_COLUMNS = ("report_id", "line_number", "old_imei", "new_imei", "text", "problem", "applied")


def _reject_binary(data: bytes) -> None:
    if files.sniff_kind(data[:16]) is not None or b"\x00" in data[:4096]:
        raise invalid(
            "file",
            "Ek-3 bildirimi düz metin (text) dosyası olmalı",
            "an Ek-3 report is a plain text file",
        )


@files.atomic_uploads
async def upload_changed_imei_report(
    actor: Actor, content: Content, filename: str
) -> ReplacementReport:
    """Read and check an Ek-3 file; store the report for the firm's decision."""
    firm_id = require_firm(actor)
    data = await read_upload(content, get_settings().max_document_bytes)
    _reject_binary(data)
    lines = ek3.read_ek3(ek3.decode(data))
    if not lines:
        raise invalid(
            "file",
            "dosyada 'ESKİ_IMEI YENİ_IMEI' satırı yok",
            "the file has no 'OLD_IMEI NEW_IMEI' line",
        )
    if len(lines) > MAX_LINES:
        raise invalid(
            "file",
            f"bir dosyada en fazla {MAX_LINES} çift olabilir; dosyayı bölün",
            f"at most {MAX_LINES} pairs per file; split the file",
        )
    checked = [CheckedPair(line.old_imei, line.new_imei, line.problem) for line in lines]
    await replacements.check_pairs(firm_id, checked)
    invalid_count = sum(1 for pair in checked if pair.problem is not None)
    async with in_transaction():
        stored = await files.store(
            actor,
            data,
            kind=FileKind.OTHER,
            original_name=filename,
            content_type="text/plain; charset=utf-8",
            firm_id=firm_id,
            max_bytes=len(data),
        )
        report = await ReplacementReport.create(
            firm_id=firm_id,
            channel=ReplacementChannel.EK3_FILE,
            status=ReplacementReportStatus.PENDING_CONFIRMATION,
            source_file_id=stored.id,
            line_count=len(lines),
            valid_count=len(lines) - invalid_count,
            invalid_count=invalid_count,
            created_by=actor.name,
            created_at=clock.now(),
        )
        await bulk.insert_rows(
            "replacement_line",
            LINE_COLUMNS,
            (
                (
                    report.id,
                    line.line_number,
                    pair.old,
                    pair.new,
                    line.text,
                    pair.problem.value if pair.problem else None,
                    False,
                )
                for line, pair in zip(lines, checked, strict=True)
            ),
        )
        await audit.record(
            actor,
            "replacement_report.uploaded",
            "ReplacementReport",
            report.id,
            {
                "fileId": stored.id,
                "sha256": stored.sha256,
                "name": filename,
                "lines": report.line_count,
                "valid": report.valid_count,
                "invalid": report.invalid_count,
            },
        )
    return report


async def confirm_changed_imei_report(
    actor: Actor, report_id: int, apply_valid: bool
) -> ReplacementReport:
    """The firm's decision on a checked report: apply its valid pairs, or nothing."""
    firm_id = require_firm(actor)
    outdated = 0
    async with in_transaction() as connection:
        report = (
            await ReplacementReport.filter(
                id=report_id, firm_id=firm_id, channel=ReplacementChannel.EK3_FILE
            )
            .select_for_update()
            .first()
        )
        if report is None:
            raise missing_report()
        if report.status != ReplacementReportStatus.PENDING_CONFIRMATION:
            raise invalid_state(
                "bu bildirim için karar daha önce verildi",
                "this report has already been decided",
            )
        if not apply_valid:
            await _decide(actor, report, ReplacementReportStatus.DISCARDED)
            await audit.record(
                actor,
                "replacement_report.discarded",
                "ReplacementReport",
                report.id,
                {"valid": report.valid_count, "invalid": report.invalid_count},
            )
            return report
        await registry_changes.lock_feed(connection, registry_changes.WHITELIST_FEED_LOCK)
        valid_lines = await ReplacementLine.filter(
            report_id=report.id, problem__isnull=True
        ).order_by("line_number")
        if not valid_lines:
            raise invalid_state(
                "bildirimde uygulanabilir çift yok; bildirimden vazgeçin",
                "the report has no pair to apply; discard it",
            )
        checked = [CheckedPair(line.old_imei, line.new_imei) for line in valid_lines]
        await replacements.check_pairs(report.firm_id, checked)
        now_invalid = [
            (pair.problem.value, line.id)
            for line, pair in zip(valid_lines, checked, strict=True)
            if pair.problem is not None
        ]
        if now_invalid:
            outdated = len(now_invalid)
            await _mark_outdated(actor, report, now_invalid)
        else:
            await _apply(actor, report, checked)
    if outdated:
        raise DomainError(ErrorCode.REPORT_OUTDATED, field="reportId", count=outdated)
    return report


async def _decide(actor: Actor, report: ReplacementReport, status: ReplacementReportStatus) -> None:
    report.status = status
    report.decided_by = actor.name
    report.decided_at = clock.now()
    await report.save(update_fields=["status", "decided_by", "decided_at", "applied_count"])


async def _mark_outdated(
    actor: Actor, report: ReplacementReport, now_invalid: list[tuple[str, int]]
) -> None:
    """Keep the lines' new problems (this transaction commits; nothing else changes)."""
    await bulk.execute_many("UPDATE replacement_line SET problem = ? WHERE id = ?", now_invalid)
    report.valid_count -= len(now_invalid)
    report.invalid_count += len(now_invalid)
    await report.save(update_fields=["valid_count", "invalid_count"])
    await audit.record(
        actor,
        "replacement_report.rechecked",
        "ReplacementReport",
        report.id,
        {"nowInvalid": len(now_invalid), "valid": report.valid_count},
    )


async def _apply(actor: Actor, report: ReplacementReport, checked: list[CheckedPair]) -> None:
    ended = await replacements.apply_pairs(actor, report, checked)
    await bulk.execute_many(
        "UPDATE replacement_line SET applied = ? WHERE report_id = ? AND problem IS NULL",
        [(True, report.id)],
    )
    report.applied_count = len(checked)
    await _decide(actor, report, ReplacementReportStatus.APPLIED)
    report.letter_file_id = await replacements.issue_letter(actor, report, checked)
    await report.save(update_fields=["letter_file_id"])
    await audit.record(
        actor,
        "replacement_report.applied",
        "ReplacementReport",
        report.id,
        {
            "channel": report.channel.value,
            "invalidLines": report.invalid_count,
            **replacements.audited_pairs(checked, ended),
        },
    )


async def list_lines(
    actor: Actor, report_id: int, valid: bool | None, first: int, after: str | None
) -> Page[ReplacementLine]:
    """A report's lines in file order; `valid` filters the valid or the invalid ones."""
    report = await replacements.get_report(actor, report_id)
    query = ReplacementLine.filter(report_id=report.id)
    if valid is not None:
        query = query.filter(problem__isnull=valid)
    return await paginate(query, first, after, newest_first=False, count=True)
