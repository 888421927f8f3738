"""An application's lists in the communiqué's text formats, streamed in constant memory.

* Ek-2 (`open_ek2`): the IMEIs registered with the application — what is on the whitelist
  under it now (corrections and replacements included) — per brand/model::

      <FİRMA ADI>, <MARKA> <MODEL>
      <İTHALAT TARİHİ, gg.aa.yyyy>
      IMEI NUMARALARI
      356938035643809

  A brand with a space, or a comma in the brand or model, would make that first line
  ambiguous: such a block starts with labelled lines instead (`FİRMA ADI:`, `MARKA:`,
  `MODEL:`), which the Ek-2 reader of device lists also accepts. A manufactured device's
  date is its production date; a date unknown is left out.
* Ek-3 (`open_ek3`): the application's replacements (its IMEIs replaced, or its held IMEIs
  used as new ones), per brand/model of the new device, in the layout `resolvers.after.ek3`
  reads.

UTF-8, CRLF line ends (the text files the communiqué has in mind travel on Windows). The
caller checks access before streaming starts: `open_*` refuse with NOT_FOUND for another
firm's application, like every other view of it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Final

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from models.accounts import Firm
from models.after import Replacement
from models.applications import Application
from models.registry import WhitelistEntry
from resolvers.actor import Actor
from resolvers.after import ek3
from resolvers.applications.access import get_application
from resolvers.workflow.common import format_day, reference

BATCH: Final = 5000
LINES_PER_CHUNK: Final = 2000
EOL: Final = "\r\n"


@dataclass(frozen=True)
class TextExport:
    file_name: str
    chunks: AsyncIterator[bytes]


async def _encoded(lines: AsyncIterator[str]) -> AsyncIterator[bytes]:
    batch: list[str] = []
    async for line in lines:
        batch.append(line)
        if len(batch) >= LINES_PER_CHUNK:
            yield (EOL.join(batch) + EOL).encode()
            batch = []
    if batch:
        yield (EOL.join(batch) + EOL).encode()


# --- Ek-2 ----------------------------------------------------------------------------------


def ek2_header(firm_name: str, brand: str, model: str) -> list[str]:
    """The block's first line(s): unlabelled when the reader cannot misread them."""
    if " " in brand.strip() or "," in brand or "," in model:
        return [f"FİRMA ADI: {firm_name}", f"MARKA: {brand}", f"MODEL: {model}"]
    return [f"{firm_name}, {brand} {model}"]


async def _registered_imeis(application_id: int, brand: str, model: str) -> AsyncIterator[str]:
    """Keyset pages by IMEI (the whitelist's unique index), one brand/model at a time."""
    last = ""
    while True:
        imeis = await (
            WhitelistEntry.filter(
                application_id=application_id, brand=brand, model_code=model, imei__gt=last
            )
            .order_by("imei")
            .limit(BATCH)
            .values_list("imei", flat=True)
        )
        for imei in imeis:
            yield str(imei)
        if len(imeis) < BATCH:
            return
        last = str(imeis[-1])


async def _ek2_lines(application: Application, firm_name: str) -> AsyncIterator[str]:
    groups = await (
        WhitelistEntry.filter(application_id=application.id)
        .distinct()
        .order_by("brand", "model_code")
        .values_list("brand", "model_code")
    )
    day = application.import_date or application.production_date
    for brand, model in groups:
        for line in ek2_header(firm_name, str(brand), str(model)):
            yield line
        if day is not None:
            yield format_day(day)
        yield "IMEI NUMARALARI"
        async for imei in _registered_imeis(application.id, str(brand), str(model)):
            yield imei


async def open_ek2(actor: Actor, application_id: int) -> TextExport:
    application = await get_application(actor, application_id)
    firm = await Firm.get(id=application.firm_id)
    return TextExport(
        file_name=f"ek2-{reference(application)}.txt",
        chunks=_encoded(_ek2_lines(application, firm.name)),
    )


# --- Ek-3 ----------------------------------------------------------------------------------


def _replacements_of(application_id: int) -> QuerySet[Replacement]:
    return Replacement.filter(
        Q(new_application_id=application_id) | Q(old_application_id=application_id)
    )


async def _replacement_pairs(
    application_id: int, brand: str, model: str
) -> AsyncIterator[tuple[str, str]]:
    last = 0
    while True:
        rows = await (
            _replacements_of(application_id)
            .filter(brand=brand, model_code=model, id__gt=last)
            .order_by("id")
            .limit(BATCH)
            .values_list("id", "old_imei", "new_imei")
        )
        for _, old, new in rows:
            yield str(old), str(new)
        if len(rows) < BATCH:
            return
        last = int(rows[-1][0])


async def _ek3_lines(application: Application, firm_name: str) -> AsyncIterator[str]:
    groups = await (
        _replacements_of(application.id)
        .distinct()
        .order_by("brand", "model_code")
        .values_list("brand", "model_code")
    )
    for brand, model in groups:
        for line in ek3.header_lines(firm_name, str(brand), str(model)):
            yield line
        async for old, new in _replacement_pairs(application.id, str(brand), str(model)):
            yield ek3.pair_line(old, new)


async def open_ek3(actor: Actor, application_id: int) -> TextExport:
    application = await get_application(actor, application_id)
    firm = await Firm.get(id=application.firm_id)
    return TextExport(
        file_name=f"ek3-{reference(application)}.txt",
        chunks=_encoded(_ek3_lines(application, firm.name)),
    )
