"""Who is acting: what every use case receives instead of a request."""

from __future__ import annotations

from dataclasses import dataclass

from models.roles import FIRM_ROLES, STAFF_ROLES, Role


@dataclass(frozen=True, slots=True)
class Actor:
    kind: str  # USER, CLIENT, SYSTEM, ANONYMOUS
    role: Role | None
    id: int | None = None
    name: str = ""
    firm_id: int | None = None
    operator_code: str | None = None
    token_id: int | None = None
    must_change_password: bool = False
    ip: str = ""
    request_id: str = ""

    @property
    def is_authenticated(self) -> bool:
        return self.kind != "ANONYMOUS"

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_firm(self) -> bool:
        return self.role in FIRM_ROLES

    def has(self, *roles: Role) -> bool:
        return self.role in roles

    @staticmethod
    def anonymous(ip: str = "", request_id: str = "") -> Actor:
        return Actor(kind="ANONYMOUS", role=None, name="anonymous", ip=ip, request_id=request_id)

    @staticmethod
    def system(name: str = "system", request_id: str = "") -> Actor:
        return Actor(kind="SYSTEM", role=Role.SYSTEM, name=name, request_id=request_id)
