"""Logging in and out, changing passwords, and turning a bearer token into an actor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models import clock
from models.accounts import AccessToken, User
from models.ip_rules import ip_allowed
from models.roles import CLIENT_ROLES
from resolvers import audit
from resolvers.accounts.credentials import (
    burn_verification,
    check_password_policy,
    hash_password,
    hash_token,
    new_token,
    verify_password,
)
from resolvers.actor import Actor
from resolvers.errors import DomainError, ErrorCode
from resolvers.sessions import sessions_changed
from resolvers.settings import get_settings


@dataclass(frozen=True)
class LoginResult:
    token: str
    expires_at: datetime
    user: User


def normalise_username(username: str) -> str:
    return username.strip().lower()


def _person_actor(user: User, ip: str, request_id: str, token_id: int | None = None) -> Actor:
    return Actor(
        kind="USER",
        role=user.role,
        id=user.id,
        name=user.username,
        firm_id=user.firm_id,
        token_id=token_id,
        must_change_password=user.must_change_password,
        ip=ip,
        request_id=request_id,
    )


async def login(username: str, password: str, ip: str, request_id: str = "") -> LoginResult:
    settings = get_settings()
    user = await User.get_or_none(username=normalise_username(username)).select_related("firm")
    if user is None:
        await burn_verification(password)
        raise DomainError(ErrorCode.INVALID_CREDENTIALS)
    actor = _person_actor(user, ip, request_id)
    now = clock.now()
    if user.locked_until is not None and user.locked_until > now:
        raise DomainError(ErrorCode.ACCOUNT_LOCKED, until=_local_time(user.locked_until))
    firm = user.firm
    if firm is not None and not ip_allowed(ip, firm.allowed_ips):
        async with in_transaction():
            await audit.record(actor, "auth.login_refused_ip", "User", user.id, {"ip": ip})
        raise DomainError(ErrorCode.IP_NOT_ALLOWED, ip=ip)

    if not await verify_password(user.password_hash, password):
        await _count_failure(user, actor, now)
        raise DomainError(ErrorCode.INVALID_CREDENTIALS)
    if not user.is_active or (firm is not None and not firm.is_active):
        raise DomainError(ErrorCode.ACCOUNT_DISABLED)

    token = new_token()
    expires_at = now + timedelta(minutes=settings.token_ttl_minutes)
    async with in_transaction():
        await User.filter(id=user.id).update(failed_logins=0, locked_until=None, last_login_at=now)
        access = await AccessToken.create(
            token_hash=hash_token(token), user_id=user.id, created_at=now, expires_at=expires_at
        )
        await audit.record(actor, "auth.login", "User", user.id, {"tokenId": access.id})
    return LoginResult(token=token, expires_at=expires_at, user=user)


async def _count_failure(user: User, actor: Actor, now: datetime) -> None:
    settings = get_settings()
    async with in_transaction():
        # Counted in the database, so concurrent wrong guesses all count.
        await User.filter(id=user.id).update(failed_logins=F("failed_logins") + 1)
        failures = (await User.filter(id=user.id).values_list("failed_logins", flat=True))[0]
        details: dict[str, object] = {"failures": failures}
        if failures >= settings.login_max_failures:
            until = now + timedelta(minutes=settings.lockout_minutes)
            await User.filter(id=user.id).update(failed_logins=0, locked_until=until)
            details["lockedUntil"] = until.isoformat()
        await audit.record(actor, "auth.login_failed", "User", user.id, details)
    if "lockedUntil" in details:
        raise DomainError(ErrorCode.ACCOUNT_LOCKED, until=_local_time(until))


def _local_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


async def authenticate(token: str, ip: str, request_id: str = "") -> Actor:
    """The actor behind a bearer token, or UNAUTHENTICATED / IP_NOT_ALLOWED."""
    access = await AccessToken.get_or_none(token_hash=hash_token(token)).select_related(
        "user", "user__firm", "client"
    )
    now = clock.now()
    if access is None or access.revoked_at is not None or access.expires_at <= now:
        raise DomainError(ErrorCode.UNAUTHENTICATED)
    if access.user is not None:
        user = access.user
        firm = user.firm
        if not user.is_active or (firm is not None and not firm.is_active):
            raise DomainError(ErrorCode.UNAUTHENTICATED)
        if firm is not None and not ip_allowed(ip, firm.allowed_ips):
            raise DomainError(ErrorCode.IP_NOT_ALLOWED, ip=ip)
        return _person_actor(user, ip, request_id, token_id=access.id)
    client = access.client
    if client is None or not client.is_active:
        raise DomainError(ErrorCode.UNAUTHENTICATED)
    if not ip_allowed(ip, client.allowed_ips):
        raise DomainError(ErrorCode.IP_NOT_ALLOWED, ip=ip)
    return Actor(
        kind="CLIENT",
        role=CLIENT_ROLES[client.kind],
        id=client.id,
        name=client.name,
        operator_code=client.operator_code,
        token_id=access.id,
        ip=ip,
        request_id=request_id,
    )


async def logout(actor: Actor) -> None:
    if actor.token_id is None:
        raise DomainError(ErrorCode.UNAUTHENTICATED)
    async with in_transaction():
        await AccessToken.filter(id=actor.token_id, revoked_at__isnull=True).update(
            revoked_at=clock.now()
        )
        await audit.record(actor, "auth.logout", "AccessToken", actor.token_id)
    sessions_changed()  # the token ends now in this process, not when its cache entry expires


async def change_password(actor: Actor, current_password: str, new_password: str) -> User:
    if actor.kind != "USER" or actor.id is None:
        raise DomainError(ErrorCode.FORBIDDEN)
    user = await User.get(id=actor.id)
    if not await verify_password(user.password_hash, current_password):
        raise DomainError(ErrorCode.INVALID_CREDENTIALS, field="currentPassword")
    check_password_policy(new_password)
    if new_password == current_password:
        raise DomainError(ErrorCode.PASSWORD_REUSED, field="newPassword")
    new_hash = await hash_password(new_password)
    async with in_transaction():
        user.password_hash = new_hash
        user.must_change_password = False
        await user.save(update_fields=["password_hash", "must_change_password"])
        # Other sessions were opened with the old password: end them.
        await (
            AccessToken.filter(user_id=user.id, revoked_at__isnull=True)
            .exclude(id=actor.token_id)
            .update(revoked_at=clock.now())
        )
        await audit.record(actor, "auth.password_changed", "User", user.id)
    sessions_changed()  # sessions may have ended: no cached actor outlives them
    return user
