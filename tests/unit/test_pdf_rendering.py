"""The PDF foundation: Turkish letters survive, the font is embedded, user text stays text.

No database and no network. Text is read back with pypdf, so these tests check what a reader
of the PDF gets, not what was handed to xhtml2pdf.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import cast

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from resolvers.documents import (
    PdfRenderError,
    escape,
    format_count,
    format_date,
    render_document,
    render_pdf,
    render_pdf_sync,
    shutdown_renderer,
    table_html,
    upper_tr,
)

TURKISH_LINE = "Başvuru Ğğ Iı İi Şş Çç Öö Üü — İthalat İzni"
TURKISH_LETTERS = "ğıışçöüİĞŞÇÖÜ"
# 22:30 UTC on the 4th is already the 5th in Türkiye (UTC+3).
ISSUED_AT = datetime(2026, 3, 4, 22, 30, tzinfo=UTC)
DEVICES = [
    ("Şahin Elektronik", "Çağrı X1", 1250),
    ("Görüş İletişim", "Işık Pro ğ", 3),
    ("Öztürk Ünal", "İnce 5G", 12500),
]


@pytest.fixture(scope="module", autouse=True)
def _stop_workers() -> Iterator[None]:
    yield
    shutdown_renderer()


def _document(body_html: str, *, title: str = "İthalat İzni Belgesi") -> str:
    return render_document(title, body_html, reference="BTK-2026/İ-0042", issued_at=ISSUED_AT)


def _pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def _drawn_fonts(pdf: bytes) -> set[str]:
    """BaseFont of every font that draws visible text, as a PDF reader sees it."""
    fonts: set[str] = set()

    def visit(text: str, _cm: object, _tm: object, font: dict | None, _size: float) -> None:
        if text.strip():
            fonts.add(str(font["/BaseFont"]) if font else "<none>")

    for page in PdfReader(io.BytesIO(pdf)).pages:
        page.extract_text(visitor_text=visit)
    return fonts


def _resource_fonts(pdf: bytes) -> dict[str, DictionaryObject]:
    """Every font object listed in the pages' /Resources, by BaseFont."""
    fonts: dict[str, DictionaryObject] = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        resources = cast(DictionaryObject, page["/Resources"].get_object())
        for ref in cast(DictionaryObject, resources["/Font"].get_object()).values():
            font = cast(DictionaryObject, ref.get_object())
            fonts[str(font["/BaseFont"])] = font
    return fonts


def test_turkish_letters_come_back_exactly() -> None:
    body = f"<h1>{escape(TURKISH_LINE)}</h1><p>{escape(TURKISH_LINE)}</p>" + table_html(
        ["Marka", "Model", "Adet"], DEVICES, numeric={2}
    )
    pdf = render_pdf_sync(_document(body))

    assert pdf.startswith(b"%PDF-")
    (text,) = _pages_text(pdf)
    lines = [line.strip() for line in text.splitlines()]
    assert lines.count(TURKISH_LINE) == 2
    for letter in TURKISH_LETTERS:
        assert letter in text, letter
    # Header: issuer upper-cased with Turkish rules, title, number, Turkish date.
    assert "BİLGİ TEKNOLOJİLERİ VE HABERLEŞME KURUMU" in lines
    assert "İthalat İzni Belgesi" in lines
    assert "Sayı: BTK-2026/İ-0042" in lines
    assert "Tarih: 05.03.2026" in lines
    # Table cells, with counts grouped the Turkish way.
    for brand, model, _ in DEVICES:
        assert brand in lines and model in lines
    assert "12.500" in lines and "1.250" in lines
    metadata = PdfReader(io.BytesIO(pdf)).metadata
    assert metadata is not None and metadata.title == "İthalat İzni Belgesi"


