"""What a long-lived session (a WebSocket) needs to know about its bearer token."""

from __future__ import annotations

from datetime import datetime

from models.accounts import AccessToken
from resolvers.accounts.credentials import hash_token


async def token_expires_at(token: str) -> datetime | None:
    """When the token stops working by itself (None: unknown token)."""
    rows = await AccessToken.filter(token_hash=hash_token(token)).values_list(
        "expires_at", flat=True
    )
    return rows[0] if rows else None
