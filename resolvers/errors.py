"""Typed domain errors and the one catalogue of their codes and messages (Turkish, English).

Use cases raise `DomainError(code, field=..., **params)`; the API layer turns it into a
payload error in the caller's language. Codes are what clients switch on: never rename one.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeVar

T = TypeVar("T")


class ErrorCode(StrEnum):
    # Access
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    PASSWORD_CHANGE_REQUIRED = "PASSWORD_CHANGE_REQUIRED"
    IP_NOT_ALLOWED = "IP_NOT_ALLOWED"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    # Kept for clients that know them; login no longer answers either (it throttles with
    # RATE_LIMITED and refuses every cause as INVALID_CREDENTIALS).
    ACCOUNT_LOCKED = "ACCOUNT_LOCKED"
    ACCOUNT_DISABLED = "ACCOUNT_DISABLED"
    WEAK_PASSWORD = "WEAK_PASSWORD"
    PASSWORD_TOO_GUESSABLE = "PASSWORD_TOO_GUESSABLE"
    PASSWORD_CONTAINS_PERSONAL_DATA = "PASSWORD_CONTAINS_PERSONAL_DATA"
    PASSWORD_REUSED = "PASSWORD_REUSED"
    # A document with more than one login or changePassword field (aliases multiply guesses).
    ONE_LOGIN_PER_REQUEST = "ONE_LOGIN_PER_REQUEST"
    # Generic input
    NOT_FOUND = "NOT_FOUND"
    INVALID_INPUT = "INVALID_INPUT"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    INVALID_STATE = "INVALID_STATE"
    RATE_LIMITED = "RATE_LIMITED"
    # The request itself (HTTP or WebSocket), refused before GraphQL runs
    BAD_REQUEST = "BAD_REQUEST"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    # A file's download link: altered, of another session, or past its time
    DOWNLOAD_LINK_INVALID = "DOWNLOAD_LINK_INVALID"
    DOWNLOAD_LINK_EXPIRED = "DOWNLOAD_LINK_EXPIRED"
    # TAC registry
    TAC_RETIRE_LIMIT_EXCEEDED = "TAC_RETIRE_LIMIT_EXCEEDED"
    # Firm application workflow
    NO_PASSING_DEVICES = "NO_PASSING_DEVICES"
    SIGNATURE_MISSING = "SIGNATURE_MISSING"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    SIGNATURE_UNTRUSTED = "SIGNATURE_UNTRUSTED"
    DOCUMENT_MISMATCH = "DOCUMENT_MISMATCH"
    SIGNER_NOT_REGISTERED = "SIGNER_NOT_REGISTERED"
    SIGNER_OF_ANOTHER_FIRM = "SIGNER_OF_ANOTHER_FIRM"
    REVIEW_TAKEN = "REVIEW_TAKEN"
    FEE_NOT_DEFINED = "FEE_NOT_DEFINED"
    PAYMENT_AMOUNT_MISMATCH = "PAYMENT_AMOUNT_MISMATCH"
    RECEIPT_ALREADY_USED = "RECEIPT_ALREADY_USED"
    PAYMENT_PROVIDER_UNAVAILABLE = "PAYMENT_PROVIDER_UNAVAILABLE"
    DECLARATION_INCONSISTENT = "DECLARATION_INCONSISTENT"
    APPLICATION_KIND_NOT_ALLOWED = "APPLICATION_KIND_NOT_ALLOWED"
    # Individual registrations
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    DEVICE_LIMIT_EXCEEDED = "DEVICE_LIMIT_EXCEEDED"
    REGISTRATION_PERIOD_OVER = "REGISTRATION_PERIOD_OVER"
    # After registration: replacements, corrections, pairing
    IMEI_NOT_REGISTERED = "IMEI_NOT_REGISTERED"
    IMEI_OF_ANOTHER_FIRM = "IMEI_OF_ANOTHER_FIRM"
    IMEI_NOT_HELD = "IMEI_NOT_HELD"
    IMEI_ALREADY_USED = "IMEI_ALREADY_USED"
    REPORT_OUTDATED = "REPORT_OUTDATED"
    CORRECTION_CHECKS_FAILED = "CORRECTION_CHECKS_FAILED"
    IMEI_NOT_PAIRABLE = "IMEI_NOT_PAIRABLE"
    ALREADY_PAIRED = "ALREADY_PAIRED"


MESSAGES: dict[ErrorCode, tuple[str, str]] = {
    ErrorCode.UNAUTHENTICATED: (
        "Oturum açmanız gerekiyor ya da oturumunuzun süresi doldu.",
        "You must log in, or your session has expired.",
    ),
    ErrorCode.FORBIDDEN: (
        "Bu işlem için yetkiniz yok.",
        "You are not allowed to do this.",
    ),
    ErrorCode.PASSWORD_CHANGE_REQUIRED: (
        "Devam etmeden önce şifrenizi değiştirmelisiniz.",
        "You must change your password before you continue.",
    ),
    ErrorCode.IP_NOT_ALLOWED: (
        "Bu hesaba {ip} adresinden erişilemez; yalnızca tanımlı IP adreslerinden erişilebilir.",
        "This account cannot be used from {ip}; only from its registered IP addresses.",
    ),
    ErrorCode.INVALID_CREDENTIALS: (
        "Kullanıcı adı ya da şifre hatalı.",
        "Wrong username or password.",
    ),
    ErrorCode.ACCOUNT_LOCKED: (
        "Çok sayıda hatalı giriş nedeniyle hesap {until} saatine kadar kilitlendi.",
        "Too many failed logins: the account is locked until {until}.",
    ),
    ErrorCode.ACCOUNT_DISABLED: (
        "Bu hesap devre dışı bırakılmış.",
        "This account is disabled.",
    ),
    ErrorCode.WEAK_PASSWORD: (
        "Şifre en az {min_length} karakter olmalı; harf ve rakam içermeli.",
        "The password must be at least {min_length} characters and contain letters and digits.",
    ),
    ErrorCode.PASSWORD_TOO_GUESSABLE: (
        "Bu şifre kolay tahmin edilebilir: yaygın bir şifreye, sözcüğe, tarihe ya da klavye "
        "dizisine benziyor. Birkaç sıradan olmayan sözcükten oluşan daha uzun bir şifre seçin.",
        "This password is easy to guess: it looks like a common password, word, date or "
        "keyboard pattern. Choose a longer one made of a few uncommon words.",
    ),
    ErrorCode.PASSWORD_CONTAINS_PERSONAL_DATA: (
        "Şifre kullanıcı adınızı, adınızı, soyadınızı ya da e-posta adresinizi içeremez.",
        "The password must not contain your username, name or e-mail address.",
    ),
    ErrorCode.PASSWORD_REUSED: (
        "Yeni şifre şu anki şifrenizden ve son {count} şifrenizden farklı olmalı.",
        "The new password must differ from your current one and your last {count}.",
    ),
    ErrorCode.ONE_LOGIN_PER_REQUEST: (
        "Bir istekte login ve changePassword alanlarının her biri en fazla bir kez "
        "kullanılabilir (takma adlar da sayılır).",
        "A request may use each of login and changePassword at most once (aliases count).",
    ),
    ErrorCode.DOWNLOAD_LINK_INVALID: (
        "İndirme bağlantısı geçersiz: {reason}. Dosyayı görüntülediğiniz yerden yeni bir "
        "bağlantı alın.",
        "The download link is not valid: {reason}. Get a new link where you saw the file.",
    ),
    ErrorCode.DOWNLOAD_LINK_EXPIRED: (
        "İndirme bağlantısının süresi doldu. Dosyayı görüntülediğiniz yerden yeni bir "
        "bağlantı alın.",
        "The download link has expired. Get a new link where you saw the file.",
    ),
    ErrorCode.NOT_FOUND: (
        "{what} bulunamadı.",
        "{what} not found.",
    ),
    ErrorCode.INVALID_INPUT: (
        "Geçersiz değer: {reason}",
        "Invalid value: {reason}",
    ),
    ErrorCode.ALREADY_EXISTS: (
        "{what} zaten kayıtlı: {value}",
        "{what} already exists: {value}",
    ),
    ErrorCode.INVALID_STATE: (
        "Bu işlem şu anki durumda yapılamaz: {reason}",
        "This cannot be done in the current state: {reason}",
    ),
    ErrorCode.RATE_LIMITED: (
        "Kısa sürede çok fazla istek ya da hatalı deneme yapıldı; lütfen {seconds} saniye "
        "sonra yeniden deneyin.",
        "Too many requests or failed attempts; please try again in {seconds} seconds.",
    ),
    ErrorCode.BAD_REQUEST: (
        "İstek okunamadı: {reason}.",
        "The request could not be read: {reason}.",
    ),
    ErrorCode.PAYLOAD_TOO_LARGE: (
        "İstek çok büyük: {reason}.",
        "The request is too large: {reason}.",
    ),
    ErrorCode.INTERNAL_ERROR: (
        "Beklenmeyen bir hata oluştu. Destek için istek numarası: {request_id}",
        "An unexpected error occurred. Request id for support: {request_id}",
    ),
    ErrorCode.SERVICE_UNAVAILABLE: (
        "Hizmet şu anda veritabanına ulaşamıyor; lütfen biraz sonra yeniden deneyin. "
        "İstek numarası: {request_id}",
        "The service cannot reach its database right now; please try again shortly. "
        "Request id: {request_id}",
    ),
    ErrorCode.TAC_RETIRE_LIMIT_EXCEEDED: (
        "Bu içe aktarma {active} etkin TAC kaydından {retiring} tanesini kullanımdan "
        "kaldıracaktı (%{percent}); izin verilen sınır %{limit}. Dosyanın eksiksiz olduğundan "
        "eminseniz zorlayarak (force) yeniden yükleyin.",
        "This import would retire {retiring} of {active} active TACs ({percent}%); the limit "
        "is {limit}%. If the file is complete, import it again with force.",
    ),
    ErrorCode.IDEMPOTENCY_CONFLICT: (
        "{reference} referansı daha önce farklı içerikli bir başvuru için kullanıldı; yeni bir "
        "başvuru için yeni bir referans verin.",
        "The reference {reference} was used before for a submission with other content; give "
        "a new submission a new reference.",
    ),
    ErrorCode.DEVICE_LIMIT_EXCEEDED: (
        "Sınır aşıldı: bir kişi adına {days} gün içinde en fazla {limit} cihaz kaydedilebilir; "
        "bu kişi adına bu süre içinde {count} cihaz kayıtlı.",
        "Limit reached: at most {limit} device(s) per person in {days} days; this person "
        "already has {count} registered in that period.",
    ),
    ErrorCode.REGISTRATION_PERIOD_OVER: (
        "Sınır aşıldı: cihaz ülkeye girişten sonraki {days} gün içinde kaydedilebilir; beyan "
        "edilen giriş tarihi {entry_date}.",
        "Limit reached: a device may be registered within {days} days of entering the "
        "country; the declared entry date is {entry_date}.",
    ),
    ErrorCode.NO_PASSING_DEVICES: (
        "Teknik kontrollerden geçen cihaz yok; başvuruya devam edilemez.",
        "No device passed the technical checks; the application cannot go on.",
    ),
    ErrorCode.SIGNATURE_MISSING: (
        "Yüklenen PDF elektronik imza içermiyor. Belgeyi e-imzanızla imzalayıp yeniden yükleyin.",
        "The uploaded PDF carries no electronic signature. Sign it with your e-signature and "
        "upload it again.",
    ),
    ErrorCode.SIGNATURE_INVALID: (
        "Elektronik imza doğrulanamadı: {reason}",
        "The electronic signature is not valid: {reason}",
    ),
    ErrorCode.SIGNATURE_UNTRUSTED: (
        "İmza sertifikası ({signer}) Kurumca tanınan bir elektronik sertifika hizmet "
        "sağlayıcısına bağlanamadı.",
        "The signing certificate ({signer}) does not chain to a certificate authority the "
        "regulator recognises.",
    ),
    ErrorCode.DOCUMENT_MISMATCH: (
        "Yüklenen dosya MCKS'den indirilen {what} değil. İndirdiğiniz belgeyi değiştirmeden "
        "imzalayıp yükleyin.",
        "The uploaded file is not the {what} downloaded from MCKS. Sign the downloaded "
        "document without changing it and upload it.",
    ),
    ErrorCode.SIGNER_NOT_REGISTERED: (
        "Belgeyi imzalayan sertifika ({signer}) firmanızın Kurum'a kayıtlı imza "
        "yetkililerinden birine ait değil. Belgeyi kayıtlı bir imza yetkilisi imzalamalı; "
        "yeni yetkili için Kurum'a başvurun (Tebliğ md. 8(1)).",
        "The certificate that signed the document ({signer}) is not one of your firm's "
        "signers registered with the regulator. A registered signer must sign it; apply to "
        "the regulator to register a new one (communiqué art. 8(1)).",
    ),
    ErrorCode.SIGNER_OF_ANOTHER_FIRM: (
        "Belgeyi imzalayan sertifika ({signer}) başka bir firmanın imza yetkilisi olarak "
        "kayıtlı. Firmanızın belgelerini yalnızca firmanızın kayıtlı imza yetkilileri "
        "imzalayabilir.",
        "The certificate that signed the document ({signer}) is registered as another "
        "firm's signer. Only your firm's registered signers may sign your firm's documents.",
    ),
    ErrorCode.REVIEW_TAKEN: (
        "Başvuru {reviewer} tarafından incelemeye alınmış.",
        "The application is being reviewed by {reviewer}.",
    ),
    ErrorCode.FEE_NOT_DEFINED: (
        "{year} yılı kayıt ücreti belirlenemiyor: {missing} yılı için ücret ya da yeniden "
        "değerleme oranı tanımlanmamış.",
        "The registration fee for {year} cannot be worked out: {missing} has neither a fee "
        "nor a revaluation rate.",
    ),
    ErrorCode.PAYMENT_AMOUNT_MISMATCH: (
        "Ödenen tutar ({paid}) ücret bildirimindeki tutarla ({due}) aynı olmalı.",
        "The amount paid ({paid}) must equal the fee notice's amount ({due}).",
    ),
    ErrorCode.RECEIPT_ALREADY_USED: (
        "{receipt} numaralı dekont {where} ödeme olarak kabul edildi; bir dekont yalnızca bir "
        "başvurunun ücretini karşılar.",
        "The receipt {receipt} was accepted as payment {where}; a receipt pays the fee of one "
        "application only.",
    ),
    ErrorCode.PAYMENT_PROVIDER_UNAVAILABLE: (
        "Sanal POS şu anda yanıt vermiyor ({reason}). Lütfen birkaç dakika sonra yeniden "
        "deneyin; yeniden denemek ikinci bir ödeme açmaz, kartınızdan ücret bir kez çekilir.",
        "The virtual POS is not answering right now ({reason}). Please try again in a few "
        "minutes; trying again opens no second payment, your card is charged once.",
    ),
    ErrorCode.DECLARATION_INCONSISTENT: (
        "Beyan edilen cihazlar cihaz listesiyle tutarsız (Tebliğ madde 10(3)): {details}",
        "The declared devices are inconsistent with the device list (art. 10(3)): {details}",
    ),
    ErrorCode.APPLICATION_KIND_NOT_ALLOWED: (
        "Firma türü {firm_kind}: {kind} başvurusu yapılamaz; yapılabilecek başvurular: {allowed}.",
        "The firm is registered as {firm_kind}: it cannot file a {kind} application; it "
        "may file: {allowed}.",
    ),
    ErrorCode.IMEI_NOT_REGISTERED: (
        "{imei} IMEI numarası beyaz listede kayıtlı değil.",
        "The IMEI {imei} is not on the whitelist.",
    ),
    ErrorCode.IMEI_OF_ANOTHER_FIRM: (
        "{imei} IMEI numarası firmanızca kaydedilmemiş; bu bildirimi yalnızca cihazı ithal "
        "eden ya da üreten firma yapabilir.",
        "The IMEI {imei} was not registered by your firm; only the firm that imported or "
        "made the device may report it.",
    ),
    ErrorCode.IMEI_NOT_HELD: (
        "{imei} IMEI numarası, firmanızın anakart ya da takas cihaz başvurularında beyaz "
        "listeye alınmayı bekleyen IMEI'ler arasında yok.",
        "The IMEI {imei} is not among the IMEIs of your firm's mainboard or swap-device "
        "applications waiting to enter the whitelist.",
    ),
    ErrorCode.IMEI_ALREADY_USED: (
        "{imei} IMEI numarası daha önce {old} yerine bildirildi; yeni IMEI bir kez kullanılır.",
        "The IMEI {imei} was already reported in place of {old}; a new IMEI is used once.",
    ),
    ErrorCode.REPORT_OUTDATED: (
        "Bildirim kontrol edildikten sonra {count} satır geçersiz hale geldi; hiçbir değişiklik "
        "uygulanmadı. Satırları yeniden inceleyip kararınızı tekrar verin.",
        "Since the report was checked, {count} line(s) became invalid; nothing was applied. "
        "Review the lines and decide again.",
    ),
    ErrorCode.CORRECTION_CHECKS_FAILED: (
        "Doğru IMEI {imei} teknik kontrollerden geçmedi: {reasons}.",
        "The right IMEI {imei} fails the technical checks: {reasons}.",
    ),
    ErrorCode.IMEI_NOT_PAIRABLE: (
        "{imei} IMEI numarası için açık bir klon şüphesi ya da Kurum işareti yok; yalnızca "
        "bunlar bir GSM numarasıyla eşleştirilebilir.",
        "The IMEI {imei} is neither suspected of being cloned nor flagged by the regulator; "
        "only such IMEIs are paired with a phone number.",
    ),
    ErrorCode.ALREADY_PAIRED: (
        "{imei} IMEI numarası zaten bir GSM numarasıyla eşleştirilmiş; eşleştirmeyi yalnızca "
        "Kurum değiştirebilir.",
        "The IMEI {imei} is already paired with a phone number; only the regulator may change "
        "a pairing.",
    ),
}


class DomainError(Exception):
    """An expected failure a caller can act on: a code, the field at fault, and parameters."""

    def __init__(self, code: ErrorCode, field: str | None = None, **params: Any) -> None:
        self.code = code
        self.field = field
        self.params = params
        super().__init__(self.message("en"))

    def message(self, lang: str = "tr") -> str:
        return render_message(self.code, lang, self.params)


class DomainErrors(Exception):
    """Several expected failures at once (e.g. everything an incomplete submission lacks)."""

    def __init__(self, errors: list[DomainError]) -> None:
        self.errors = errors
        super().__init__("; ".join(e.message("en") for e in errors))


def render_message(code: ErrorCode, lang: str, params: dict[str, Any]) -> str:
    tr, en = MESSAGES[code]
    template = en if lang == "en" else tr
    values = {
        key: (value.en if lang == "en" else value.tr) if isinstance(value, Bilingual) else value
        for key, value in params.items()
    }
    try:
        return template.format(**values)
    except (KeyError, IndexError):
        return template


class Bilingual:
    """A message parameter that has a Turkish and an English form."""

    __slots__ = ("en", "tr")

    def __init__(self, tr: str, en: str) -> None:
        self.tr, self.en = tr, en

    def __str__(self) -> str:
        return self.tr


def not_found(what_tr: str, what_en: str, field: str | None = None) -> DomainError:
    """A missing object, or one the actor may not see: the same answer, so nothing leaks."""
    return DomainError(ErrorCode.NOT_FOUND, field=field, what=Bilingual(what_tr, what_en))


def invalid(field: str, reason_tr: str, reason_en: str) -> DomainError:
    return DomainError(ErrorCode.INVALID_INPUT, field=field, reason=Bilingual(reason_tr, reason_en))


def invalid_state(reason_tr: str, reason_en: str) -> DomainError:
    return DomainError(ErrorCode.INVALID_STATE, reason=Bilingual(reason_tr, reason_en))


def already_exists(what_tr: str, what_en: str, value: str, field: str | None = None) -> DomainError:
    return DomainError(
        ErrorCode.ALREADY_EXISTS, field=field, what=Bilingual(what_tr, what_en), value=value
    )


class Problems:
    """Collects a use case's input errors, so a caller learns every one at once (each with
    its field) instead of one per attempt: `check` runs a validator that raises."""

    def __init__(self) -> None:
        self.errors: list[DomainError] = []

    def add(self, error: DomainError) -> None:
        self.errors.append(error)

    def check(self, validate: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        try:
            return validate(*args, **kwargs)
        except DomainError as error:
            self.errors.append(error)
        except DomainErrors as errors:
            self.errors.extend(errors.errors)
        return None

    def raise_any(self) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise DomainErrors(self.errors)
