"""The base layout every generated document shares: A4, header, footer, list tables.

The output is HTML for :func:`resolvers.documents.pdf.render_pdf`, which supplies the fonts.
Everything that comes from a user or the database must go through :func:`escape` (or
:func:`table_html`, which escapes every cell) before it is placed in ``body_html``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

from models.names import turkish_upper as upper_tr
from resolvers.settings import get_settings

__all__ = [
    "DEFAULT_ISSUER",
    "DocumentSeal",
    "escape",
    "format_count",
    "format_date",
    "format_moment",
    "regulator_zone",
    "render_document",
    "signature_block",
    "table_html",
    "upper_tr",
]

DEFAULT_ISSUER: Final[str] = "Bilgi Teknolojileri ve Haberleşme Kurumu"


@dataclass(frozen=True, slots=True)
class DocumentSeal:
    """What a document the Kurum signs prints about its signature (every page's footer, and
    the signature block): the verification code, who signs, where to verify."""

    code: str
    signatory_name: str
    signatory_title: str
    verify_url: str


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def regulator_zone() -> ZoneInfo:
    """The regulator's clock (MCKS_TIME_ZONE: Europe/Istanbul, or Asia/Nicosia for BTHK): what
    turns 22:30 UTC into the next calendar day on a document or in a message."""
    return _zone(get_settings().time_zone)


# C0 controls other than tab/newline/carriage return, DEL, and lone surrogates: not allowed in
# HTML text, and html5lib/ReportLab either drop them or fail on them.
_INVALID_CHARS: Final[re.Pattern[str]] = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
#: Column widths are written into a style attribute, so only plain lengths are accepted.
_CSS_WIDTH: Final[re.Pattern[str]] = re.compile(r"\d{1,4}(\.\d{1,3})?(%|cm|mm|pt)")


def escape(value: object) -> str:
    """User or database text → HTML text that can never become markup.

    Escapes ``& < > " '`` (so the result is safe in attributes too) and removes control
    characters that are invalid in HTML.
    """
    return html.escape(_INVALID_CHARS.sub("", str(value)), quote=True)


def format_date(moment: datetime) -> str:
    """dd.mm.yyyy on the Turkish calendar day. A naive datetime is taken to be UTC, as
    everywhere else in the gateway."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(regulator_zone()).strftime("%d.%m.%Y")


def format_moment(moment: datetime) -> str:
    """dd.mm.yyyy HH:MM on the regulator's clock, for messages (naive = UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(regulator_zone()).strftime("%d.%m.%Y %H:%M")


def format_count(number: int) -> str:
    """Thousands grouped the Turkish way: 12500 → 12.500."""
    return f"{number:,}".replace(",", ".")


def table_html(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    numeric: Collection[int] = (),
    widths: Sequence[str] | None = None,
    empty_text: str = "Kayıt bulunmamaktadır.",
) -> str:
    """A list table (brand / model / count …) with every header and cell escaped.

    ``numeric`` holds the indexes of right-aligned columns; ``int`` values there are grouped
    with dots. ``widths`` gives each column a CSS width ("45%", "3cm"); without it the columns
    share the width equally. The header row repeats on every page the table spans. With no rows
    a single ``empty_text`` row is shown: xhtml2pdf rejects an empty table.
    """
    if widths is not None:
        if len(widths) != len(headers):
            raise ValueError(f"{len(widths)} widths for {len(headers)} columns")
        for width in widths:
            if not _CSS_WIDTH.fullmatch(width):
                raise ValueError(f"not a CSS width: {width!r}")
    head_cells = []
    for i, header in enumerate(headers):
        css_class = ' class="num"' if i in numeric else ""
        style = f' style="width: {widths[i]}"' if widths is not None else ""
        head_cells.append(f"<th{css_class}{style}>{escape(header)}</th>")
    head = "".join(head_cells)
    body: list[str] = []
    for row in rows:
        if len(row) != len(headers):
            raise ValueError(f"row has {len(row)} cells, the table has {len(headers)} columns")
        cells = []
        for i, value in enumerate(row):
            if i in numeric:
                text = format_count(value) if type(value) is int else escape(value)
                cells.append(f'<td class="num">{text}</td>')
            else:
                cells.append(f"<td>{escape(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    if not body:
        body.append(
            f'<tr><td colspan="{len(headers)}" class="empty">{escape(empty_text)}</td></tr>'
        )
    return (
        '<table class="liste"><thead><tr>'
        + head
        + "</tr></thead><tbody>"
        + "".join(body)
        + "</tbody></table>"
    )


# xhtml2pdf paints the two static frames on every page; the body flows in the page margins.
# Sizes are in pt/cm because xhtml2pdf's percentages and ems follow its own rules.
_CSS: Final[str] = """
@page {
    size: a4 portrait;
    margin: 4.3cm 2cm 2.6cm 2cm;
    @frame page_header {
        -pdf-frame-content: page-header;
        top: 1.2cm; left: 2cm; right: 2cm; height: 2.9cm;
    }
    @frame page_footer {
        -pdf-frame-content: page-footer;
        bottom: 0.9cm; left: 2cm; right: 2cm; height: 1.4cm;
    }
}
body { font-size: 10pt; line-height: 1.4; color: #000000; }
p { margin: 0 0 6pt 0; text-align: justify; }
h1 { font-size: 13pt; margin: 0 0 8pt 0; }
h2 { font-size: 11pt; margin: 10pt 0 6pt 0; }
h3 { font-size: 10pt; margin: 8pt 0 4pt 0; }

#page-header .issuer { font-size: 11pt; font-weight: bold; text-align: center; margin: 0; }
#page-header .title { font-size: 11pt; text-align: center; margin: 3pt 0 6pt 0; }
#page-header table.meta { border-bottom: 0.75pt solid #000000; }
#page-header table.meta td { font-size: 9pt; padding: 0 0 3pt 0; }
#page-header td.ref { text-align: left; }
#page-header td.date { text-align: right; }

#page-footer p {
    font-size: 8pt; color: #333333; text-align: center; margin: 0;
    border-top: 0.5pt solid #777777; padding-top: 3pt;
}
#page-footer p.seal { font-size: 7pt; border-top: none; padding-top: 0; }