def test_text_is_drawn_only_with_the_embedded_truetype_font() -> None:
    body = (
        f"<p>{escape(TURKISH_LINE)}</p>"
        "<p><b>Kalın ğş</b> <i>İtalik ıİ</i> <b><i>Kalın italik Şğ</i></b></p>"
        # Names xhtml2pdf would map to base-14 fonts must still get DejaVu.
        '<p style="font-family: Arial">Arial ğ</p><pre>Kod ş</pre>'
        "<p style=\"font-family: 'Times New Roman'\">Times İ</p>"
        + table_html(["Marka", "Model", "Adet"], DEVICES, numeric={2})
    )
    pdf = render_pdf_sync(_document(body))

    fonts = _resource_fonts(pdf)
    # Subset prefix + face name, e.g. /AAAAAA+DejaVuSans-Bold.
    faces = {name.split("+", 1)[1] for name in fonts}
    assert faces == {
        "DejaVuSans",
        "DejaVuSans-Bold",
        "DejaVuSans-Oblique",
        "DejaVuSans-BoldOblique",
    }
    for font in fonts.values():
        assert font["/Subtype"] == "/TrueType"
        # Embedded: the descriptor carries the font program itself.
        descriptor = cast(DictionaryObject, font["/FontDescriptor"].get_object())
        assert "/FontFile2" in descriptor
    assert {name.split("+", 1)[1] for name in _drawn_fonts(pdf)} <= faces


def test_user_text_cannot_inject_html() -> None:
    hostile = '<script>alert("x")</script><b>kalın</b><img src="/etc/passwd"/> & Ş'
    assert escape(hostile) == (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;b&gt;kalın&lt;/b&gt;"
        "&lt;img src=&quot;/etc/passwd&quot;/&gt; &amp; Ş"
    )
    assert escape("a\x00b\x1bc") == "abc"  # control characters are dropped, not rendered

    body = f"<p>{escape(hostile)}</p>" + table_html(
        ["Marka", "Model", "Adet"], [(hostile, "<i>m</i>", 1)]
    )
    pdf = render_pdf_sync(_document(body, title="<h1>Başlık</h1>"))

    text = _pages_text(pdf)[0]
    lines = [line.strip() for line in text.splitlines()]
    assert hostile in lines  # the paragraph, character for character
    assert "<h1>Başlık</h1>" in lines  # the escaped title in the header
    assert "<i>m</i>" in lines
    # Interpreted, <b> would draw in the bold face and <img> would have been fetched (and
    # refused, raising). Rendered bare, without the layout's bold header: regular face only.
    assert _drawn_fonts(render_pdf_sync(f"<p>{escape(hostile)}</p>")) == {"/AAAAAA+DejaVuSans"}


def test_every_page_is_numbered_and_keeps_header_and_table_head() -> None:
    rows = [(f"Marka {i} Şğ", f"Model İ-{i}", i * 100) for i in range(150)]
    pdf = render_pdf_sync(_document(table_html(["Marka", "Model", "Adet"], rows, numeric={2})))

    pages = _pages_text(pdf)
    assert len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        lines = [line.strip() for line in text.splitlines()]
        assert f"Sayfa {number} / {len(pages)}" in lines
        assert "BİLGİ TEKNOLOJİLERİ VE HABERLEŞME KURUMU" in lines
        assert "Marka" in lines  # the table head repeats on each page
    everything = "\n".join(pages)
    for brand, model, _ in rows:
        assert brand in everything and model in everything


async def test_concurrent_async_renders_are_all_valid() -> None:
    # Four documents at once, each with its own marker, so a mix-up between renders shows.
    documents = [
        _document(f"<p>Belge {n}: {escape(TURKISH_LINE)}</p>" + table_html(["Marka"], [[f"Ş{n}"]]))
        for n in range(4)
    ]
    pdfs = await asyncio.gather(*(render_pdf(html) for html in documents))

    for n, pdf in enumerate(pdfs):
        assert pdf.startswith(b"%PDF-")
        (text,) = _pages_text(pdf)
        assert f"Belge {n}: {TURKISH_LINE}" in text
        assert f"Ş{n}" in text
        assert _drawn_fonts(pdf) <= {"/AAAAAA+DejaVuSans", "/AAAAAA+DejaVuSans-Bold"}


