"""Who may call a field, declared next to it: `extensions=[requires(Role.STAFF_ADMIN)]`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from inspect import isawaitable
from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.types import Info

from models.roles import STAFF_ROLES, Role
from resolvers.actor import Actor
from resolvers.errors import ErrorCode
from schema.errors import api_error

STAFF = tuple(sorted(STAFF_ROLES))
ANY_PERSON = (*STAFF, Role.FIRM_USER, Role.FIRM_SUPERVISOR)


class Requires(FieldExtension):
    """Checks the actor before the resolver runs. Root fields all carry one (a test checks)."""

    def __init__(
        self, roles: tuple[Role, ...], public: bool = False, during_password_change: bool = False
    ) -> None:
        self.roles = frozenset(roles)
        self.public = public
        self.during_password_change = during_password_change

    def denial(self, actor: Actor) -> ErrorCode | None:
        """Why `actor` may not call the field, or None when it may."""
        if self.public:
            return None
        if not actor.is_authenticated:
            return ErrorCode.UNAUTHENTICATED
        if actor.must_change_password and not self.during_password_change:
            return ErrorCode.PASSWORD_CHANGE_REQUIRED
        if self.roles and actor.role not in self.roles:
            return ErrorCode.FORBIDDEN
        return None

    def check(self, info: Info) -> None:
        code = self.denial(info.context.actor)
        if code is not None:
            raise api_error(code, info.context.lang)

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        self.check(info)
        return next_(source, info, **kwargs)

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        self.check(info)
        result = next_(source, info, **kwargs)
        # A subscription's resolver is an async generator: hand it on, not awaited.
        return await result if isawaitable(result) else result


def requires(*roles: Role) -> list[FieldExtension]:
    return [Requires(roles)]


def authenticated(during_password_change: bool = False) -> list[FieldExtension]:
    """Any logged-in actor (every role); the resolver narrows further."""
    return [Requires((), during_password_change=during_password_change)]


def public() -> list[FieldExtension]:
    return [Requires((), public=True)]
