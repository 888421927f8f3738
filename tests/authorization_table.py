"""Who may call each root field: the authorization matrix, written from the domain (DESIGN.md,
the README's walkthroughs, the communiqué), not read off the code's permission classes.

A field admits a set of callers; every other caller must be refused by the gate with
UNAUTHENTICATED, FORBIDDEN or PASSWORD_CHANGE_REQUIRED. `tests/test_authorization_matrix.py`
sends every (field, caller) pair; a new root field fails it until it has an entry here.
"""

from __future__ import annotations

from typing import Final

# The kinds of caller. `must_change_password` is a firm user created by staff who has not yet
# set a password; `revoked_token` a staff admin's revoked token; `disabled_user` the token of a
# firm user staff have since disabled (both must count for nothing).
ANONYMOUS: Final = "anonymous"
FIRM_USER: Final = "firm_user"
FIRM_SUPERVISOR: Final = "firm_supervisor"
MANUFACTURER_USER: Final = "manufacturer_user"
REVIEWER: Final = "staff_reviewer"
ARCHIVE: Final = "staff_archive"
ADMIN: Final = "staff_admin"
OPERATOR: Final = "operator_client"
EDEVLET: Final = "edevlet_client"
MUST_CHANGE: Final = "must_change_password"
REVOKED: Final = "revoked_token"
DISABLED: Final = "disabled_user"

CALLERS: Final = (
    ANONYMOUS,
    FIRM_USER,
    FIRM_SUPERVISOR,
    MANUFACTURER_USER,
    REVIEWER,
    ARCHIVE,
    ADMIN,
    OPERATOR,
    EDEVLET,
    MUST_CHANGE,
    REVOKED,
    DISABLED,
)

FIRM = frozenset({FIRM_USER, FIRM_SUPERVISOR, MANUFACTURER_USER})
STAFF = frozenset({REVIEWER, ARCHIVE, ADMIN})
PEOPLE = FIRM | STAFF
MACHINES = frozenset({OPERATOR, EDEVLET})
SIGNED_IN = PEOPLE | MACHINES
# Public fields: anyone without a token and every valid token. A session that must change
# its password gets no more than an anonymous caller would, so it is admitted too; an
# invalid token (revoked, or its user disabled) is refused everywhere, public or not.
PUBLIC = SIGNED_IN | {ANONYMOUS, MUST_CHANGE}
NOBODY: frozenset[str] = frozenset()


def only(*callers: str) -> frozenset[str]:
    return frozenset(callers)


