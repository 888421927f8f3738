"""Passwords (argon2id) and bearer tokens (random, stored only as a keyed hash)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from resolvers.errors import DomainError, ErrorCode
from resolvers.settings import get_settings

MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "mcks_"


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def _current_hasher() -> PasswordHasher:
    s = get_settings()
    return _hasher(s.argon2_time_cost, s.argon2_memory_kib, s.argon2_parallelism)


def check_password_policy(password: str, field: str = "newPassword") -> None:
    if (
        len(password) < MIN_PASSWORD_LENGTH
        or not re.search(r"[^\W\d_]", password)
        or not re.search(r"\d", password)
    ):
        raise DomainError(ErrorCode.WEAK_PASSWORD, field=field, min_length=MIN_PASSWORD_LENGTH)


async def hash_password(password: str) -> str:
    # argon2 is deliberately slow and memory-hard: keep it off the event loop.
    return await asyncio.to_thread(_current_hasher().hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    def verify() -> bool:
        try:
            return _current_hasher().verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


# A fixed hash to verify against when the username is unknown, so timing does not tell.
_DUMMY_HASH: str | None = None


async def burn_verification(password: str) -> None:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = await hash_password("not-a-real-password-1")
    await verify_password(_DUMMY_HASH, password)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()
