"""The assembled GraphQL schema: the root types compose each area's queries and mutations."""

from __future__ import annotations

from pathlib import Path

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.accounts.mutations import AccountMutations
from schema.accounts.queries import AccountQueries
from schema.after.mutations import AfterRegistrationMutations
from schema.after.queries import AfterRegistrationQueries
from schema.after.subscriptions import AfterRegistrationSubscriptions
from schema.applications.mutations import ApplicationMutations
from schema.applications.queries import ApplicationQueries
from schema.applications.subscriptions import ApplicationSubscriptions
from schema.audit.queries import AuditQueries
from schema.common import CommonQueries
from schema.errors import ErrorPolicy, refused_unparsed
from schema.individuals.mutations import IndividualMutations
from schema.individuals.queries import IndividualQueries
from schema.individuals.subscriptions import IndividualSubscriptions
from schema.jobs.schema import JobMutations, JobQueries, JobSubscriptions
from schema.limits import limit_extensions
from schema.observability import OperationLabel
from schema.operators.mutations import OperatorMutations
from schema.operators.queries import OperatorQueries
from schema.operators.subscriptions import OperatorSubscriptions
from schema.signers.schema import SignerMutations, SignerQueries
from schema.tac.mutations import TacMutations
from schema.tac.queries import TacQueries
from schema.workflow.mutations import WorkflowMutations
from schema.workflow.outbox import OutboxMutations, OutboxQueries
from schema.workflow.queries import WorkflowQueries

SDL_PATH = Path(__file__).resolve().parent.parent / "schema.graphql"


@strawberry.type
class Query(
    AccountQueries,
    ApplicationQueries,
    WorkflowQueries,
    OutboxQueries,
    AuditQueries,
    JobQueries,
    TacQueries,
    OperatorQueries,
    IndividualQueries,
    AfterRegistrationQueries,
    SignerQueries,
    CommonQueries,
):
    pass


@strawberry.type
class Mutation(
    AccountMutations,
    ApplicationMutations,
    WorkflowMutations,
    OutboxMutations,
    JobMutations,
    TacMutations,
    OperatorMutations,
    IndividualMutations,
    AfterRegistrationMutations,
    SignerMutations,
):
    pass


@strawberry.type
class Subscription(
    ApplicationSubscriptions,
    IndividualSubscriptions,
    JobSubscriptions,
    OperatorSubscriptions,
    AfterRegistrationSubscriptions,
):
    pass


class GatewaySchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # ErrorPolicy logs the unexpected ones with the request id; the rest are expected.
        # Syntax errors are answered before ErrorPolicy runs: give them its code here.
        lang = getattr(getattr(execution_context, "context", None), "lang", None)
        for error in errors:
            if error.original_error is None:
                refused_unparsed(error, lang)


def build_schema(development: bool = False) -> strawberry.Schema:
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[*limit_extensions(), ErrorPolicy, OperationLabel],  # type: ignore[list-item]
        # "Did you mean …?" reads the schema out to anyone who guesses field names.
        config=StrawberryConfig(disable_field_suggestions=not development),
    )


def export_sdl() -> str:
    return build_schema().as_str() + "\n"