QUERIES: Final[dict[str, frozenset[str]]] = {
    # Who am I: every session, the one that must change its password included (the portal
    # learns it from here).
    "viewer": SIGNED_IN | {MUST_CHANGE},
    # Firms and their people: staff look firms up, a firm reads its own record ("a firm sees
    # only its own data"); a supervisor lists the firm's users, anyone reads their own
    # account; staff read machine clients and their tokens' metadata, admins change them.
    "firms": STAFF,
    "firm": FIRM | STAFF,
    "users": STAFF | {FIRM_SUPERVISOR},
    "user": PEOPLE,
    "machineClients": STAFF,
    "clientTokens": STAFF,
    # Applications: the firm its own, staff all.
    "applications": FIRM | STAFF,
    "application": FIRM | STAFF,
    "applicationDevices": FIRM | STAFF,
    "applicationDeviceGroups": FIRM | STAFF,
    "applicationWorkflow": FIRM | STAFF,
    "ceCertificates": FIRM | STAFF,
    # Authorised signers (art. 8(1)): a firm reads its own, staff any firm's.
    "firmSigners": FIRM | STAFF,
    # The fee schedule is what firms pay: people read it.
    "feeSchedule": PEOPLE,
    "customsDeadlines": FIRM | STAFF,
    "overdueApplications": FIRM | STAFF,
    "feeReceipts": STAFF,
    # The audit trail and the job queue: staff (DESIGN: staff read the audit trail; the
    # README lists jobs among the admins' tools, not as theirs alone).
    "auditEvents": STAFF,
    "jobs": STAFF,
    # Staff follow what the firms were told and what the mail server refused.
    "mailOutbox": STAFF,
    # The TAC registry: firms read it (their lists are checked against it), staff keep it.
    "tacModels": FIRM | STAFF,
    "tacModel": FIRM | STAFF,
    "tacRequests": FIRM | STAFF,
    "tacRequest": FIRM | STAFF,
    # Operators: network-attach checks and the list feeds (staff may look too).
    "checkImeis": STAFF | {OPERATOR},
    "imeiStatus": PUBLIC,
    # A document's verification code: whoever holds the paper asks (customs, a buyer).
    "verifyDocument": PUBLIC,
    "whitelistChanges": STAFF | {OPERATOR},
    "blacklistChanges": STAFF | {OPERATOR},
    "blacklistEntry": STAFF,
    "imeiHistory": STAFF,
    # A firm sees the suspicions on the IMEIs it registered: it must pair them (art. 14).
    "cloneSuspicions": FIRM | STAFF,
    # Individual registrations: the channel that submitted them (AKM operator, e-Devlet)
    # follows its own; staff all.
    "individualRegistration": STAFF | MACHINES,
    "individualRegistrations": STAFF | MACHINES,
    "verificationBatches": STAFF,
    "whitelistRemovals": STAFF,
    # After registration: the firm its own reports, corrections, pairings; staff all.
    "replacementReports": FIRM | STAFF,
    "replacementReport": FIRM | STAFF,
    "replacementReportLines": FIRM | STAFF,
    "replacements": FIRM | STAFF,
    "heldImeis": FIRM | STAFF,
    "imeiCorrectionRequests": FIRM | STAFF,
    "imeiCorrectionRequest": FIRM | STAFF,
    "imeiPairings": FIRM | STAFF,
    "pairingFlags": FIRM | STAFF,
    "pairingChanges": STAFF | {OPERATOR},
    # The grey list (grace clocks) is mirrored like the other lists; an operator lists the
    # grace ends of the IMEIs it attached, to warn its own subscribers.
    "greylistChanges": STAFF | {OPERATOR},
    "graceEndingSoon": only(OPERATOR),
    # Operators' quotas: staff watch each client's daily usage.
    "clientCheckUsage": STAFF,
    # Labels of the enums, for portals: nothing secret.
    "enumLabels": PUBLIC,
}