def test_concurrent_sync_renders_from_threads_are_all_valid() -> None:
    documents = [_document(f"<p>İş parçacığı {n} ğ</p>") for n in range(4)]
    with ThreadPoolExecutor(max_workers=4) as threads:
        pdfs = list(threads.map(render_pdf_sync, documents))
    for n, pdf in enumerate(pdfs):
        assert f"İş parçacığı {n} ğ" in _pages_text(pdf)[0]


def test_a_glyph_no_font_has_raises_instead_of_drawing_a_box() -> None:
    with pytest.raises(PdfRenderError) as caught:
        render_pdf_sync("<p>Marka: 小米</p>")
    assert any("U+5C0F" in problem for problem in caught.value.problems)


def test_files_outside_the_font_directory_and_the_network_are_refused() -> None:
    with pytest.raises(PdfRenderError, match="outside the directories"):
        render_pdf_sync('<p>x</p><img src="/etc/hostname"/>')
    with pytest.raises(PdfRenderError, match="remote resources are not allowed"):
        render_pdf_sync('<p>x</p><img src="http://169.254.169.254/latest/meta-data"/>')


async def test_problems_in_a_worker_arrive_as_pdf_render_error() -> None:
    with pytest.raises(PdfRenderError) as caught:
        await render_pdf("<table></table>")
    assert any("<table> is empty" in problem for problem in caught.value.problems)
    # The pool survives a failed document.
    assert (await render_pdf("<p>ğ</p>")).startswith(b"%PDF-")


def test_helpers() -> None:
    assert upper_tr("Bilgi ışık iletişim") == "BİLGİ IŞIK İLETİŞİM"
    assert format_date(ISSUED_AT) == "05.03.2026"
    assert format_date(datetime(2026, 3, 4, 22, 30)) == "05.03.2026"  # naive = UTC
    assert format_date(datetime(2026, 3, 4, 23, 0, tzinfo=timezone(timedelta(hours=3)))) == (
        "04.03.2026"
    )
    assert format_count(1234567) == "1.234.567"
    assert format_count(999) == "999"

    empty = table_html(["Marka", "Adet"], [], numeric={1})
    assert "Kayıt bulunmamaktadır." in empty and 'colspan="2"' in empty
    assert "Kayıt bulunmamaktadır." in _pages_text(render_pdf_sync(_document(empty)))[0]
    with pytest.raises(ValueError, match="cells"):
        table_html(["Marka", "Adet"], [("tek",)])
    with pytest.raises(ValueError, match="CSS width"):
        table_html(["Marka"], [], widths=["1cm; color: red"])
    sized = table_html(["Marka", "Adet"], [("a", 1)], widths=["80%", "20%"])
    assert 'style="width: 80%"' in sized


def test_document_without_reference_has_no_number() -> None:
    html = render_document("Başvuru Formu", "<p>Taslak</p>", reference=None, issued_at=ISSUED_AT)
    text = _pages_text(render_pdf_sync(html))[0]
    assert "Sayı" not in text
    assert "Tarih: 05.03.2026" in text


def test_a_refused_font_fails_the_render(monkeypatch: pytest.MonkeyPatch) -> None:
    # The failure STACK.md warns about: the policy does not allow the font directory, and
    # xhtml2pdf quietly falls back to Helvetica. It must raise instead.
    from resolvers.documents import pdf as pdf_module

    monkeypatch.setattr(pdf_module, "_POLICY", replace(pdf_module._POLICY, extra_roots=()))
    with pytest.raises(PdfRenderError, match=r"DejaVuSans\.ttf"):
        render_pdf_sync("<p>ğ</p>")
