"""Passwords (argon2id) and bearer tokens (random, stored only as a keyed hash)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
import weakref
from collections.abc import Iterable
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from resolvers.errors import DomainError, ErrorCode
from resolvers.settings import get_settings

MIN_PASSWORD_LENGTH = 10
# zxcvbn's cost grows with the length and it refuses longer input: rate the first so many
# characters (a long password is not weak for what follows them).
ESTIMATED_LENGTH = 72
TOKEN_PREFIX = "mcks_"


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def _current_hasher() -> PasswordHasher:
    s = get_settings()
    return _hasher(s.argon2_time_cost, s.argon2_memory_kib, s.argon2_parallelism)


# One semaphore per event loop (an asyncio.Semaphore belongs to the loop that first waits
# on it; tests run a loop per test).
_SLOTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _hash_slots() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slots = _SLOTS.get(loop)
    if slots is None:
        slots = _SLOTS[loop] = asyncio.Semaphore(get_settings().argon2_max_concurrency)
    return slots


async def hash_password(password: str) -> str:
    # argon2 is deliberately slow and memory-hard: keep it off the event loop, and bound how
    # many run at once so a burst of logins cannot take every core and argon2's memory.
    async with _hash_slots():
        return await asyncio.to_thread(_current_hasher().hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    def verify() -> bool:
        try:
            return _current_hasher().verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    async with _hash_slots():
        return await asyncio.to_thread(verify)


# A fixed hash to verify against when the username is unknown, so timing does not tell.
_DUMMY_HASH: str | None = None


async def burn_verification(password: str) -> None:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = await hash_password("not-a-real-password-1")
    await verify_password(_DUMMY_HASH, password)


def _folded(text: str) -> str:
    """Lower-case letters and digits only, Turkish dotted/dotless i alike: what a person
    would consider "the same word" in a password (`Ayşe.Yılmaz` → `ayşeyilmaz`)."""
    text = text.replace("İ", "i").replace("I", "i").replace("ı", "i").casefold()
    return "".join(ch for ch in text if ch.isalnum())


def personal_words(username: str, full_name: str = "", email: str = "") -> list[str]:
    """The user's own words a password must not contain: the username (whole and its
    parts), the words of the full name, the e-mail's local part. Shorter words than four
    letters would forbid too much (`ali` is in `Kalite`); zxcvbn still weighs them."""
    words = [username, email.split("@")[0]]
    words += re.split(r"[._\-\s]+", username)
    words += full_name.split()
    return [w for w in (_folded(word) for word in words) if len(w) >= 4]


def check_password_strength(
    password: str, personal: Iterable[str] = (), field: str = "newPassword"
) -> None:
    """A new password: long enough with letters and digits, free of the user's own words,
    and not guessable by zxcvbn's dictionaries and patterns (score below the setting)."""
    if (
        len(password) < MIN_PASSWORD_LENGTH
        or not re.search(r"[^\W\d_]", password)
        or not re.search(r"\d", password)
    ):
        raise DomainError(ErrorCode.WEAK_PASSWORD, field=field, min_length=MIN_PASSWORD_LENGTH)
    words = list(personal)
    folded = _folded(password)
    if any(word in folded for word in words):
        raise DomainError(ErrorCode.PASSWORD_CONTAINS_PERSONAL_DATA, field=field)
    score = zxcvbn(password[:ESTIMATED_LENGTH], user_inputs=words)["score"]
    if score < get_settings().password_min_score:
        raise DomainError(ErrorCode.PASSWORD_TOO_GUESSABLE, field=field)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()
