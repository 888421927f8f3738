"""What an uploaded device list means against the TAC registry, settled at upload (guide §3).

The reader (resolvers/device_files) knows cells, not the registry. Two things need both:

* a number shorter than an IMEI (Excel stores IMEIs as numbers, and a number keeps no
  leading zero; TACs starting with 0 are common): where exactly one reading of it is a valid
  IMEI of a registered TAC of the declared model, it is taken with a warning; otherwise the
  device keeps the number and fails INVALID_IMEI with the reason;
* whether a device can pass the TAC and model match, which colours its brand/model group
  right after the upload, before any analysis has run (red: none of its devices can).

Rows come in batches; each batch costs one registry lookup of the TACs not seen before.
They come as plain tuples (`list_reader.Row`: what crosses from the reader's process) and
are settled as `StagedRow`s.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Final, NamedTuple

from models.imei import IMEI_LENGTH, TAC_LENGTH, is_valid_imei, luhn_check_digit
from models.names import brand_model_key
from models.tac import TacModel
from resolvers.device_files import FileIssue, ImeiNote, IssueCode, ShortNumber
from resolvers.device_files.issues import make_issue
from resolvers.tac.registry import models_for_tacs

_PAYLOAD_LENGTH: Final = IMEI_LENGTH - 1
_KEPT_WARNINGS: Final = 1000


class StagedRow(NamedTuple):
    """A device row as staged: `DeviceRow`'s fields but its warnings (the reader tallied
    them), a tuple (a million are made per upload)."""

    row_number: int
    brand: str
    model: str
    imeis: tuple[str, ...]
    notes: tuple[ImeiNote, ...] = ()
    short_numbers: tuple[ShortNumber, ...] = ()


def tac_readable(imei: str) -> bool:
    """15 digits: the TAC is its first 8, whether or not the check digit is right."""
    return len(imei) == IMEI_LENGTH and imei.isascii() and imei.isdigit()


def readings_of(number: str) -> list[str]:
    """What a number shorter than an IMEI may have been: its lost leading zeros put back;
    for 14 digits also the IMEI without its check digit (as networks write it)."""
    readings = ["0" * (IMEI_LENGTH - len(number)) + number]
    if len(number) == _PAYLOAD_LENGTH:
        readings.append(number + luhn_check_digit(number))
    return readings


class RegistryReadings:
    """Settles the rows of one upload; ``warnings`` collects what it decided, for the firm."""

    def __init__(self, *, match_tacs: bool = True) -> None:
        # Test devices (art. 12(2)) need not match the registry: no group colour for them.
        self._match_tacs = match_tacs
        self._models: dict[str, TacModel | None] = {}
        self._model_keys: dict[str, tuple[str, str] | None] = {}
        self._declared: dict[tuple[str, str], tuple[str, str]] = {}
        self.warnings: list[FileIssue] = []
        self.warning_count = 0
        #: (brand, model) → [devices, devices that can pass the TAC and model match].
        self.groups: dict[tuple[str, str], list[int]] = {}

    async def settle(
        self, batch: Sequence[tuple[object, ...]]
    ) -> tuple[list[StagedRow], list[bool | None]]:
        """The rows (tuples in `StagedRow`'s order) with their short numbers settled, and
        per row whether the device can pass the TAC and model match (None: not looked at)."""
        rows: list[StagedRow] = list(map(StagedRow._make, batch))
        await self._look_up(self._tacs(rows))
        rows = [self._settle_short_numbers(row) if row.short_numbers else row for row in rows]
        if self._match_tacs:
            return rows, self._matches(rows)
        for row in rows:  # every test device counts as matching
            tally = self._tally(row)
            tally[0] += 1
            tally[1] += 1
        return rows, [None] * len(rows)

    def _tally(self, row: StagedRow) -> list[int]:
        tally = self.groups.get((row.brand, row.model))
        if tally is None:
            tally = self.groups[(row.brand, row.model)] = [0, 0]
        return tally

    def _tacs(self, rows: list[StagedRow]) -> set[str]:
        # Every IMEI's first 8 characters (a million rows: one comprehension); those that
        # are no TAC are dropped below, before the lookup.
        tacs = {imei[:TAC_LENGTH] for row in rows for imei in row.imeis}
        for row in rows:
            for short in row.short_numbers:
                tacs.update(r[:TAC_LENGTH] for r in readings_of(row.imeis[short.position]))
        return tacs

    async def _look_up(self, tacs: set[str]) -> None:
        unseen = [
            tac
            for tac in tacs.difference(self._models)
            if len(tac) == TAC_LENGTH and tac.isascii() and tac.isdigit()
        ]
        if not unseen:
            return
        found = await models_for_tacs(unseen)
        for tac in unseen:
            model = found.get(tac)
            self._models[tac] = model
            self._model_keys[tac] = (
                (brand_model_key(model.brand), brand_model_key(model.model_code))
                if model is not None
                else None
            )

    def _declared_key(self, row: StagedRow) -> tuple[str, str]:
        names = (row.brand, row.model)
        key = self._declared.get(names)
        if key is None:
            key = self._declared[names] = (brand_model_key(row.brand), brand_model_key(row.model))
        return key

    def _fits(self, imei: str, declared: tuple[str, str]) -> bool:
        return self._model_keys.get(imei[:TAC_LENGTH]) == declared

    def _matches(self, rows: list[StagedRow]) -> list[bool | None]:
        keys = self._model_keys
        declared_keys = self._declared
        matches: list[bool | None] = []
        # Hot loop (a million rows): plain scans, no calls; an IMEI that is not 15 digits
        # has no TAC to match.
        brand = model = None
        declared: tuple[str, str] | None = None
        tally = [0, 0]
        for row in rows:
            if row.brand != brand or row.model != model:  # lists come grouped, mostly
                brand, model = row.brand, row.model
                declared = declared_keys.get((brand, model)) or self._declared_key(row)
                tally = self._tally(row)
            tally[0] += 1
            match = True
            for imei in row.imeis:
                if (
                    len(imei) != IMEI_LENGTH
                    or keys.get(imei[:TAC_LENGTH]) != declared
                    or not imei.isdigit()
                    or not imei.isascii()
                ):
                    match = False
                    break
            else:
                tally[1] += 1
            matches.append(match)
        return matches

    def _settle_short_numbers(self, row: StagedRow) -> StagedRow:
        declared = self._declared_key(row)
        imeis = list(row.imeis)
        notes = list(row.notes)
        for short in row.short_numbers:
            number = imeis[short.position]
            readings = readings_of(number)
            fitting = [r for r in readings if is_valid_imei(r) and self._fits(r, declared)]
            params = {
                "length": len(number),
                "value": number,
                "brand": row.brand,
                "model": row.model,
                "readings": ", ".join(readings),
            }
            if len(fitting) == 1:
                imei = imeis[short.position] = fitting[0]
                issue = _issue(
                    IssueCode.LEADING_ZERO_RESTORED,
                    row,
                    short,
                    **params,
                    imei=imei,
                    tac=imei[:TAC_LENGTH],
                )
            else:
                code = (
                    IssueCode.LEADING_ZERO_AMBIGUOUS
                    if fitting
                    else IssueCode.LEADING_ZERO_NO_READING
                )
                issue = _issue(code, row, short, **params)
                notes.append(ImeiNote(short.position, issue))
            self._keep(issue)
        return row._replace(imeis=tuple(imeis), notes=tuple(notes), short_numbers=())

    def _keep(self, issue: FileIssue) -> None:
        self.warning_count += 1
        if len(self.warnings) < _KEPT_WARNINGS:
            self.warnings.append(issue)


def _issue(code: IssueCode, row: StagedRow, short: ShortNumber, **params: object) -> FileIssue:
    return make_issue(code, row.row_number, short.column, short.header, **params)


def notes_json(row: StagedRow) -> str | None:
    """The row's IMEI notes as the device keeps them: which IMEI, which cell, why."""
    if not row.notes:
        return None
    return json.dumps(
        [
            {
                "imei": row.imeis[note.position],
                "column": note.issue.column,
                "header": note.issue.header,
                "tr": note.issue.message_tr,
                "en": note.issue.message_en,
            }
            for note in row.notes
        ],
        ensure_ascii=False,
    )


def parse_notes(stored: str | None) -> dict[str, dict[str, str | None]]:
    """IMEI → its note (cell and reason), from what :func:`notes_json` stored."""
    if not stored:
        return {}
    return {note["imei"]: note for note in json.loads(stored)}
