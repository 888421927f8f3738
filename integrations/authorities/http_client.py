"""`HttpAuthority`: an authority reached over HTTP/JSON at a configurable URL.

Protocol (ours; every authority adapter and the simulator speak it)::

    POST {base_url}/v1/verifications
    Authorization: Bearer <api_key>
    Content-Type: application/json
    X-Request-Id: <hex, new for every call; quote it to the authority when tracing a call>

    {"authority": "CUSTOMS" | "BORDER_RECORDS" | "POPULATION_REGISTRY",
     "declarations": [                         # 1 to MAX_BATCH_SIZE, references unique
       {"reference": "IND-2024-000123",        # ours, echoed back
        "applicant": {"nationalIdNumber": "..."            # a citizen, or
                      | "passportNumber": "...", "nationality": "DE",
                      "fullName": "Ayşe Yılmaz", "birthDate": "1990-04-01"},
        "device": {"imeis": ["35..."], "brand": "APPLE", "model": "A2403"},
        "entryDate": "2024-05-02",
        "customsDeclarationNumber": "..." | null,
        "purchaseCountry": "DE" | null}]}

    200 {"results": [{"reference": "...", "verified": true},
                     {"reference": "...", "verified": false,
                      "reasonCode": "NO_ENTRY_RECORD", "reason": "<free text>" | null}]}

Every reference asked must be answered exactly once and nothing else; `verified` is a JSON
boolean; a refusal carries a non-empty `reasonCode` (see `reasons.ReasonCode`), an approval
none. Unknown fields are ignored so an authority may add some.

How failures map (`retryable` in brackets):

- deadline passed (connect, send, wait or read)         → AuthorityTimeout [yes]
- connection refused/reset, 5xx, 429                     → AuthorityUnavailable [yes]
  (`retry_after_seconds` from the Retry-After header when given)
- 200 with a body that is not the protocol, other status → AuthorityBadAnswer [yes]
- any other 4xx (401 wrong key, 400 our payload, ...)    → AuthorityRequestRejected [no]
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Sequence
from email.utils import parsedate_to_datetime

import httpx

from integrations.authorities.interface import (
    MAX_BATCH_SIZE,
    Answer,
    AuthorityBadAnswer,
    AuthorityError,
    AuthorityKind,
    AuthorityRequestRejected,
    AuthorityTimeout,
    AuthorityUnavailable,
    Declaration,
)
from integrations.authorities.wire import (
    VERIFICATIONS_PATH,
    WireError,
    parse_results,
    request_to_json,
)
from integrations.common_http import PooledClient, ResponseTooLarge, read_capped

logger = logging.getLogger(__name__)

# An answer for MAX_BATCH_SIZE declarations is well under 1 MiB; more is garbage, not data.
DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024
_ERROR_BODY_SHOWN = 200  # characters of an error body quoted in the exception


class HttpAuthority(PooledClient):
    """One authority over HTTP. Reuses one `httpx.AsyncClient` (keep-alive pooling).

    Pass `client` to share a pool between the three authorities; then closing this object
    leaves that client open (its owner closes it). Without `client`, this object owns one and
    `aclose()` (or `async with`) closes it. Personal data is never logged, only counts.
    """

    def __init__(
        self,
        kind: AuthorityKind,
        base_url: str,
        api_key: str,
        timeout_seconds: float = 10.0,
        client: httpx.AsyncClient | None = None,
        *,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"{kind.value}: base_url must be an http(s) URL, got {base_url!r}")
        if not api_key:
            raise ValueError(f"{kind.value}: api_key is required")
        if timeout_seconds <= 0:
            raise ValueError(f"{kind.value}: timeout_seconds must be positive")
        self._kind = kind
        self._url = base_url.rstrip("/") + VERIFICATIONS_PATH
        self._api_key = api_key
        self._timeout_seconds = timeout_seconds
        self._max_response_bytes = max_response_bytes
        super().__init__(client)

    @property
    def kind(self) -> AuthorityKind:
        return self._kind

    async def verify_batch(self, declarations: Sequence[Declaration]) -> dict[str, Answer]:
        if not declarations:
            return {}
        references = [d.reference for d in declarations]
        if len(set(references)) != len(references):
            raise ValueError("each reference may appear once in a batch")
        if len(declarations) > MAX_BATCH_SIZE:
            raise ValueError(f"a batch holds at most {MAX_BATCH_SIZE} declarations")
        request_id = uuid.uuid4().hex
        started = time.monotonic()
        try:
            payload = await self._post(request_to_json(self._kind, declarations), request_id)
            try:
                answers = parse_results(payload, references)
            except WireError as exc:
                raise AuthorityBadAnswer(self._kind, str(exc), request_id=request_id) from exc
        except AuthorityError as exc:
            logger.warning(
                "authority=%s request_id=%s declarations=%d failed after %.0f ms: %s [%s]",
                self._kind.value,
                request_id,
                len(declarations),
                (time.monotonic() - started) * 1000,
                exc,
                type(exc).__name__,
            )
            raise
        verified = sum(1 for a in answers.values() if a.verified)
        logger.info(
            "authority=%s request_id=%s declarations=%d verified=%d not_verified=%d in %.0f ms",
            self._kind.value,
            request_id,
            len(declarations),
            verified,
            len(answers) - verified,
            (time.monotonic() - started) * 1000,
        )
        return answers

    async def _post(self, body: dict[str, object], request_id: str) -> object:
        """POST the request; the decoded JSON of a 200 answer, or a typed AuthorityError."""
        kind = self._kind
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-Request-Id": request_id,
        }
        content = json.dumps(body, ensure_ascii=False).encode()
        try:
            # httpx's timeout bounds each phase; the outer one bounds the whole call, so an
            # authority trickling bytes cannot hold a worker past the deadline.
            async with asyncio.timeout(self._timeout_seconds):
                async with self._client.stream(
                    "POST",
                    self._url,
                    content=content,
                    headers=headers,
                    timeout=httpx.Timeout(self._timeout_seconds),
                ) as response:
                    if response.status_code != 200:
                        raise await self._status_error(response, request_id)
                    raw = await read_capped(response, self._max_response_bytes)
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise AuthorityTimeout(
                kind, f"no answer within {self._timeout_seconds:g} s", request_id=request_id
            ) from exc
        except httpx.DecodingError as exc:  # a broken Content-Encoding
            raise AuthorityBadAnswer(
                kind, f"undecodable body: {exc}", request_id=request_id
            ) from exc
        except httpx.TransportError as exc:
            raise AuthorityUnavailable(
                kind, f"{type(exc).__name__}: {exc}".rstrip(": "), request_id=request_id
            ) from exc
        except ResponseTooLarge as exc:
            raise AuthorityBadAnswer(
                kind, f"answer larger than {self._max_response_bytes} bytes", request_id=request_id
            ) from exc
        try:
            return json.loads(raw)
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            raise AuthorityBadAnswer(
                kind, f"answer is not JSON: {exc}", request_id=request_id
            ) from exc

    async def _status_error(self, response: httpx.Response, request_id: str) -> AuthorityError:
        status = response.status_code
        try:
            snippet = (await read_capped(response, 4096)).decode("utf-8", "replace")
        except ResponseTooLarge:
            snippet = ""
        snippet = " ".join(snippet.split())[:_ERROR_BODY_SHOWN]
        message = f"HTTP {status} {response.reason_phrase}" + (f": {snippet}" if snippet else "")
        if status == 429 or status >= 500:
            return AuthorityUnavailable(
                self._kind,
                message,
                status_code=status,
                retry_after_seconds=_retry_after(response.headers.get("Retry-After")),
                request_id=request_id,
            )
        if 400 <= status < 500:
            return AuthorityRequestRejected(
                self._kind, message, status_code=status, request_id=request_id
            )
        return AuthorityBadAnswer(
            self._kind, f"unexpected {message}", status_code=status, request_id=request_id
        )


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), if it makes sense."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())
