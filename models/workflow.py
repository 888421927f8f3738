"""The firm application workflow: statuses, their labels, and the one table of transitions.

Every status change goes through `transition_for`, which says whether the actor's role may
take that action from the current status and where it leads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from models.labels import register
from models.roles import FirmKind, Role


class ApplicationKind(StrEnum):
    IMPORT = "IMPORT"
    MANUFACTURE = "MANUFACTURE"
    MAINBOARD = "MAINBOARD"
    SWAP = "SWAP"
    TEST = "TEST"


class Channel(StrEnum):
    ELECTRONIC = "ELECTRONIC"
    PAPER = "PAPER"


class ApplicationStatus(StrEnum):
    DRAFT = "DRAFT"
    AWAITING_SUPERVISOR_APPROVAL = "AWAITING_SUPERVISOR_APPROVAL"
    IN_ANALYSIS = "IN_ANALYSIS"
    AWAITING_SIGNATURE_CHOICE = "AWAITING_SIGNATURE_CHOICE"
    AWAITING_SIGNED_DOCUMENT = "AWAITING_SIGNED_DOCUMENT"
    AWAITING_HARDCOPY = "AWAITING_HARDCOPY"
    UNDER_REVIEW = "UNDER_REVIEW"
    AWAITING_PAYMENT = "AWAITING_PAYMENT"
    AWAITING_CUSTOMS_DOCUMENTS = "AWAITING_CUSTOMS_DOCUMENTS"
    COMPLETED = "COMPLETED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"


class Action(StrEnum):
    SUBMIT = "SUBMIT"
    SUBMIT_PAPER = "SUBMIT_PAPER"
    SEND_TO_ANALYSIS = "SEND_TO_ANALYSIS"
    SEND_BACK = "SEND_BACK"
    FINISH_ANALYSIS = "FINISH_ANALYSIS"
    FAIL_PAPER_ANALYSIS = "FAIL_PAPER_ANALYSIS"
    PASS_PAPER_ANALYSIS = "PASS_PAPER_ANALYSIS"
    CHOOSE_E_SIGNATURE = "CHOOSE_E_SIGNATURE"
    CHOOSE_WET_SIGNATURE = "CHOOSE_WET_SIGNATURE"
    UPLOAD_SIGNED_DOCUMENT = "UPLOAD_SIGNED_DOCUMENT"
    RECEIVE_HARDCOPY = "RECEIVE_HARDCOPY"
    APPROVE = "APPROVE"
    REJECT = "REJECT"
    RETURN_INCOMPLETE = "RETURN_INCOMPLETE"
    RECORD_PAYMENT = "RECORD_PAYMENT"
    RECORD_PAYMENT_WITHOUT_CUSTOMS = "RECORD_PAYMENT_WITHOUT_CUSTOMS"
    COMPLETE_CUSTOMS = "COMPLETE_CUSTOMS"
    CANCEL = "CANCEL"
    WITHDRAW_TO_DRAFT = "WITHDRAW_TO_DRAFT"
    REOPEN = "REOPEN"


S = ApplicationStatus
FIRM = frozenset({Role.FIRM_USER, Role.FIRM_SUPERVISOR})
SUPERVISOR = frozenset({Role.FIRM_SUPERVISOR})
REVIEWERS = frozenset({Role.STAFF_REVIEWER, Role.STAFF_ADMIN})
ARCHIVE = frozenset({Role.STAFF_ARCHIVE, Role.STAFF_ADMIN})
SYSTEM = frozenset({Role.SYSTEM})


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[ApplicationStatus]
    target: ApplicationStatus
    roles: frozenset[Role]


FIRM_CHANGEABLE = frozenset(
    {
        S.DRAFT,
        S.AWAITING_SUPERVISOR_APPROVAL,
        S.AWAITING_SIGNATURE_CHOICE,
        S.AWAITING_SIGNED_DOCUMENT,
        S.AWAITING_HARDCOPY,
        S.UNDER_REVIEW,
    }
)

TRANSITIONS: tuple[Transition, ...] = (
    Transition(Action.SUBMIT, frozenset({S.DRAFT}), S.AWAITING_SUPERVISOR_APPROVAL, FIRM),
    # Staff enter paper applications from the documents (art. 9): straight to analysis.
    Transition(Action.SUBMIT_PAPER, frozenset({S.DRAFT}), S.IN_ANALYSIS, REVIEWERS | ARCHIVE),
    Transition(
        Action.SEND_TO_ANALYSIS,
        frozenset({S.AWAITING_SUPERVISOR_APPROVAL}),
        S.IN_ANALYSIS,
        SUPERVISOR,
    ),
    Transition(Action.SEND_BACK, frozenset({S.AWAITING_SUPERVISOR_APPROVAL}), S.DRAFT, SUPERVISOR),
    Transition(
        Action.FINISH_ANALYSIS, frozenset({S.IN_ANALYSIS}), S.AWAITING_SIGNATURE_CHOICE, SYSTEM
    ),
    Transition(Action.FAIL_PAPER_ANALYSIS, frozenset({S.IN_ANALYSIS}), S.REJECTED, SYSTEM),
    Transition(Action.PASS_PAPER_ANALYSIS, frozenset({S.IN_ANALYSIS}), S.UNDER_REVIEW, SYSTEM),
    Transition(
        Action.CHOOSE_E_SIGNATURE,
        frozenset({S.AWAITING_SIGNATURE_CHOICE}),
        S.AWAITING_SIGNED_DOCUMENT,
        FIRM,
    ),
    Transition(
        Action.CHOOSE_WET_SIGNATURE,
        frozenset({S.AWAITING_SIGNATURE_CHOICE}),
        S.AWAITING_HARDCOPY,
        FIRM,
    ),
    Transition(
        Action.UPLOAD_SIGNED_DOCUMENT, frozenset({S.AWAITING_SIGNED_DOCUMENT}), S.UNDER_REVIEW, FIRM
    ),
    Transition(Action.RECEIVE_HARDCOPY, frozenset({S.AWAITING_HARDCOPY}), S.UNDER_REVIEW, ARCHIVE),
    Transition(Action.APPROVE, frozenset({S.UNDER_REVIEW}), S.AWAITING_PAYMENT, REVIEWERS),
    Transition(Action.REJECT, frozenset({S.UNDER_REVIEW}), S.REJECTED, REVIEWERS),
    Transition(Action.RETURN_INCOMPLETE, frozenset({S.UNDER_REVIEW}), S.DRAFT, REVIEWERS),
    # The archive records a payment or confirms a receipt; the system settles on the payment
    # provider's callback (virtual POS) and when a pre-paid receipt covers the fee set.
    Transition(
        Action.RECORD_PAYMENT,
        frozenset({S.AWAITING_PAYMENT}),
        S.AWAITING_CUSTOMS_DOCUMENTS,
        ARCHIVE | SYSTEM,
    ),
    # Devices made here clear no customs (art. 8(3)): the payment completes the application.
    Transition(
        Action.RECORD_PAYMENT_WITHOUT_CUSTOMS,
        frozenset({S.AWAITING_PAYMENT}),
        S.COMPLETED,
        ARCHIVE | SYSTEM,
    ),
    # E-signature path: the firm uploads the e-signed cover letter; wet path: archive staff
    # receive the petition and the copies (guide §6.1, §6.2).
    Transition(
        Action.COMPLETE_CUSTOMS,
        frozenset({S.AWAITING_CUSTOMS_DOCUMENTS}),
        S.COMPLETED,
        FIRM | ARCHIVE,
    ),
    # Art. 8(5): the firm may change what it sent until the regulator starts examining it
    # — withdraw it, or take it back to draft to change it — so also while it waits under
    # review for a reviewer to take it (`resolvers.applications.drafts` checks that); not
    # mid-analysis.
    Transition(Action.CANCEL, FIRM_CHANGEABLE, S.CANCELLED, FIRM),
    Transition(Action.WITHDRAW_TO_DRAFT, FIRM_CHANGEABLE - {S.DRAFT}, S.DRAFT, FIRM),
    # After a rejection the firm fixes the cause and it is taken up again (art. 10(4)): the
    # firm reopens its electronic application, staff a paper one they enter (art. 10(5)).
    Transition(Action.REOPEN, frozenset({S.REJECTED}), S.DRAFT, FIRM | REVIEWERS | ARCHIVE),
)

_BY_ACTION = {t.action: t for t in TRANSITIONS}

# Statuses whose IMEIs are "in progress": another application may not claim them.
IN_PROGRESS = frozenset(
    {
        S.AWAITING_SUPERVISOR_APPROVAL,
        S.IN_ANALYSIS,
        S.AWAITING_SIGNATURE_CHOICE,
        S.AWAITING_SIGNED_DOCUMENT,
        S.AWAITING_HARDCOPY,
        S.UNDER_REVIEW,
        S.AWAITING_PAYMENT,
    }
)
# The firm may change data and devices only here (art. 8(5): until review starts).
EDITABLE = frozenset({S.DRAFT})


def clears_customs(kind: ApplicationKind, production_date: date | None) -> bool:
    """Imported devices clear customs (art. 8(2)) and owe its documents afterwards (guide §6);
    manufactured ones (art. 8(3)) do not. Mainboards and swap devices may be either: a
    production date says they were made here."""
    if kind in (ApplicationKind.IMPORT, ApplicationKind.TEST):
        return True
    if kind in (ApplicationKind.MAINBOARD, ApplicationKind.SWAP):
        return production_date is None
    return False


# Which applications each kind of firm files: an importer its imports, a manufacturer what it
# makes (art. 8(2), 8(3)); both their own mainboards, swap and test devices (art. 11, 12).
_SHARED_KINDS = frozenset({ApplicationKind.MAINBOARD, ApplicationKind.SWAP, ApplicationKind.TEST})
KINDS_BY_FIRM: dict[FirmKind, frozenset[ApplicationKind]] = {
    FirmKind.IMPORTER: _SHARED_KINDS | {ApplicationKind.IMPORT},
    FirmKind.MANUFACTURER: _SHARED_KINDS | {ApplicationKind.MANUFACTURE},
    FirmKind.IMPORTER_MANUFACTURER: frozenset(ApplicationKind),
}
# Mainboards and swap devices are either imported or made here (a production date says
# which): an importer's are imported, a manufacturer's are its own make.
MADE_OR_IMPORTED = frozenset({ApplicationKind.MAINBOARD, ApplicationKind.SWAP})


def may_file(firm_kind: FirmKind, kind: ApplicationKind) -> bool:
    return kind in KINDS_BY_FIRM[firm_kind]


class TransitionRefused(Exception):
    def __init__(self, action: Action, status: ApplicationStatus, role_allowed: bool) -> None:
        self.action, self.status, self.role_allowed = action, status, role_allowed
        super().__init__(f"{action} from {status} (role allowed: {role_allowed})")


def transition_for(action: Action, status: ApplicationStatus, role: Role | None) -> Transition:
    """The transition, or TransitionRefused saying whether it was the role or the status."""
    transition = _BY_ACTION[action]
    role_ok = role in transition.roles
    if not role_ok or status not in transition.sources:
        raise TransitionRefused(action, status, role_ok)
    return transition


def role_may(action: Action, role: Role | None) -> bool:
    """Whether the role takes part in `action` at all (whatever the status)."""
    return role in _BY_ACTION[action].roles


def actions_available(status: ApplicationStatus, role: Role | None) -> list[Action]:
    return [t.action for t in TRANSITIONS if status in t.sources and role in t.roles]


register(
    ApplicationStatus,
    {
        "DRAFT": ("Taslak", "Draft"),
        "AWAITING_SUPERVISOR_APPROVAL": ("Üst Kullanıcı Onayında", "Awaiting supervisor approval"),
        "IN_ANALYSIS": ("Analiz Sürecinde", "In analysis"),
        "AWAITING_SIGNATURE_CHOICE": ("İmza Seçimi Beklenmektedir", "Awaiting signature choice"),
        "AWAITING_SIGNED_DOCUMENT": ("E-imzalı Doküman Bekleniyor", "Awaiting e-signed document"),
        "AWAITING_HARDCOPY": ("Kurum Hardcopy Bekliyor", "Awaiting hard copy"),
        "UNDER_REVIEW": ("İncelemede", "Under review"),
        "AWAITING_PAYMENT": ("Ödeme Bekleniyor", "Awaiting payment"),
        "AWAITING_CUSTOMS_DOCUMENTS": ("Gümrük Belgesi Bekleniyor", "Awaiting customs documents"),
        "COMPLETED": ("Tamamlandı", "Completed"),
        "REJECTED": ("Reddedildi", "Rejected"),
        "CANCELLED": ("İptal", "Cancelled"),
    },
)
register(
    ApplicationKind,
    {
        "IMPORT": ("İthalat", "Import"),
        "MANUFACTURE": ("İmalat", "Manufacture"),
        "MAINBOARD": ("Anakart", "Mainboard"),
        "SWAP": ("Takas Cihaz", "Swap device"),
        "TEST": ("Test Cihazı", "Test device"),
    },
)
register(Channel, {"ELECTRONIC": ("Elektronik", "Electronic"), "PAPER": ("Evrak", "Paper")})