table.imza { width: 100%; margin: 14pt 0 0 0; }
table.imza td { vertical-align: top; font-size: 9pt; }
table.imza td.kutu { border: 0.75pt solid #555555; padding: 4pt; }
p.imza { text-align: right; margin: 14pt 0 0 0; }

table.liste { width: 100%; margin: 4pt 0 8pt 0; }
table.liste th, table.liste td {
    border: 0.5pt solid #555555; padding: 3pt 4pt 2pt 4pt; font-size: 9pt;
    text-align: left; vertical-align: top;
    /* A word wider than its cell (a SHA-256, a long model code) breaks inside the cell
       instead of running over the next one and off the page. */
    overflow-wrap: anywhere;
}
table.liste th { background-color: #e6e6e6; font-weight: bold; }
table.liste .num { text-align: right; }
table.liste td.empty { text-align: center; font-style: italic; }
"""


def signature_block(seal: DocumentSeal) -> str:
    """The Kurum's signature under a letter: signed electronically, by whom, and its code."""
    title = f"<br/>{escape(seal.signatory_title)}" if seal.signatory_title else ""
    return (
        f'<p class="imza">Elektronik imzalıdır<br/><b>{escape(seal.signatory_name)}</b>{title}'
        f"<br/>Doğrulama kodu: <b>{escape(seal.code)}</b></p>"
    )


def render_document(
    title: str,
    body_html: str,
    *,
    reference: str | None,
    issued_at: datetime,
    issuer: str = DEFAULT_ISSUER,
    seal: DocumentSeal | None = None,
) -> str:
    """A complete HTML document in the house layout, ready for ``render_pdf``.

    ``title``, ``reference`` and ``issuer`` are plain text and are escaped here. ``body_html`` is
    inserted as it is: build it with :func:`escape` / :func:`table_html`. ``reference`` is the
    document number ("Sayı"); ``None`` leaves it out, e.g. for a draft application form.
    ``seal`` puts the verification code and where to check it in every page's footer.
    """
    seal_line = ""
    if seal is not None:
        who = escape(seal.signatory_name)
        if seal.signatory_title:
            who += f" ({escape(seal.signatory_title)})"
        seal_line = (
            f'<p class="seal">MCKS tarafından düzenlenmiş, Kurum adına {who} tarafından '
            f"elektronik imzalanmıştır. Doğrulama kodu: <b>{escape(seal.code)}</b> · "
            f"{escape(seal.verify_url)}</p>"
        )
    reference_cell = f"Sayı: {escape(reference)}" if reference else "&#160;"
    return f"""<!DOCTYPE html>
<html lang="tr">
<head>
<meta charset="utf-8"/>
<title>{escape(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<div id="page-header">
<p class="issuer">{escape(upper_tr(issuer))}</p>
<p class="title">{escape(title)}</p>
<table class="meta"><tr>
<td class="ref">{reference_cell}</td>
<td class="date">Tarih: {format_date(issued_at)}</td>
</tr></table>
</div>
<div id="page-footer">
<p>Sayfa <pdf:pagenumber /> / <pdf:pagecount /></p>{seal_line}
</div>
{body_html}
</body>
</html>
"""
