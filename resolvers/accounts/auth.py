"""Logging in and out, changing passwords, and turning a bearer token into an actor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

from tortoise.transactions import in_transaction

from models import clock
from models.accounts import AccessToken, PasswordHistory, User
from models.ip_rules import ip_allowed
from models.roles import CLIENT_ROLES
from resolvers import audit
from resolvers.accounts import throttle
from resolvers.accounts.credentials import (
    burn_verification,
    check_password_strength,
    hash_password,
    hash_token,
    new_token,
    personal_words,
    verify_password,
)
from resolvers.actor import Actor
from resolvers.errors import DomainError, ErrorCode, Problems
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


# What the audit trail records as the real cause of a refused login; the caller always gets
# INVALID_CREDENTIALS, so nobody learns which names exist, which are disabled or restricted.
UNKNOWN_USER = "UNKNOWN_USER"
WRONG_PASSWORD = "WRONG_PASSWORD"
ACCOUNT_DISABLED = "ACCOUNT_DISABLED"
FIRM_DISABLED = "FIRM_DISABLED"
IP_NOT_ALLOWED = "IP_NOT_ALLOWED"
# Audit rows keep at most this much of a name that was tried (a subject id is 64 long).
MAX_AUDITED_NAME = 64


async def login(username: str, password: str, ip: str, request_id: str = "") -> LoginResult:
    settings = get_settings()
    name = normalise_username(username)
    # Throttled attempts are refused here, before any password is hashed.
    attempt = await throttle.begin(name, ip)
    user = await User.get_or_none(username=name).select_related("firm")
    if user is None:
        await burn_verification(password)  # the same work as for a real account
        await _refused(
            Actor.anonymous(ip, request_id), attempt, UNKNOWN_USER, name[:MAX_AUDITED_NAME]
        )
    actor = _person_actor(user, ip, request_id)
    firm = user.firm
    # Every refusal is decided after the hash is checked, so all take the same time.
    cause = None
    if not await verify_password(user.password_hash, password):
        cause = WRONG_PASSWORD
    elif not user.is_active:
        cause = ACCOUNT_DISABLED
    elif firm is not None and not firm.is_active:
        cause = FIRM_DISABLED
    elif firm is not None and not ip_allowed(ip, firm.allowed_ips):
        cause = IP_NOT_ALLOWED
    if cause is not None:
        await _refused(actor, attempt, cause, user.id)

    now = clock.now()
    token = new_token()
    expires_at = now + timedelta(minutes=settings.token_ttl_minutes)
    async with in_transaction():
        await throttle.succeeded(attempt)
        await User.filter(id=user.id).update(last_login_at=now)
        access = await AccessToken.create(
            token_hash=hash_token(token), user_id=user.id, created_at=now, expires_at=expires_at
        )
        await audit.record(actor, "auth.login", "User", user.id, {"tokenId": access.id})
    return LoginResult(token=token, expires_at=expires_at, user=user)


async def _refused(
    actor: Actor, attempt: throttle.Attempt, cause: str, subject_id: object
) -> NoReturn:
    """Audit a refused login with its real cause; answer the caller INVALID_CREDENTIALS."""
    details: dict[str, object] = {"reason": cause, **attempt.audit_details()}
    if cause == IP_NOT_ALLOWED:
        details["ip"] = actor.ip
    async with in_transaction():
        await audit.record(actor, "auth.login_failed", "User", subject_id, details)
    raise DomainError(ErrorCode.INVALID_CREDENTIALS)


async def authenticate(token: str, ip: str, request_id: str = "") -> Actor:
    """The actor behind a bearer token, or UNAUTHENTICATED / IP_NOT_ALLOWED."""
    access = await AccessToken.get_or_none(token_hash=hash_token(token)).select_related(
        "user", "user__firm", "client"
    )
    return _actor_of_access(access, ip, request_id)


async def actor_of_token_id(token_id: int, ip: str, request_id: str = "") -> Actor:
    """The actor behind a token known by its id (a download link names its session so),
    checked exactly as a bearer token is: UNAUTHENTICATED once it has ended."""
    access = await AccessToken.get_or_none(id=token_id).select_related(
        "user", "user__firm", "client"
    )
    return _actor_of_access(access, ip, request_id)


def _actor_of_access(access: AccessToken | None, ip: str, request_id: str) -> Actor:
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
    problems = Problems()  # the new password's rules are told even when the current is wrong
    problems.check(
        check_password_strength,
        new_password,
        personal_words(user.username, user.full_name, user.email),
    )
    # Guesses of the current password (a stolen session) count like failed logins.
    attempt = await throttle.begin(user.username, actor.ip, field_name="currentPassword")
    if not await verify_password(user.password_hash, current_password):
        async with in_transaction():
            await audit.record(
                actor,
                "auth.password_change_failed",
                "User",
                user.id,
                {"reason": WRONG_PASSWORD, **attempt.audit_details()},
            )
        problems.add(DomainError(ErrorCode.INVALID_CREDENTIALS, field="currentPassword"))
        problems.raise_any()
    await throttle.succeeded(attempt)
    problems.raise_any()
    # Only the holder of the current password learns whether a new one was used before.
    await _check_not_reused(user, new_password)
    new_hash = await hash_password(new_password)
    async with in_transaction():
        await remember_password(user)
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


async def _check_not_reused(user: User, new_password: str) -> None:
    """The new password must differ from the current one and the last few."""
    count = get_settings().password_history
    hashes = [user.password_hash]
    if count:
        older = await (
            PasswordHistory.filter(user_id=user.id)
            .order_by("-replaced_at", "-id")
            .limit(count)
            .values_list("password_hash", flat=True)
        )
        hashes.extend(str(h) for h in older)
    for old in hashes:
        if await verify_password(old, new_password):
            raise DomainError(ErrorCode.PASSWORD_REUSED, field="newPassword", count=count)


async def remember_password(user: User) -> None:
    """Keep the hash being replaced in the user's history (only the last few stay). Call it
    inside the transaction that replaces it."""
    count = get_settings().password_history
    if count <= 0:
        return
    await PasswordHistory.create(
        user_id=user.id, password_hash=user.password_hash, replaced_at=clock.now()
    )
    keep = await (
        PasswordHistory.filter(user_id=user.id)
        .order_by("-replaced_at", "-id")
        .limit(count)
        .values_list("id", flat=True)
    )
    await PasswordHistory.filter(user_id=user.id).exclude(id__in=list(keep)).delete()