MUTATIONS: Final[dict[str, frozenset[str]]] = {
    # Anyone logs in; a request carrying a dead token is refused like any other.
    "login": PUBLIC,
    "logout": SIGNED_IN | {MUST_CHANGE},
    "changePassword": PEOPLE | {MUST_CHANGE},
    # Accounts: staff admins create firms, users and machine clients.
    "createFirm": only(ADMIN),
    "updateFirm": only(ADMIN),
    "createUser": only(ADMIN),
    "resetUserPassword": only(ADMIN),
    "setUserActive": only(ADMIN),
    "createMachineClient": only(ADMIN),
    "updateMachineClient": only(ADMIN),
    "issueClientToken": only(ADMIN),
    "revokeAccessToken": only(ADMIN),
    # The firm's draft: its users (supervisor included) create, edit and submit; staff enter
    # paper applications from the documents brought in (DESIGN: channel PAPER).
    "createApplication": FIRM | STAFF,
    "updateApplication": FIRM | STAFF,
    "uploadDeviceList": FIRM | STAFF,
    "submitApplication": FIRM | STAFF,
    # The firm's supervisor approves and sends to analysis, or sends back to the user (a
    # paper application goes to the checks when staff submit it).
    "sendApplicationToAnalysis": only(FIRM_SUPERVISOR),
    "sendApplicationBack": only(FIRM_SUPERVISOR),
    "cancelApplication": FIRM,
    "withdrawApplicationToDraft": FIRM,
    "reopenApplication": FIRM | STAFF,
    "uploadApplicationDocument": FIRM | STAFF,
    "uploadCeCertificate": FIRM,
    # Paper applications are entered by staff from the papers (art. 9): they record the scans.
    "recordPaperDocument": STAFF,
    # Staff admins register a firm's signers against the signed record (art. 8(1)).
    "registerFirmSigner": only(ADMIN),
    "revokeFirmSigner": only(ADMIN),
    "chooseSignatureMethod": FIRM,
    "uploadSignedApplication": FIRM,
    # Archive staff receive paper; reviewers decide; archive staff record payments. A staff
    # admin may stand in for either.
    "receiveHardcopy": only(ARCHIVE, ADMIN),
    "takeApplicationForReview": only(REVIEWER, ADMIN),
    "approveApplication": only(REVIEWER, ADMIN),
    "rejectApplication": only(REVIEWER, ADMIN),
    "returnApplicationIncomplete": only(REVIEWER, ADMIN),
    "recordPayment": only(ARCHIVE, ADMIN),
    # The firm declares its bank receipt (staff for paper applications and at the counter);
    # the archive checks it. The firm pays by card; the archive may start it at the counter.
    "declareFeeReceipt": FIRM | STAFF,
    "confirmFeeReceipt": only(ARCHIVE, ADMIN),
    "refuseFeeReceipt": only(ARCHIVE, ADMIN),
    "startOnlinePayment": FIRM | STAFF,
    "refreshOnlinePayments": FIRM | STAFF,
    "uploadCustomsDocuments": FIRM,
    "uploadSignedCoverLetter": FIRM,
    "receiveCustomsDocuments": only(ARCHIVE, ADMIN),
    "setFeeYear": only(ADMIN),
    "retryJob": only(ADMIN),
    # A resent mail may reach the firm twice, like a retried job repeats its side effects.
    "resendMail": only(ADMIN),
    # TAC registry: admins import it; reviewers and admins keep it and decide requests.
    "importTacModels": only(ADMIN),
    "createTacModel": only(REVIEWER, ADMIN),
    "updateTacModel": only(REVIEWER, ADMIN),
    "retireTacModel": only(REVIEWER, ADMIN),
    "reactivateTacModel": only(REVIEWER, ADMIN),
    "requestTac": FIRM,
    "approveTacRequest": only(REVIEWER, ADMIN),
    "rejectTacRequest": only(REVIEWER, ADMIN),
    # Lost and stolen devices: operators report them; so do reviewers and admins (archive
    # staff keep paper, they do not bar devices).
    "addToBlacklist": only(REVIEWER, ADMIN, OPERATOR),
    "removeFromBlacklist": only(REVIEWER, ADMIN, OPERATOR),
    "runCloneDetection": only(REVIEWER, ADMIN),
    "dismissCloneSuspicion": only(REVIEWER, ADMIN),
    "submitObservations": only(OPERATOR),
    # Staff admins set each machine client's quota (as they create the clients).
    "setClientCheckQuota": only(ADMIN),
    "submitAkmRegistration": only(OPERATOR),
    "submitEdevletDeclaration": only(EDEVLET),
    # Art. 5(4): staff take a non-compliant IMEI off the whitelist (and put it back).
    "removeWhitelistEntry": only(REVIEWER, ADMIN),
    "restoreWhitelistEntry": only(REVIEWER, ADMIN),
    # Art. 11, 16: the importer or manufacturer reports replacements.
    "reportReplacements": FIRM,
    "uploadChangedImeiReport": FIRM,
    "confirmChangedImeiReport": FIRM,
    # Art. 13: the firm asks, a reviewer decides.
    "requestImeiCorrection": FIRM,
    "approveImeiCorrection": only(REVIEWER, ADMIN),
    "rejectImeiCorrection": only(REVIEWER, ADMIN),
    # Art. 14: reviewers flag an altered IMEI; its importer or manufacturer pairs it; once
    # paired, changing or lifting the pairing is the regulator's decision.
    "flagImeiForPairing": only(REVIEWER, ADMIN),
    "pairImei": FIRM,
    "changeImeiPairing": only(REVIEWER, ADMIN),
    "removeImeiPairing": only(REVIEWER, ADMIN),
}
