"""Reading a GraphQL JSON body before anything costly happens to it.

The body is read whole (the middleware has already capped it by who sends it), parsed once,
and refused with a specific reason when it is not a GraphQL request: not JSON, not an object,
nested deeper than any of our inputs, or carrying a list longer than any argument accepts.
Only then do graphql-core's variable coercion and the executor see it.

Why no thread for big bodies: json's C parser holds the GIL for the whole parse, so a
thread does not free the event loop (measured: a 7 MB body paused a 1 ms ticker for 106 ms
inline and 53-87 ms from a thread), and a process would hand the objects back by unpickling
at half the cost again. What bounds the pause is the cap: an authenticated JSON body is at
most MCKS_MAX_JSON_BODY_BYTES (2 MB, ~30 ms), a stranger's 64 KB.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import Message, Receive

from resolvers.errors import Bilingual, ErrorCode

# Our deepest input (an input object holding a list of input objects) is a handful of
# levels; 32 leaves room for any legitimate client and stops recursion in coercion.
MAX_NESTING = 32
# No argument accepts more items (checkImeis, submitObservations: 10,000 each).
MAX_LIST_ITEMS = 10_000
REQUEST_KEYS = {"query": str, "variables": dict, "operationName": str, "extensions": dict}


class RequestRefused(Exception):
    """The request is refused before GraphQL runs: HTTP status, code and reason."""

    def __init__(self, status: int, code: ErrorCode, reason_tr: str, reason_en: str) -> None:
        super().__init__(reason_en)
        self.status = status
        self.code = code
        self.reason = Bilingual(reason_tr, reason_en)


def bad_request(reason_tr: str, reason_en: str) -> RequestRefused:
    return RequestRefused(400, ErrorCode.BAD_REQUEST, reason_tr, reason_en)


async def read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole request body, and a `receive` that hands it out again for the general path."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            # The client went away mid-body: let the general path see the same.
            return b"", _replay([message], receive)
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    return body, _replay([{"type": "http.request", "body": body, "more_body": False}], receive)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


def parse_request(body: bytes) -> dict[str, Any]:
    """The GraphQL request in `body`, or RequestRefused saying what is wrong with it."""
    try:
        data = json.loads(body)
    except RecursionError:
        raise _too_deep() from None
    except json.JSONDecodeError as error:
        raise bad_request(
            f"gövde geçerli bir JSON değil (satır {error.lineno}, sütun {error.colno})",
            f"the body is not valid JSON ({error})",
        ) from None
    except (ValueError, UnicodeDecodeError):
        raise bad_request(
            "gövde UTF-8 ile yazılmış geçerli bir JSON değil",
            "the body is not valid JSON in UTF-8",
        ) from None
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise bad_request(
            f'gövde bir JSON nesnesi olmalı ({{"query": ...}}); gelen: {kind}',
            f'the body must be a JSON object ({{"query": ...}}); got: {kind}',
        )
    for key, expected in REQUEST_KEYS.items():
        value = data.get(key)
        if value is not None and not isinstance(value, expected):
            what_tr = "metin" if expected is str else "nesne"
            what_en = "a string" if expected is str else "an object"
            raise bad_request(
                f"'{key}' alanı {what_tr} olmalı", f"the field '{key}' must be {what_en}"
            )
    if data.get("query") is None:
        raise bad_request("'query' alanı eksik", "the field 'query' is missing")
    check_shape(data.get("variables"), "variables")
    return data


def check_shape(value: object, root: str) -> None:
    """Refuse nesting deeper than MAX_NESTING and lists longer than MAX_LIST_ITEMS.

    Iterative, so a hostile value cannot exhaust the stack here either."""
    stack: list[tuple[object, int, str]] = [(value, 0, root)]
    while stack:
        current, depth, path = stack.pop()
        if isinstance(current, dict):
            children: Any = current.items()
        elif isinstance(current, list):
            if len(current) > MAX_LIST_ITEMS:
                raise RequestRefused(
                    413,
                    ErrorCode.PAYLOAD_TOO_LARGE,
                    f"{path} {len(current)} öğe içeriyor; bir listede en fazla "
                    f"{MAX_LIST_ITEMS} öğe olabilir",
                    f"{path} holds {len(current)} items; a list may hold at most {MAX_LIST_ITEMS}",
                )
            children = enumerate(current)
        else:
            continue
        if depth >= MAX_NESTING:
            raise _too_deep()
        for key, child in children:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1, f"{path}.{key}"))


def _too_deep() -> RequestRefused:
    return bad_request(
        f"değişkenler en fazla {MAX_NESTING} düzey iç içe olabilir",
        f"variables may be nested at most {MAX_NESTING} levels deep",
    )
