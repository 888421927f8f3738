"""The decisions as PDF letters in Turkish: a replacement report applied (art. 11, 16) and an
IMEI correction approved or rejected (art. 13).

The `*_html` functions are pure (data in, HTML out, every value escaped); `issue` renders a
letter in the PDF worker pool, has the Kurum sign it (its verification code and signatory are
printed on it) and stores it owned by the firm, so `GET /files/{id}` serves it to the firm and
staff only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from models.accounts import Firm
from models.documents import IssuedKind
from models.files import StoredFile
from resolvers.actor import Actor
from resolvers.documents import (
    escape,
    format_count,
    format_date,
    render_document,
    table_html,
)
from resolvers.documents.issuing import PreparedSeal, issue_signed, prepare_seal

__all__ = ["issue", "prepare_seal"]
from resolvers.documents.layout import DocumentSeal, signature_block

COMMUNIQUE: Final = (
    "Elektronik Kimlik Bilgisini Haiz Cihazların Kayıt Altına Alınmasına Dair Tebliğ"
)
# A letter lists at most this many pairs; the rest are in the Ek-3 export and in MCKS.
MAX_LETTER_ROWS: Final = 500
PAIR_WIDTHS: Final = ("24%", "24%", "22%", "30%")


def _pairs_table(headers: tuple[str, str], pairs: Sequence[tuple[str, str, str, str]]) -> str:
    shown = pairs[:MAX_LETTER_ROWS]
    table = table_html((*headers, "MARKA", "MODEL"), shown, widths=PAIR_WIDTHS)
    if len(pairs) > len(shown):
        table += (
            f"<p>Toplam {format_count(len(pairs))} çiftin ilk {format_count(len(shown))} "
            "tanesi gösterilmiştir; tam liste MCKS'de ve Ek-3 dökümündedir.</p>"
        )
    return table


def replacement_letter_html(
    firm: Firm,
    number: str,
    reported_at: datetime,
    from_file: bool,
    pairs: Sequence[tuple[str, str, str, str]],
    invalid_lines: int,
    issued_at: datetime,
    seal: DocumentSeal,
) -> str:
    """`pairs`: (old IMEI, new IMEI, brand, model) of every applied pair."""
    source = "Ek-3 dosyası ile yaptığınız" if from_file else "MCKS üzerinden yaptığınız"
    skipped = ""
    if invalid_lines:
        skipped = (
            f"<p>Bildiriminizin {format_count(invalid_lines)} satırı kontrollerden geçmediği "
            "için uygulanmamıştır; bu satırlar ve nedenleri MCKS'de bildiriminizin "
            "ayrıntısında yer almaktadır.</p>"
        )
    body = (
        f"<p>Sayın {escape(firm.name)} (Vergi No: {escape(firm.tax_number)}),</p>"
        f"<p>{format_date(reported_at)} tarihinde {source} anakart/takas cihaz değişim "
        f"bildirimi, {escape(COMMUNIQUE)}'in 11 inci ve 16 ncı maddeleri uyarınca işleme "
        f"alınmıştır. Aşağıdaki {format_count(len(pairs))} eski IMEI numarası beyaz listeden "
        "çıkarılmış, yerlerine bildirilen yeni IMEI numaraları beyaz listeye kaydedilmiştir. "
        "Değişiklik mobil işletmecilere MCKS değişiklik akışıyla iletilmiştir.</p>"
        f"{_pairs_table(('ESKİ IMEI', 'YENİ IMEI'), pairs)}"
        f"{skipped}"
        "<p>Değişim bildirimleri yalnızca cihazların ithalatçısı ya da imalatçısı tarafından "
        "yapılabilir (Tebliğ madde 11(2)).</p>"
        f"{signature_block(seal)}"
    )
    return render_document(
        "Anakart ve Takas Cihaz Değişim Bildirimi Sonucu",
        body,
        reference=number,
        issued_at=issued_at,
        seal=seal,
    )


def correction_letter_html(
    firm: Firm,
    number: str,
    application_reference: str,
    requested_at: datetime,
    pairs: Sequence[tuple[str, str, str, str]],
    rejection_reason: str | None,
    issued_at: datetime,
    seal: DocumentSeal,
) -> str:
    """`pairs`: (wrong IMEI, right IMEI, brand, model); a reason means the request was
    rejected."""
    intro = (
        f"<p>Sayın {escape(firm.name)} (Vergi No: {escape(firm.tax_number)}),</p>"
        f"<p>{escape(application_reference)} numaralı başvurunuza ilişkin "
        f"{format_date(requested_at)} tarihli IMEI düzeltme talebiniz {escape(COMMUNIQUE)}'in "
        "13 üncü maddesi uyarınca incelenmiştir.</p>"
    )
    if rejection_reason is None:
        outcome = (
            "<p>Talebiniz <b>kabul edilmiştir</b>. Hatalı bildirilen IMEI numaraları beyaz "
            "listeden çıkarılmış, doğru IMEI numaraları beyaz listeye kaydedilmiştir. "
            "Değişiklik mobil işletmecilere MCKS değişiklik akışıyla iletilmiştir.</p>"
        )
    else:
        outcome = (
            "<p>Talebiniz aşağıdaki gerekçeyle <b>reddedilmiştir</b>; beyaz listede bir "
            "değişiklik yapılmamıştır.</p>"
            f"<p><b>Gerekçe:</b> {escape(rejection_reason)}</p>"
            "<p>Gerekçede belirtilen eksiklik giderilerek yeni bir düzeltme talebinde "
            "bulunulabilir.</p>"
        )
    body = (
        intro + outcome + _pairs_table(("HATALI IMEI", "DOĞRU IMEI"), pairs) + signature_block(seal)
    )
    return render_document(
        "IMEI Düzeltme Talebi Sonucu", body, reference=number, issued_at=issued_at, seal=seal
    )


async def issue(
    actor: Actor,
    prepared: PreparedSeal,
    kind: IssuedKind,
    number: str,
    firm_id: int,
    file_name: str,
    html: str,
) -> StoredFile:
    """Render, sign and store a letter for the firm (call inside the decision's
    transaction)."""
    return await issue_signed(
        actor, prepared, kind, number, html, firm_id=firm_id, file_name=file_name
    )
