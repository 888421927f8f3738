"""A simulator of the three verification authorities, for tests and the demo.

One small HTTP service speaks the protocol of `http_client` for all three authorities (the
request's `authority` field says which one is asked). It answers by fixed rules on the input,
so a test or a demo script reaches every path by choosing the data.

Rules are keyed on markers: words starting with `SIM-` in the applicant's full name (any
case), e.g. `"Ayşe SIM-NO-ENTRY Yılmaz"`. Markers, not identity-number digits, because a
valid Turkish national id number always ends in an even digit, so digit rules would be
unreachable once numbers are validated. Names without markers get plain answers.

Verdicts (each marker belongs to one authority; the others verify the declaration):

    marker                  authority             answer
    SIM-NO-ENTRY            BORDER_RECORDS        not verified, NO_ENTRY_RECORD
    SIM-ENTRY-DATE          BORDER_RECORDS        not verified, ENTRY_DATE_MISMATCH
    SIM-NO-CUSTOMS          CUSTOMS               not verified, CUSTOMS_DECLARATION_NOT_FOUND
    SIM-NOT-IN-CUSTOMS      CUSTOMS               not verified, DEVICE_NOT_IN_CUSTOMS_DECLARATION
    SIM-NO-IDENTITY         POPULATION_REGISTRY   not verified, IDENTITY_NOT_FOUND
    SIM-IDENTITY-MISMATCH   POPULATION_REGISTRY   not verified, IDENTITY_MISMATCH
    (no customs number)     CUSTOMS               not verified, CUSTOMS_DECLARATION_NOT_FOUND
    (passport applicant)    POPULATION_REGISTRY   not verified, IDENTITY_NOT_FOUND
    (anything else)         any                   verified

Faults (every authority, or only one with a suffix: `SIM-SLOW@CUSTOMS`,
`SIM-5XX@BORDER_RECORDS`, ...); one marked declaration affects its whole batch, except the
last two, which affect only its own result:

    SIM-SLOW         waits `slow_delay_seconds` before answering (longer than a client timeout)
    SIM-TRICKLE      sends a correct answer in 10 pieces spread over `slow_delay_seconds`:
                     every gap is short, only an overall deadline stops the wait
    SIM-429          429 Too Many Requests, Retry-After: 2
    SIM-5XX          503 Service Unavailable (an HTML page), Retry-After: 1
    SIM-MALFORMED    200 with truncated JSON
    SIM-WRONG-SHAPE  200 with JSON off the protocol ("verified": "yes")
    SIM-MISSING      200, this declaration's result left out
    SIM-UNKNOWN-REF  200, plus a result for a reference nobody asked about

If several batch faults apply: SIM-429, then SIM-5XX, SIM-MALFORMED, SIM-WRONG-SHAPE,
SIM-TRICKLE; SIM-SLOW delays whichever answer follows. A wrong API key gets 401; a request
off the protocol or an unknown `SIM-` marker (a typo in test data) gets 400; more than
MAX_BATCH_SIZE declarations, 413.

Run it standalone for the demo: `python -m integrations.authorities.simulator --port 8101`.
In tests: `async with serve_simulator() as base_url: ...` (loopback, ephemeral port).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import json
import logging
import os
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from integrations.authorities.interface import (
    MAX_BATCH_SIZE,
    Answer,
    AuthorityKind,
    Declaration,
    Passport,
    Verdict,
)
from integrations.authorities.reasons import ReasonCode, reason_for
from integrations.authorities.wire import (
    VERIFICATIONS_PATH,
    WireError,
    answer_to_json,
    parse_request,
)
from integrations.common_http import serve_app

logger = logging.getLogger(__name__)

DEFAULT_API_KEY = "simulator-key"
DEFAULT_SLOW_DELAY_SECONDS = 15.0  # longer than HttpAuthority's default 10 s timeout
API_KEY_ENV = "MCKS_AUTHORITY_SIMULATOR_API_KEY"

_MARKER = re.compile(r"(?<![\w-])SIM-[A-Z0-9-]*[A-Z0-9](?:@[A-Z_]+)?", re.IGNORECASE)


class Fault(StrEnum):
    SLOW = "SIM-SLOW"
    TRICKLE = "SIM-TRICKLE"
    RATE_LIMITED = "SIM-429"
    UNAVAILABLE = "SIM-5XX"
    MALFORMED = "SIM-MALFORMED"
    WRONG_SHAPE = "SIM-WRONG-SHAPE"
    MISSING = "SIM-MISSING"
    UNKNOWN_REFERENCE = "SIM-UNKNOWN-REF"


VERDICT_MARKERS: dict[str, tuple[AuthorityKind, ReasonCode]] = {
    "SIM-NO-ENTRY": (AuthorityKind.BORDER_RECORDS, ReasonCode.NO_ENTRY_RECORD),
    "SIM-ENTRY-DATE": (AuthorityKind.BORDER_RECORDS, ReasonCode.ENTRY_DATE_MISMATCH),
    "SIM-NO-CUSTOMS": (AuthorityKind.CUSTOMS, ReasonCode.CUSTOMS_DECLARATION_NOT_FOUND),
    "SIM-NOT-IN-CUSTOMS": (AuthorityKind.CUSTOMS, ReasonCode.DEVICE_NOT_IN_CUSTOMS_DECLARATION),
    "SIM-NO-IDENTITY": (AuthorityKind.POPULATION_REGISTRY, ReasonCode.IDENTITY_NOT_FOUND),
    "SIM-IDENTITY-MISMATCH": (AuthorityKind.POPULATION_REGISTRY, ReasonCode.IDENTITY_MISMATCH),
}
_FAULTS_BY_MARKER = {fault.value: fault for fault in Fault}
_BATCH_FAULTS_IN_ORDER = (
    Fault.RATE_LIMITED,
    Fault.UNAVAILABLE,
    Fault.MALFORMED,
    Fault.WRONG_SHAPE,
    Fault.TRICKLE,
)
_TRICKLE_PIECES = 10


class MarkerError(ValueError):
    """A `SIM-` word the simulator does not know: almost surely a typo in test data."""


@dataclass(frozen=True, slots=True)
class _Plan:
    answer: Answer
    faults: frozenset[Fault]


def _plan(kind: AuthorityKind, declaration: Declaration) -> _Plan:
    """What this authority answers for this declaration, by the rules in the module docstring."""
    faults: set[Fault] = set()
    refusal: ReasonCode | None = None
    for word in _MARKER.findall(declaration.applicant.full_name):
        marker, _, scope = word.upper().partition("@")
        if marker in VERDICT_MARKERS:
            if scope:
                raise MarkerError(f"{word}: a verdict marker names its authority already")
            marker_kind, code = VERDICT_MARKERS[marker]
            if marker_kind is kind and refusal is None:
                refusal = code
        elif marker in _FAULTS_BY_MARKER:
            if scope and scope not in AuthorityKind.__members__:
                raise MarkerError(f"{word}: unknown authority {scope!r}")
            if not scope or scope == kind.value:
                faults.add(_FAULTS_BY_MARKER[marker])
        else:
            raise MarkerError(f"{word}: unknown simulator marker")
    if refusal is None:
        if kind is AuthorityKind.CUSTOMS and declaration.customs_declaration_no is None:
            refusal = ReasonCode.CUSTOMS_DECLARATION_NOT_FOUND
        elif kind is AuthorityKind.POPULATION_REGISTRY and isinstance(
            declaration.applicant.identity, Passport
        ):
            refusal = ReasonCode.IDENTITY_NOT_FOUND
    if refusal is None:
        answer = Answer(declaration.reference, Verdict.VERIFIED)
    else:
        # The simulated authority "writes" its note in Turkish, as the real ones do.
        note = reason_for(refusal).message_tr
        answer = Answer(declaration.reference, Verdict.NOT_VERIFIED, reason_for(refusal, note))
    return _Plan(answer, frozenset(faults))


async def _hold(seconds: float | None, released: asyncio.Event) -> None:
    """Wait `seconds`, or with None until the simulator stops (`released`): a client's
    deadline then passes for certain, however loaded the machine is."""
    if seconds is None:
        await released.wait()
    else:
        await asyncio.sleep(seconds)


async def _trickle(
    body: bytes, over_seconds: float | None, released: asyncio.Event
) -> AsyncIterator[bytes]:
    size = -(-len(body) // _TRICKLE_PIECES)  # ceiling division
    for start in range(0, len(body), size):
        await _hold(None if over_seconds is None else over_seconds / _TRICKLE_PIECES, released)
        yield body[start : start + size]


def _error(status: int, error: str, detail: str | None = None) -> JSONResponse:
    body = {"error": error} if detail is None else {"error": error, "detail": detail}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def create_simulator_app(
    api_key: str = DEFAULT_API_KEY,
    *,
    slow_delay_seconds: float | None = DEFAULT_SLOW_DELAY_SECONDS,
    released: asyncio.Event | None = None,
) -> Starlette:
    """The simulator as an ASGI app; `slow_delay_seconds` is how long SIM-SLOW waits (None:
    until `released` is set, which `serve_simulator` does when it stops)."""
    expected_authorization = f"Bearer {api_key}".encode()
    release = released or asyncio.Event()

    async def verifications(request: Request) -> Response:
        authorization = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(authorization, expected_authorization):
            return _error(401, "unauthorized")
        try:
            kind, declarations = parse_request(json.loads(await request.body()))
            if len(declarations) > MAX_BATCH_SIZE:
                return _error(413, "too_many_declarations", f"at most {MAX_BATCH_SIZE}")
            plans = [_plan(kind, d) for d in declarations]
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            return _error(400, "bad_request", f"not JSON: {exc}")
        except (WireError, MarkerError) as exc:
            return _error(400, "bad_request", str(exc))
        faults: frozenset[Fault] = frozenset().union(*(plan.faults for plan in plans))
        logger.info(
            "simulated %s: %d declarations, faults %s",
            kind.value,
            len(plans),
            sorted(faults) or "none",
        )
        if Fault.SLOW in faults:
            await _hold(slow_delay_seconds, release)
        batch_fault = next((f for f in _BATCH_FAULTS_IN_ORDER if f in faults), None)
        if batch_fault is Fault.RATE_LIMITED:
            return JSONResponse({"error": "rate_limited"}, 429, headers={"Retry-After": "2"})
        if batch_fault is Fault.UNAVAILABLE:
            page = "<html><body><h1>503 Service Unavailable</h1></body></html>"
            return Response(page, 503, headers={"Retry-After": "1"}, media_type="text/html")
        if batch_fault is Fault.MALFORMED:
            return Response('{"results": [{"reference": ', 200, media_type="application/json")
        if batch_fault is Fault.WRONG_SHAPE:
            wrong = [{"reference": plan.answer.reference, "verified": "yes"} for plan in plans]
            return JSONResponse({"results": wrong})
        results = []
        for plan in plans:
            if Fault.MISSING not in plan.faults:
                results.append(answer_to_json(plan.answer))
            if Fault.UNKNOWN_REFERENCE in plan.faults:
                stray = Answer(plan.answer.reference + "-UNASKED", Verdict.VERIFIED)
                results.append(answer_to_json(stray))
        if batch_fault is Fault.TRICKLE:
            body = json.dumps({"results": results}).encode()
            return StreamingResponse(
                _trickle(body, slow_delay_seconds, release), media_type="application/json"
            )
        return JSONResponse({"results": results})

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route(VERIFICATIONS_PATH, verifications, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ]
    )


@contextlib.asynccontextmanager
async def serve_simulator(
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    api_key: str = DEFAULT_API_KEY,
    slow_delay_seconds: float | None = DEFAULT_SLOW_DELAY_SECONDS,
) -> AsyncIterator[str]:
    """Run the simulator on `host:port` (0: a free port) in this loop; yields its base URL."""
    released = asyncio.Event()
    app = create_simulator_app(api_key, slow_delay_seconds=slow_delay_seconds, released=released)
    async with serve_app(app, host, port, "authority simulator") as base_url:
        try:
            yield base_url
        finally:
            released.set()  # held SIM-SLOW requests answer now: nothing holds the shutdown


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m integrations.authorities.simulator",
        description="Simulated customs, entry/exit records and population registry.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument(
        "--api-key",
        default=os.environ.get(API_KEY_ENV) or DEFAULT_API_KEY,
        help=f"bearer key clients must send (default: ${API_KEY_ENV} or {DEFAULT_API_KEY!r})",
    )
    parser.add_argument(
        "--slow-delay",
        type=float,
        default=DEFAULT_SLOW_DELAY_SECONDS,
        help="seconds SIM-SLOW waits before answering",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    app = create_simulator_app(args.api_key, slow_delay_seconds=args.slow_delay)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
