"""How failures reach clients: payload errors for expected ones, a request id for the rest."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import Info

from resolvers.db_errors import is_database_unavailable
from resolvers.errors import DomainError, DomainErrors, ErrorCode, render_message
from schema.graphql_messages import in_turkish, translate

log = logging.getLogger("mcks.errors")
# The code of requests GraphQL itself refuses: syntax, validation, limits, variable types.
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"

ErrorCodeType = strawberry.enum(ErrorCode, name="ErrorCode")


@strawberry.type(
    description="An expected failure: what went wrong, where, in the caller's language."
)
class UserError:
    code: ErrorCodeType  # type: ignore[valid-type]
    message: str
    field: str | None = strawberry.field(
        default=None, description="The input field at fault (camelCase path), if any."
    )
    retry_after_seconds: int | None = strawberry.field(
        default=None, description="RATE_LIMITED: how many seconds to wait before trying again."
    )


def retry_after(error: DomainError) -> int | None:
    seconds = error.params.get("seconds")
    return seconds if error.code == ErrorCode.RATE_LIMITED and isinstance(seconds, int) else None


def to_user_errors(error: DomainError, lang: str) -> list[UserError]:
    return [
        UserError(
            code=error.code,
            message=error.message(lang),
            field=error.field,
            retry_after_seconds=retry_after(error),
        )
    ]


T = TypeVar("T")
P = TypeVar("P")


async def mutate(
    info: Info,
    action: Awaitable[T],
    ok: Callable[[T], P],
    failed: Callable[[list[UserError]], P],
) -> P:
    """Run a use case; a DomainError becomes the payload's `errors`, anything else propagates."""
    lang = info.context.lang
    try:
        result = await action
    except DomainError as error:
        return failed(to_user_errors(error, lang))
    except DomainErrors as errors:
        return failed([e for error in errors.errors for e in to_user_errors(error, lang)])
    return ok(result)


# Our own validation rules' codes: their message is the catalogue's, in the caller's language.
TRANSLATED_REFUSALS = frozenset({ErrorCode.ONE_LOGIN_PER_REQUEST.value})


def refused(error: GraphQLError, lang: str | None = None) -> GraphQLError:
    """A request GraphQL itself refused gets VALIDATION_FAILED (set on the error itself:
    the same for every caller), and, for a Turkish caller, a copy in Turkish: graphql-core
    writes English only, and its validation errors are cached objects shared by all callers."""
    code = (error.extensions or {}).get("code")
    if not code:
        code = VALIDATION_FAILED
        error.extensions = {**(error.extensions or {}), "code": code}
    if lang is not None and code in TRANSLATED_REFUSALS:
        return _copy(error, render_message(ErrorCode(code), lang, {}))
    if lang != "tr":
        return error
    if code == VALIDATION_FAILED:
        if "detail" in (error.extensions or {}):
            return error  # a syntax error, put in Turkish where it was raised
        return in_turkish(_copy(error, error.message))
    # Our rules' refusals (they carry their own code), where their shape is known.
    known = translate(error.message)
    return error if known is None else _copy(error, known)


def refused_unparsed(error: GraphQLError, lang: str | None) -> None:
    """A syntax error, answered before ErrorPolicy runs: changed where it is (the parser
    makes a new one per request; only validation errors are cached and shared)."""
    refused(error)
    if lang == "tr" and error.message.startswith("Syntax Error: "):
        in_turkish(error)


def _copy(error: GraphQLError, message: str) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions=dict(error.extensions or {}),
    )


def api_error(code: ErrorCode, lang: str, **params: object) -> GraphQLError:
    """A top-level GraphQL error carrying our code (auth, permissions, not found in queries)."""
    return GraphQLError(render_message(code, lang, params), extensions={"code": code.value})


class ErrorPolicy(SchemaExtension):
    """Expected errors pass with their code; unexpected ones are logged and masked."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if not errors:
            return
        context = self.execution_context.context
        lang = getattr(context, "lang", "tr")
        actor = getattr(context, "actor", None)
        request_id = getattr(actor, "request_id", "")
        result.errors = [self.process(error, lang, request_id) for error in errors]  # type: ignore[union-attr]
        response = getattr(context, "response", None)
        if response is not None and any(unavailable(error) for error in result.errors):  # type: ignore[union-attr]
            response.status_code = 503  # the database's fault: clients and balancers retry

    @staticmethod
    def process(error: GraphQLError, lang: str, request_id: str) -> GraphQLError:
        original = error.original_error
        if original is None or (isinstance(original, GraphQLError) and not error.path):
            # Syntax, validation and limiter errors, and variables that do not coerce to
            # their declared types (no path: the request itself is at fault): safe and
            # useful as they are.
            return refused(error, lang)
        if isinstance(original, DomainError):
            extensions: dict[str, object] = {"code": original.code.value}
            if original.field:
                extensions["field"] = original.field
            seconds = retry_after(original)
            if seconds is not None:
                extensions["retryAfter"] = seconds
            return GraphQLError(
                original.message(lang),
                nodes=error.nodes,
                path=error.path,
                extensions=extensions,
            )
        if isinstance(original, GraphQLError) and (original.extensions or {}).get("code"):
            return error
        if is_database_unavailable(original):
            log.warning(
                "database unavailable in %s (request %s): %s: %s",
                ".".join(str(p) for p in error.path or []),
                request_id,
                type(original).__name__,
                original,
            )
            return GraphQLError(
                render_message(ErrorCode.SERVICE_UNAVAILABLE, lang, {"request_id": request_id}),
                nodes=error.nodes,
                path=error.path,
                extensions={"code": ErrorCode.SERVICE_UNAVAILABLE.value, "requestId": request_id},
            )
        log.error(
            "unexpected error in %s (request %s)",
            ".".join(str(p) for p in error.path or []),
            request_id,
            exc_info=(type(original), original, original.__traceback__),
        )
        return GraphQLError(
            render_message(ErrorCode.INTERNAL_ERROR, lang, {"request_id": request_id}),
            nodes=error.nodes,
            path=error.path,
            extensions={"code": ErrorCode.INTERNAL_ERROR.value, "requestId": request_id},
        )


def unavailable(error: GraphQLError) -> bool:
    return (error.extensions or {}).get("code") == ErrorCode.SERVICE_UNAVAILABLE.value
