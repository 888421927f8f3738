"""Who can act: the roles of people and the kinds of machine clients."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    FIRM_USER = "FIRM_USER"
    FIRM_SUPERVISOR = "FIRM_SUPERVISOR"
    STAFF_REVIEWER = "STAFF_REVIEWER"
    STAFF_ARCHIVE = "STAFF_ARCHIVE"
    STAFF_ADMIN = "STAFF_ADMIN"
    # Machine clients act with the role of their kind.
    OPERATOR = "OPERATOR"
    E_DEVLET = "E_DEVLET"
    # The CLI and background jobs.
    SYSTEM = "SYSTEM"


class ClientKind(StrEnum):
    OPERATOR = "OPERATOR"
    E_DEVLET = "E_DEVLET"


class FirmKind(StrEnum):
    IMPORTER = "IMPORTER"
    MANUFACTURER = "MANUFACTURER"
    IMPORTER_MANUFACTURER = "IMPORTER_MANUFACTURER"


FIRM_ROLES = frozenset({Role.FIRM_USER, Role.FIRM_SUPERVISOR})
STAFF_ROLES = frozenset({Role.STAFF_REVIEWER, Role.STAFF_ARCHIVE, Role.STAFF_ADMIN})
PERSON_ROLES = FIRM_ROLES | STAFF_ROLES
CLIENT_ROLES = {ClientKind.OPERATOR: Role.OPERATOR, ClientKind.E_DEVLET: Role.E_DEVLET}
