"""Mainboard and swap-device replacements (Tebliğ art. 11; in bulk, art. 16).

A mainboard or swap application's passing IMEIs are held at payment (`HeldImei`), not
whitelisted (art. 11(2)). The firm that registered the original device then reports pairs —
whitelisted old IMEI → held new IMEI. Applying a pair takes the old IMEI off the whitelist
(reason `REPLACED`), puts the new one on (source REPLACEMENT, under the application that held
it), consumes the held row — its history stays in `Replacement`, whose unique `new_imei`
makes "a new IMEI is used once" a database fact — and ends what hung on the old IMEI
(pairing, clone suspicion). A report's pairs are applied together with the audit event and
the decision letter in one transaction, or not at all.

`check_pairs` is the one rule both channels use (typed pairs here, Ek-3 files in
`resolvers.after.changed_imeis`): set-based over the whole report, the first problem of each
pair recorded. `apply_pairs` runs under the whitelist feed's lock, taken before the final
check: two reports cannot both use one held IMEI, and a payment (which takes the same lock to
hold or list IMEIs) waits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import clock
from models.accounts import Firm
from models.after import (
    REPLACED,
    Replacement,
    ReplacementChannel,
    ReplacementProblem,
    ReplacementReport,
    ReplacementReportStatus,
)
from models.checks import CheckCode
from models.documents import IssuedKind
from models.imei import is_valid_imei
from models.labels import label
from models.names import brand_model_key
from models.progress import HeldImei
from models.registry import WhitelistSource, WhitelistStatus
from models.workflow import ApplicationKind
from resolvers import audit, bulk, registry_changes
from resolvers.actor import Actor
from resolvers.after import letters, pairing
from resolvers.after.common import letter_number, parse_imei, require_firm, typed_imei
from resolvers.applications.checks import (
    AlreadyRegistered,
    AnalysisContext,
    Blacklisted,
    DeviceLine,
    evaluate,
)
from resolvers.errors import (
    Bilingual,
    DomainError,
    DomainErrors,
    ErrorCode,
    already_exists,
    invalid,
    not_found,
)
from resolvers.operators.lookup import as_datetime
from resolvers.pagination import Page, paginate
from resolvers.scoping import visible_to
from resolvers.tac.registry import models_for_tacs

HOLD_KINDS = frozenset({ApplicationKind.MAINBOARD, ApplicationKind.SWAP})
MAX_DIRECT_PAIRS = 1000
MAX_AUDITED_PAIRS = 100
LETTER_PREFIX = "DG"  # değişim: also the whitelist feed's reason of the new IMEIs' ADD

P = ReplacementProblem
_CHECK_PROBLEMS = {
    CheckCode.BLACKLISTED: P.NEW_BLACKLISTED,
    CheckCode.ALREADY_REGISTERED: P.NEW_ALREADY_REGISTERED,
}


@dataclass(frozen=True, slots=True)
class HeldRow:
    application_id: int
    kind: ApplicationKind
    brand: str
    model: str
    held_at: datetime


@dataclass(frozen=True, slots=True)
class OldEntry:
    application_id: int | None
    brand: str
    model: str


@dataclass(slots=True)
class CheckedPair:
    """One pair and what the checks found; a pair without `problem` has both records."""

    old: str
    new: str
    problem: ReplacementProblem | None = None
    old_entry: OldEntry | None = None
    held: HeldRow | None = None
    # What the firm's earlier replacement with this new IMEI replaced (NEW_ALREADY_USED).
    used_for: str | None = None
    # The device's other IMEIs the report lacks (DEVICE_INCOMPLETE).
    missing: tuple[str, ...] = ()


async def _whitelisted(olds: list[str]) -> dict[str, tuple[int | None, OldEntry]]:
    found: dict[str, tuple[int | None, OldEntry]] = {}
    async for imei, firm_id, application_id, brand, model in bulk.select_in(
        "SELECT imei, firm_id, application_id, brand, model_code FROM whitelist_entry "
        "WHERE imei IN ({in_})",
        olds,
    ):
        found[str(imei)] = (firm_id, OldEntry(application_id, str(brand), str(model)))
    return found


async def _held(firm_id: int, news: list[str]) -> dict[str, HeldRow]:
    kinds = ", ".join(f"'{kind.value}'" for kind in sorted(HOLD_KINDS))
    found: dict[str, HeldRow] = {}
    async for imei, application_id, kind, brand, model, held_at in bulk.select_in(
        "SELECT imei, application_id, kind, brand, model_code, held_at FROM held_imei "
        f"WHERE firm_id = {{p1}} AND kind IN ({kinds}) AND imei IN ({{in_}})",
        news,
        extra=(firm_id,),
    ):
        found[str(imei)] = HeldRow(
            application_id=int(application_id),
            kind=ApplicationKind(str(kind)),
            brand=str(brand),
            model=str(model),
            held_at=as_datetime(held_at),
        )
    return found


async def _used(firm_id: int, news: list[str]) -> dict[str, str]:
    return {
        str(new): str(old)
        async for new, old in bulk.select_in(
            "SELECT new_imei, old_imei FROM replacement WHERE firm_id = {p1} "
            "AND new_imei IN ({in_})",
            news,
            extra=(firm_id,),
        )
    }


async def _listed_or_barred(news: list[str]) -> dict[str, ReplacementProblem]:
    """The technical checks a held IMEI still owes since its analysis (the firms' units)."""
    ctx = AnalysisContext(
        application_id=None,
        devices=[DeviceLine(row=i, brand="", model="", imeis=(new,)) for i, new in enumerate(news)],
        count_held=False,  # the new IMEIs are the held ones being placed
    )
    reasons = await evaluate(ctx, (Blacklisted(), AlreadyRegistered()))
    return {news[i]: _CHECK_PROBLEMS[codes[0]] for i, codes in reasons.items()}


DeviceKey = tuple[int, int]  # (application_id, row_number): one row of a device list


async def _devices(application_of: dict[str, int]) -> dict[str, tuple[DeviceKey, set[str]]]:
    """Each IMEI's device in the given application's list, with all that device's IMEIs.
    An IMEI no list of that application names (seeded, individual) is a device alone."""
    found: dict[str, tuple[DeviceKey, set[str]]] = {}
    # The siblings from the device's own row (found by its unique application and row
    # index; its `device_imei` rows are made from it): device_imei has no index by
    # application and row, and PostgreSQL scanned every listed IMEI of the registry for
    # each report.
    async for imei, application_id, row, *imeis in bulk.select_in(
        "SELECT d.imei, d.application_id, d.row_number, v.imei1, v.imei2, v.imei3, v.imei4 "
        "FROM device_imei d JOIN device v ON v.application_id = d.application_id "
        "AND v.row_number = d.row_number WHERE d.imei IN ({in_})",
        list(application_of),
    ):
        if application_of[str(imei)] == int(application_id):
            key = (int(application_id), int(row))
            siblings = found.setdefault(str(imei), (key, set()))[1]
            siblings.update(str(sibling) for sibling in imeis if sibling is not None)
    return found


async def _same_model(pairs: Sequence[CheckedPair]) -> None:
    """MODEL_MISMATCH unless the held IMEI is declared as the old IMEI's brand and model, or
    its TAC is one of that model's in the registry (a mainboard keeps the phone's TAC)."""
    models = await models_for_tacs(p.new[:8] for p in pairs)
    for pair in pairs:
        old, held = pair.old_entry, pair.held
        assert old is not None and held is not None
        wanted = (brand_model_key(old.brand), brand_model_key(old.model))
        if (brand_model_key(held.brand), brand_model_key(held.model)) == wanted:
            continue
        tac_model = models.get(pair.new[:8])
        if (
            tac_model is not None
            and (
                brand_model_key(tac_model.brand),
                brand_model_key(tac_model.model_code),
            )
            == wanted
        ):
            continue
        pair.problem = P.MODEL_MISMATCH


async def _whole_devices(firm_id: int, pairs: Sequence[CheckedPair]) -> None:
    """A multi-IMEI device's IMEIs are replaced together, by one held device's IMEIs: the
    report must hold every IMEI of the old device still whitelisted with its application,
    and every IMEI of the new device still held (DEVICE_INCOMPLETE, naming the missing
    ones); the old device's IMEIs must all go to one held device (DEVICE_SPLIT)."""
    old_applications: dict[str, int] = {}
    new_applications: dict[str, int] = {}
    for pair in pairs:
        assert pair.old_entry is not None and pair.held is not None
        if pair.old_entry.application_id is not None:
            old_applications[pair.old] = pair.old_entry.application_id
        new_applications[pair.new] = pair.held.application_id
    olds = await _devices(old_applications)
    news = await _devices(new_applications)
    reported_old = {p.old for p in pairs}
    reported_new = {p.new for p in pairs}
    old_siblings = {s for _, imeis in olds.values() for s in imeis} - reported_old
    new_siblings = {s for _, imeis in news.values() for s in imeis} - reported_new
    listed = await _whitelisted(sorted(old_siblings)) if old_siblings else {}
    held = await _held(firm_id, sorted(new_siblings)) if new_siblings else {}
    groups: dict[object, list[CheckedPair]] = {}
    for pair in pairs:
        groups.setdefault(olds[pair.old][0] if pair.old in olds else pair.old, []).append(pair)
    for group in groups.values():
        missing: set[str] = set()
        for pair in group:
            if pair.old in olds:
                key, imeis = olds[pair.old]
                missing |= {
                    s
                    for s in imeis - reported_old
                    if s in listed
                    and listed[s][0] == firm_id
                    and listed[s][1].application_id == key[0]
                }
            if pair.new in news:
                key, imeis = news[pair.new]
                missing |= {
                    s
                    for s in imeis - reported_new
                    if s in held and held[s].application_id == key[0]
                }
        targets = {news[p.new][0] if p.new in news else p.new for p in group}
        for pair in group:
            if missing:
                pair.problem, pair.missing = P.DEVICE_INCOMPLETE, tuple(sorted(missing))
            elif len(targets) > 1:
                pair.problem = P.DEVICE_SPLIT


async def check_pairs(firm_id: int, pairs: Sequence[CheckedPair]) -> None:
    """Record the first problem of every pair that has none yet (set-based, whole report).

    In order: the IMEIs' form, an IMEI repeated in the report (every occurrence: the firm
    must say which pair is meant), the old IMEI (whitelisted, by this firm), then the new
    one (held from this firm's mainboard/swap applications, not barred or listed since;
    else already used by this firm, else not held), then the pair as art. 11 wants it: the
    same model, whole devices (`_same_model`, `_whole_devices`)."""
    for pair in pairs:
        if pair.problem is not None:
            continue
        if not is_valid_imei(pair.old):
            pair.problem = P.INVALID_OLD_IMEI
        elif not is_valid_imei(pair.new):
            pair.problem = P.INVALID_NEW_IMEI
        elif pair.old == pair.new:
            pair.problem = P.SAME_IMEI
    # Every well-formed IMEI counts, also in a pair refused for its other IMEI.
    seen = Counter(imei for p in pairs for imei in (p.old, p.new) if is_valid_imei(imei))
    open_pairs = [p for p in pairs if p.problem is None]
    for pair in open_pairs:
        if seen[pair.old] > 1 or seen[pair.new] > 1:
            pair.problem = P.REPEATED_IN_REPORT
    open_pairs = [p for p in open_pairs if p.problem is None]
    if not open_pairs:
        return
    whitelisted = await _whitelisted([p.old for p in open_pairs])
    news = [p.new for p in open_pairs]
    held = await _held(firm_id, news)
    used = await _used(firm_id, news)
    barred = await _listed_or_barred([new for new in news if new in held])
    for pair in open_pairs:
        listed = whitelisted.get(pair.old)
        if listed is None:
            pair.problem = P.OLD_NOT_REGISTERED
        elif listed[0] != firm_id:
            pair.problem = P.OLD_OF_ANOTHER_FIRM
        elif pair.new in held:
            pair.problem = barred.get(pair.new)
            pair.old_entry, pair.held = listed[1], held[pair.new]
        elif pair.new in used:
            pair.problem, pair.used_for = P.NEW_ALREADY_USED, used[pair.new]
        else:
            pair.problem = P.NEW_NOT_HELD
    matched = [p for p in open_pairs if p.problem is None]
    if matched:
        await _same_model(matched)
    # A device is whole only when all its pairs passed everything before.
    matched = [p for p in matched if p.problem is None]
    if matched:
        await _whole_devices(firm_id, matched)


def refusal(pair: CheckedPair, field: str) -> DomainError:
    """A problem of a typed pair as the error the firm reads."""
    old_field, new_field = f"{field}.oldImei", f"{field}.newImei"
    match pair.problem:
        case P.OLD_NOT_REGISTERED:
            return DomainError(ErrorCode.IMEI_NOT_REGISTERED, field=old_field, imei=pair.old)
        case P.OLD_OF_ANOTHER_FIRM:
            return DomainError(ErrorCode.IMEI_OF_ANOTHER_FIRM, field=old_field, imei=pair.old)
        case P.NEW_NOT_HELD:
            return DomainError(ErrorCode.IMEI_NOT_HELD, field=new_field, imei=pair.new)
        case P.NEW_ALREADY_USED:
            return DomainError(
                ErrorCode.IMEI_ALREADY_USED, field=new_field, imei=pair.new, old=pair.used_for
            )
        case P.NEW_ALREADY_REGISTERED:
            return already_exists(
                "Beyaz listedeki IMEI", "Whitelisted IMEI", pair.new, field=new_field
            )
    # The pair's own form (invalid, the same IMEI twice, repeated in the report) and art. 11.
    problem = pair.problem or P.UNRECOGNISED_LINE
    if pair.missing:
        also = ", ".join(pair.missing)
        return DomainError(
            ErrorCode.INVALID_INPUT,
            field=field,
            reason=Bilingual(
                f"{pair.old} → {pair.new}: {label(problem, 'tr')}; bildirimde eksik: {also}",
                f"{pair.old} → {pair.new}: {label(problem, 'en')}; missing from the report: {also}",
            ),
        )
    fields = {P.INVALID_OLD_IMEI: old_field, P.INVALID_NEW_IMEI: new_field}
    return DomainError(
        ErrorCode.INVALID_INPUT,
        field=fields.get(problem, field),
        reason=Bilingual(
            f"{pair.old} → {pair.new}: {label(problem, 'tr')}",
            f"{pair.old} → {pair.new}: {label(problem, 'en')}",
        ),
    )


async def apply_pairs(
    actor: Actor, report: ReplacementReport, pairs: Sequence[CheckedPair]
) -> list[str]:
    """Apply checked pairs (inside the caller's transaction, after `check_pairs` under the
    whitelist feed's lock). Returns the old IMEIs whose pairing ended."""
    olds = [p.old for p in pairs]
    number = letter_number(LETTER_PREFIX, report.id, report.created_at)
    await registry_changes.remove_from_whitelist(actor, olds, REPLACED)
    await registry_changes.add_to_whitelist(
        actor,
        [
            registry_changes.WhitelistAddition(
                imei=p.new,
                brand=p.held.brand,  # type: ignore[union-attr]
                model_code=p.held.model,  # type: ignore[union-attr]
                source=WhitelistSource.REPLACEMENT,
                status=WhitelistStatus.REGISTERED,
                firm_id=report.firm_id,
                application_id=p.held.application_id,  # type: ignore[union-attr]
            )
            for p in pairs
        ],
        reason=number,
    )
    await bulk.execute_many("DELETE FROM held_imei WHERE imei = ?", [(p.new,) for p in pairs])
    now = clock.now()
    await bulk.insert_rows(
        "replacement",
        (
            "report_id",
            "firm_id",
            "old_imei",
            "new_imei",
            "old_application_id",
            "old_brand",
            "old_model_code",
            "new_application_id",
            "kind",
            "brand",
            "model_code",
            "held_at",
            "replaced_by",
            "replaced_at",
        ),
        [
            (
                report.id,
                report.firm_id,
                p.old,
                p.new,
                p.old_entry.application_id,  # type: ignore[union-attr]
                p.old_entry.brand,  # type: ignore[union-attr]
                p.old_entry.model,  # type: ignore[union-attr]
                p.held.application_id,  # type: ignore[union-attr]
                p.held.kind.value,  # type: ignore[union-attr]
                p.held.brand,  # type: ignore[union-attr]
                p.held.model,  # type: ignore[union-attr]
                p.held.held_at,  # type: ignore[union-attr]
                actor.name,
                now,
            )
            for p in pairs
        ],
    )
    return await pairing.release_removed(actor, olds, REPLACED)


async def issue_letter(
    actor: Actor, report: ReplacementReport, pairs: Sequence[CheckedPair]
) -> int:
    """The decision letter of an applied report; returns the stored file's id."""
    firm = await Firm.get(id=report.firm_id)
    number = letter_number(LETTER_PREFIX, report.id, report.created_at)
    prepared = await letters.prepare_seal(IssuedKind.REPLACEMENT_LETTER)
    html = letters.replacement_letter_html(
        firm,
        number,
        report.created_at,
        report.channel == ReplacementChannel.EK3_FILE,
        [(p.old, p.new, p.held.brand, p.held.model) for p in pairs],  # type: ignore[union-attr]
        report.invalid_count,
        clock.now(),
        prepared.seal,
    )
    stored = await letters.issue(
        actor,
        prepared,
        IssuedKind.REPLACEMENT_LETTER,
        number,
        report.firm_id,
        f"degisim-{number}.pdf",
        html,
    )
    return stored.id


def audited_pairs(pairs: Sequence[CheckedPair], ended: Sequence[str]) -> dict[str, object]:
    return {
        "pairs": [[p.old, p.new] for p in pairs[:MAX_AUDITED_PAIRS]],
        "pairCount": len(pairs),
        "endedPairings": list(ended[:MAX_AUDITED_PAIRS]),
    }


@dataclass(frozen=True, slots=True)
class ReportedPair:
    old_imei: str
    new_imei: str


async def report_replacements(actor: Actor, pairs: Sequence[ReportedPair]) -> ReplacementReport:
    """A firm reports replacements on screen: every pair is applied, or none (the errors say
    which pair fails and why)."""
    firm_id = require_firm(actor)
    if not 1 <= len(pairs) <= MAX_DIRECT_PAIRS:
        raise invalid(
            "pairs",
            f"1 ile {MAX_DIRECT_PAIRS} arasında çift bildirilebilir; daha fazlası için Ek-3 "
            "dosyası yükleyin",
            f"report 1 to {MAX_DIRECT_PAIRS} pairs; upload an Ek-3 file for more",
        )
    checked = [CheckedPair(typed_imei(p.old_imei), typed_imei(p.new_imei)) for p in pairs]
    async with in_transaction() as connection:
        await registry_changes.lock_feed(connection, registry_changes.WHITELIST_FEED_LOCK)
        await check_pairs(firm_id, checked)
        failing = [refusal(pair, f"pairs.{i}") for i, pair in enumerate(checked) if pair.problem]
        if failing:
            raise DomainErrors(failing)
        now = clock.now()
        report = await ReplacementReport.create(
            firm_id=firm_id,
            channel=ReplacementChannel.DIRECT,
            status=ReplacementReportStatus.APPLIED,
            line_count=len(checked),
            valid_count=len(checked),
            applied_count=len(checked),
            created_by=actor.name,
            created_at=now,
            decided_by=actor.name,
            decided_at=now,
        )
        ended = await apply_pairs(actor, report, checked)
        report.letter_file_id = await issue_letter(actor, report, checked)
        await report.save(update_fields=["letter_file_id"])
        await audit.record(
            actor,
            "replacement_report.applied",
            "ReplacementReport",
            report.id,
            {"channel": report.channel.value, **audited_pairs(checked, ended)},
        )
    return report


# --- reading -----------------------------------------------------------------------------


def missing_report() -> DomainError:
    return not_found("Değişim bildirimi", "Replacement report", field="reportId")


async def get_report(actor: Actor, report_id: int) -> ReplacementReport:
    report = await visible_to(ReplacementReport.filter(id=report_id), actor).first()
    if report is None:
        raise missing_report()
    return report


def _require_reader(actor: Actor) -> None:
    if not (actor.is_staff or actor.is_firm):
        raise DomainError(ErrorCode.FORBIDDEN)


async def list_reports(
    actor: Actor,
    status: ReplacementReportStatus | None,
    channel: ReplacementChannel | None,
    firm_id: int | None,
    first: int,
    after: str | None,
) -> Page[ReplacementReport]:
    """A firm sees its own reports, staff all (newest first)."""
    _require_reader(actor)
    query = visible_to(ReplacementReport.all(), actor)
    if status is not None:
        query = query.filter(status=status)
    if channel is not None:
        query = query.filter(channel=channel)
    if firm_id is not None:
        query = query.filter(firm_id=firm_id)
    return await paginate(query, first, after, count=True)


async def list_replacements(
    actor: Actor,
    firm_id: int | None,
    application_id: int | None,
    imei: str | None,
    first: int,
    after: str | None,
) -> Page[Replacement]:
    """Applied pairs (newest first): by firm, by application (either side), by IMEI (old or
    new)."""
    _require_reader(actor)
    query = visible_to(Replacement.all(), actor)
    if firm_id is not None:
        query = query.filter(firm_id=firm_id)
    if application_id is not None:
        query = query.filter(
            Q(new_application_id=application_id) | Q(old_application_id=application_id)
        )
    if imei:
        wanted = parse_imei(imei)
        query = query.filter(Q(old_imei=wanted) | Q(new_imei=wanted))
    return await paginate(query, first, after, count=True)


async def list_held(
    actor: Actor, firm_id: int | None, application_id: int | None, first: int, after: str | None
) -> Page[HeldImei]:
    """IMEIs still waiting for the replacement they were imported for (newest first)."""
    _require_reader(actor)
    query = visible_to(HeldImei.all(), actor)
    if firm_id is not None:
        query = query.filter(firm_id=firm_id)
    if application_id is not None:
        query = query.filter(application_id=application_id)
    return await paginate(query, first, after, count=True)
