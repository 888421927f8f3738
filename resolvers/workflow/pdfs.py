"""The PDFs of the firm workflow, in Turkish: the application document (Ek-1 petition), the
fee notice, the import permit and the customs cover letter.

Each `*_html` function is pure (data in, HTML out, every value escaped); `issue` renders one
in the PDF worker pool and stores it as the application's generated document, owned by the
firm, so `GET /files/{id}` serves it to the firm and staff only. What the Kurum issues (the
fee notice, the permit, the cover letter it prepares for the firm) carries a `DocumentSeal`
and is signed by the Kurum (`resolvers.documents.issuing`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from models import clock
from models.accounts import Firm
from models.applications import Application
from models.countries import country_name_tr
from models.documents import ApplicationDocument, DocumentKind, IssuedKind
from models.fees import format_lira
from models.files import StoredFile
from models.labels import label
from models.progress import SignatureMethod
from models.workflow import ApplicationKind, clears_customs
from resolvers.actor import Actor
from resolvers.applications.declarations import DeclaredLine
from resolvers.documents import (
    escape,
    format_count,
    format_date,
    render_document,
    render_pdf,
    table_html,
    upper_tr,
)
from resolvers.documents.issuing import PreparedSeal, issue_signed, store_generated
from resolvers.documents.layout import DEFAULT_ISSUER, DocumentSeal, signature_block
from resolvers.settings import get_settings
from resolvers.workflow.common import DeviceGroupCount, format_day, reference

ADDRESSEE = "Tüketici ile İlişkiler Müdürlüğüne"
GROUP_HEADERS = ("MARKA", "MODEL", "ADET", "IMEI ADEDİ")


@dataclass(frozen=True, slots=True)
class CustomsFileInfo:
    name: str
    size: int
    sha256: str


def _groups_table(groups: list[DeviceGroupCount]) -> str:
    rows: list[tuple[object, ...]] = [(g.brand, g.model, g.devices, g.imeis) for g in groups]
    rows.append(("TOPLAM", "", sum(g.devices for g in groups), sum(g.imeis for g in groups)))
    return table_html(GROUP_HEADERS, rows, numeric=(2, 3), widths=("30%", "36%", "14%", "20%"))


DECLARED_HEADERS = ("MARKA", "MODEL", "ADET")


def _declared_table(declared: Sequence[DeclaredLine]) -> str:
    """What the firm declared (Ek-1's MARKA / MODEL / ADET, art. 8(2)(ç)-(d))."""
    if not declared:
        return ""
    rows: list[tuple[object, ...]] = [(d.brand, d.model, d.count) for d in declared]
    rows.append(("TOPLAM", "", sum(d.count for d in declared)))
    return "<p><b>Beyan edilen cihazlar</b> (Tebliğ madde 8(2)):</p>" + table_html(
        DECLARED_HEADERS, rows, numeric=(2,), widths=("35%", "45%", "20%")
    )


def _contact_lines(firm: Firm) -> str:
    """The firm's contact details as Ek-1 wants them ("iletişim bilgileri mutlaka yer
    almalı"): name, tax number, address, phone, e-mail; what is not on file shows as —."""
    return (
        f"{escape(firm.name)}<br/>Vergi No: {escape(firm.tax_number)}<br/>"
        f"Adres: {escape(firm.address or '—')}<br/>Telefon: {escape(firm.phone or '—')}<br/>"
        f"E-posta: {escape(firm.contact_email)}"
    )


def _firm_block(firm: Firm) -> str:
    return f"<p><b>Firma</b> (iletişim bilgileri)<br/>{_contact_lines(firm)}</p>"


DOTS = "...................................."


def _signatory_table(firm: Firm, method: SignatureMethod) -> str:
    """Ek-1's foot: the firm's stamp box with its contact details beside the authorised
    signatory's name, title (unvan) and signature."""
    electronic = method == SignatureMethod.E_SIGNATURE
    unnamed = "elektronik imza sertifikasındaki kişi" if electronic else DOTS
    name = escape(firm.signatory_name) if firm.signatory_name else unnamed
    title = escape(firm.signatory_title) if firm.signatory_title else DOTS
    if electronic:
        sign = "İmza: bu belge firma yetkilisince elektronik imza ile imzalanır."
    else:
        sign = (
            f"İmza: {DOTS}<br/><br/>Islak imzalı ve kaşeli nüshanın her sayfası Kurum arşivine "
            "teslim edilir."
        )
    # Blank lines under the details leave room for the stamp: a fixed cell height would make
    # xhtml2pdf shrink the taller signatory cell beside it to fit the row.
    return (
        '<table class="imza"><tr>'
        '<td class="kutu" style="width: 50%"><b>Firma Kaşesi</b> (iletişim bilgileri)<br/>'
        f"{_contact_lines(firm)}<br/><br/><br/></td>"
        '<td style="width: 4%">&#160;</td>'
        '<td style="width: 46%"><b>Firma Yetkilisi</b><br/>'
        f"Adı ve Soyadı: {name}<br/>Unvanı: {title}<br/><br/>{sign}</td>"
        "</tr></table>"
    )


def _subject_sentence(application: Application, devices: int) -> str:
    """The Ek-1 sentence, worded for imports and for manufacture."""
    count = f"<b>{format_count(devices)}</b>"
    if clears_customs(application.kind, application.production_date):
        return (
            f"{escape(format_day(application.import_date))} tarihinde "
            f"{escape(application.customs_declaration_no or '—')} numaralı gümrük "
            f"beyannamesi ile ithalatı gerçekleştirilen toplam {count} adet cihaza ait IMEI "
            "numaralarının kayıt altına alınması hususunda gereğini arz ederim."
        )
    return (
        f"{escape(format_day(application.production_date))} tarihinde imalatı gerçekleştirilen "
        f"toplam {count} adet cihaza ait IMEI numaralarının kayıt altına alınması hususunda "
        "gereğini arz ederim."
    )


def _kind_note(application: Application) -> str:
    if application.kind == ApplicationKind.TEST:
        return (
            "<p>Cihazlar test/numune cihazıdır; bu husus gümrük beyannamesinde belirtilmiştir "
            "(Tebliğ madde 12(3)).</p>"
        )
    if application.kind in (ApplicationKind.MAINBOARD, ApplicationKind.SWAP):
        return (
            f"<p>Başvuru türü: {escape(label(application.kind))}. Bu IMEI numaraları, yerine "
            "geçtikleri cihazlar Kuruma bildirilip beyaz listeden çıkarılıncaya kadar beyaz "
            "listeye alınmaz (Tebliğ madde 11(2)).</p>"
        )
    return ""


def application_form_html(
    application: Application,
    firm: Firm,
    groups: list[DeviceGroupCount],
    method: SignatureMethod,
    issued_at: datetime,
    declared: Sequence[DeclaredLine] = (),
) -> str:
    """The application document the firm signs (the Ek-1 petition, for passing devices,
    with the firm's own declared table)."""
    devices = sum(g.devices for g in groups)
    country = country_name_tr(application.origin_country) or "—"
    body = (
        f"<p><b>{escape(upper_tr(DEFAULT_ISSUER))}</b><br/>"
        f"<b>{escape(upper_tr(ADDRESSEE))}</b></p>"
        f"<p>{_subject_sentence(application, devices)} {format_date(issued_at)}</p>"
        f"<p>İTHALAT TAKİP NUMARASI: <b>{escape(reference(application))}</b></p>"
        f"{_groups_table(groups)}"
        f"{_declared_table(declared)}"
        f"{_kind_note(application)}"
        f"<p>Başvuru türü: {escape(label(application.kind))}; fatura: "
        f"{escape(application.invoice_no or '—')} ({escape(format_day(application.invoice_date))})"
        f"; menşe ülke: {escape(country)}.</p>"
        f"{_signatory_table(firm, method)}"
    )
    return render_document(
        "Kayıt Altına Alma Başvurusu (Ek-1)",
        body,
        reference=reference(application),
        issued_at=issued_at,
        issuer=firm.name,
    )


def fee_notice_html(
    application: Application,
    firm: Firm,
    groups: list[DeviceGroupCount],
    number: str,
    year: int,
    per_imei_kurus: int,
    amount_kurus: int,
    issued_at: datetime,
    due_at: datetime,
    seal: DocumentSeal,
    credited_kurus: int = 0,
) -> str:
    imeis = sum(g.imeis for g in groups)
    # Pre-paid receipts the archive confirmed (art. 8(2)(f)) are set off against the fee.
    credited = (
        f"<p>Başvuruyla birlikte ödenen (onaylı dekont): <b>{escape(format_lira(credited_kurus))}"
        f"</b><br/>Kalan ödenecek tutar: <b>"
        f"{escape(format_lira(max(0, amount_kurus - credited_kurus)))}</b></p>"
        if credited_kurus
        else ""
    )
    body = (
        f"<p>Sayın {escape(firm.name)},</p>"
        f"<p>{escape(reference(application))} numaralı başvurunuz incelenmiş ve uygun "
        "bulunmuştur. Teknik kontrollerden geçen cihazlarınıza ait IMEI numaralarının kayıt "
        "altına alınması için aşağıdaki kayıt ücretinin ödenmesi gerekmektedir (Tebliğ "
        "madde 15).</p>"
        f"{_groups_table(groups)}"
        f"<p>IMEI başına kayıt ücreti ({year}): <b>{escape(format_lira(per_imei_kurus))}</b><br/>"
        f"Kayıt ücretine tabi IMEI adedi: <b>{format_count(imeis)}</b><br/>"
        f"Ödenecek toplam tutar: <b>{escape(format_lira(amount_kurus))}</b></p>"
        f"{credited}"
        f"<p>Son ödeme tarihi: <b>{format_date(due_at)}</b><br/>"
        f"Ödemede belirtilecek bildirim numarası: <b>{escape(number)}</b></p>"
        "<p>Ödeme; sanal POS üzerinden çevrimiçi, Kurumda kredi ya da banka kartıyla veya "
        "aşağıdaki Kurum hesaplarına banka havalesiyle yapılabilir. Havale dekontunda "
        f'"Kayıt Ücreti" ibaresi ve {escape(number)} bildirim numarası yer almalıdır. Ödeme ve '
        "evrak takibi için Kurum arşiv bölümü ile iletişime geçiniz.</p>"
        f"{_bank_accounts_table()}"
        f"{signature_block(seal)}"
    )
    return render_document(
        "Kayıt Ücreti Bildirimi", body, reference=number, issued_at=issued_at, seal=seal
    )


def _bank_accounts_table() -> str:
    """The Kurum's accounts for a bank transfer (MCKS_BANK_ACCOUNTS: "Bank: IBAN")."""
    rows = []
    for entry in get_settings().bank_accounts:
        bank, _, iban = entry.rpartition(":")
        rows.append((bank.strip() or "—", iban.strip()))
    return table_html(
        ("BANKA", "IBAN"),
        rows,
        widths=("45%", "55%"),
        empty_text="Havale için Kurum arşiv bölümünden hesap bilgisi alınız.",
    )


def permit_title(application: Application) -> str:
    if clears_customs(application.kind, application.production_date):
        return "İthal İzin Belgesi"
    return "MCKS Kayıt Belgesi"


def permit_html(
    application: Application,
    firm: Firm,
    groups: list[DeviceGroupCount],
    number: str,
    held: bool,
    customs_due_at: datetime | None,
    issued_at: datetime,
    seal: DocumentSeal,
) -> str:
    imeis = sum(g.imeis for g in groups)
    devices = sum(g.devices for g in groups)
    if held:
        outcome = (
            f"toplam {format_count(devices)} adet cihaza ait {format_count(imeis)} IMEI numarası "
            "kayıt altına alınmış; bu numaralar yerine geçtikleri cihazlar bildirilinceye kadar "
            "beyaz listeye alınmak üzere bekletilmektedir (Tebliğ madde 11(2))."
        )
    else:
        outcome = (
            f"toplam {format_count(devices)} adet cihaza ait {format_count(imeis)} IMEI numarası "
            f"{format_date(issued_at)} tarihinde MCKS beyaz listesine kaydedilmiştir."
        )
    if clears_customs(application.kind, application.production_date):
        source = (
            f"{escape(format_day(application.import_date))} tarihli ve "
            f"{escape(application.customs_declaration_no or '—')} sayılı gümrük beyannamesi "
            "kapsamında ithal edilen"
        )
    else:
        source = f"{escape(format_day(application.production_date))} tarihinde imal edilen"
    customs = ""
    if customs_due_at is not None:
        customs = (
            "<p>Cihazlar gümrüklendikten sonra Genel Tahsilat Makbuzu ve TİB 1 beyannamesinin "
            f"birer fotokopisi en geç <b>{format_date(customs_due_at)}</b> tarihine kadar "
            "Kuruma iletilmelidir.</p>"
        )
    body = (
        f"<p>{escape(firm.name)} (Vergi No: {escape(firm.tax_number)}) firmasının "
        f"{escape(reference(application))} numaralı başvurusu ile {source} {outcome}</p>"
        f"{_groups_table(groups)}{_kind_note(application)}{customs}"
        f"{signature_block(seal)}"
    )
    return render_document(
        permit_title(application), body, reference=number, issued_at=issued_at, seal=seal
    )


def cover_letter_html(
    application: Application,
    firm: Firm,
    permit_number: str,
    permit_issued_at: datetime,
    customs_file: CustomsFileInfo,
    issued_at: datetime,
    seal: DocumentSeal,
) -> str:
    """The firm's cover letter for its customs documents (guide §6.1). The documents are a
    separate PDF; the letter names it by its SHA-256, so the firm's signature on the letter
    also binds the exact file it sent. The Kurum signs it first, as the letter MCKS prepared
    for this permit (its code in the footer); the firm then countersigns it."""
    attachment = table_html(
        ("EK", "DOSYA", "BOYUT", "SHA-256"),
        [
            (
                "1",
                customs_file.name,
                f"{format_count(customs_file.size)} bayt",
                customs_file.sha256,
            )
        ],
        widths=("6%", "30%", "16%", "48%"),
    )
    body = (
        f"<p><b>{escape(upper_tr(DEFAULT_ISSUER))}</b><br/>"
        f"<b>{escape(upper_tr(ADDRESSEE))}</b></p>"
        f"<p>Kurumunuzca düzenlenen {format_date(permit_issued_at)} tarihli ve "
        f"{escape(permit_number)} sayılı ithal izin belgesine istinaden "
        f"{escape(application.customs_declaration_no or '—')} numaralı gümrük beyannamesi ile "
        "gümrüklenen cihazlara ait Genel Tahsilat Makbuzu ve TİB 1 beyannamesi ekte "
        f"sunulmuştur. Gereğini arz ederim. {format_date(issued_at)}</p>"
        f"<p>İTHALAT TAKİP NUMARASI: <b>{escape(reference(application))}</b></p>"
        f"<h3>Ekler</h3>{attachment}"
        f"{_firm_block(firm)}"
        "<p>Firma Yetkilisi: bu yazı firma yetkilisince elektronik imza ile imzalanır.</p>"
    )
    return render_document(
        "Gümrük Belgesi Kapak Yazısı",
        body,
        reference=reference(application),
        issued_at=issued_at,
        issuer=firm.name,
        seal=seal,
    )


FILE_NAMES = {
    DocumentKind.APPLICATION_FORM: "basvuru",
    DocumentKind.FEE_NOTICE: "ucret-bildirimi",
    DocumentKind.PERMIT: "ithal-izni",
    DocumentKind.COVER_LETTER: "kapak-yazisi",
}


#: The generated documents the Kurum signs, as the register of issued documents names them.
SIGNED_KINDS = {
    DocumentKind.FEE_NOTICE: IssuedKind.FEE_NOTICE,
    DocumentKind.PERMIT: IssuedKind.PERMIT,
    DocumentKind.COVER_LETTER: IssuedKind.COVER_LETTER,
}


async def issue(
    actor: Actor,
    application: Application,
    kind: DocumentKind,
    html: str,
    sealed: tuple[PreparedSeal, str] | None = None,
) -> tuple[ApplicationDocument, StoredFile]:
    """Render and store a generated document (call inside the operation's transaction).
    `sealed` (the prepared seal the HTML carries, and the document's number) has the Kurum
    sign it; the application form goes out unsigned, for the firm to sign."""
    file_name = f"{FILE_NAMES[kind]}-{reference(application)}.pdf"
    if sealed is not None:
        prepared, number = sealed
        stored = await issue_signed(
            actor,
            prepared,
            SIGNED_KINDS[kind],
            number,
            html,
            firm_id=application.firm_id,
            file_name=file_name,
            application_id=application.id,
        )
    else:
        pdf = await render_pdf(html)
        stored = await store_generated(actor, pdf, firm_id=application.firm_id, file_name=file_name)
    document = await ApplicationDocument.create(
        application_id=application.id,
        kind=kind,
        file_id=stored.id,
        created_by=actor.name,
        created_at=clock.now(),
    )
    return document, stored
