"""Operator-interface mutations: the blacklist and network observations."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from models.roles import Role
from resolvers.operators import blacklist, clones, quota
from resolvers.operators import observations as uploads
from schema.context import actor_of, lang_of
from schema.errors import mutate
from schema.operators.types import (
    BlacklistEntryType,
    BlacklistPayload,
    BlacklistReasonType,
    ClientCheckQuotaPayload,
    CloneDetectionPayload,
    CloneSuspicionPayload,
    CloneSuspicionType,
    ObservationReceiptType,
    ObservationsPayload,
)
from schema.permissions import requires

BLACKLIST_EDITORS = requires(Role.OPERATOR, Role.STAFF_REVIEWER, Role.STAFF_ADMIN)
CLONE_STAFF = requires(Role.STAFF_REVIEWER, Role.STAFF_ADMIN)


@strawberry.input
class AddToBlacklistInput:
    imei: str
    reason: BlacklistReasonType  # type: ignore[valid-type]
    reference: str = strawberry.field(description="The report's reference (e.g. police file).")
    note: str = ""


@strawberry.input
class ObservationInput:
    imei: str = strawberry.field(description="As the network sends it: 14, 15 or 16 digits.")
    imsi: str
    seen_at: datetime
    msisdn: str = ""


@strawberry.type
class OperatorMutations:
    @strawberry.mutation(
        extensions=BLACKLIST_EDITORS,
        description="Report a lost, stolen, smuggled, altered or barred IMEI. The answer's "
        "`entry.reportNumber` is the registry's number for the report: give it to the owner.",
    )
    async def add_to_blacklist(self, info: Info, input: AddToBlacklistInput) -> BlacklistPayload:
        lang = lang_of(info)
        return await mutate(
            info,
            blacklist.add(actor_of(info), input.imei, input.reason, input.reference, input.note),
            lambda entry: BlacklistPayload(entry=BlacklistEntryType.of(entry, lang)),
            lambda errors: BlacklistPayload(errors=errors),
        )

    @strawberry.mutation(
        extensions=BLACKLIST_EDITORS,
        description="Lift a report (device recovered). Staff lift any; an operator its own "
        "reports, or any report whose `reportNumber` the owner brings.",
    )
    async def remove_from_blacklist(
        self, info: Info, imei: str, note: str, report_number: str | None = None
    ) -> BlacklistPayload:
        lang = lang_of(info)
        return await mutate(
            info,
            blacklist.remove(actor_of(info), imei, note, report_number),
            lambda entry: BlacklistPayload(entry=BlacklistEntryType.of(entry, lang)),
            lambda errors: BlacklistPayload(errors=errors),
        )

    @strawberry.mutation(
        extensions=CLONE_STAFF,
        description="Run the clone detector now over the observations not scanned yet.",
    )
    async def run_clone_detection(self, info: Info) -> CloneDetectionPayload:
        return await mutate(
            info,
            clones.run_now(actor_of(info)),
            lambda opened: CloneDetectionPayload(opened=[CloneSuspicionType.of(s) for s in opened]),
            lambda errors: CloneDetectionPayload(errors=errors),
        )

    @strawberry.mutation(
        extensions=CLONE_STAFF,
        description="Dismiss an open clone suspicion (not a clone) with the reason; only "
        "sightings after this can open it again.",
    )
    async def dismiss_clone_suspicion(
        self, info: Info, id: int, reason: str
    ) -> CloneSuspicionPayload:
        return await mutate(
            info,
            clones.dismiss(actor_of(info), id, reason),
            lambda suspicion: CloneSuspicionPayload(suspicion=CloneSuspicionType.of(suspicion)),
            lambda errors: CloneSuspicionPayload(errors=errors),
        )

    @strawberry.mutation(
        extensions=requires(Role.OPERATOR),
        description="Upload network observations (up to 10,000). Idempotent by `batchKey`, "
        "the operator's own id for the batch: a retry stores nothing twice.",
    )
    async def submit_observations(
        self, info: Info, batch_key: str, observations: list[ObservationInput]
    ) -> ObservationsPayload:
        items = [
            uploads.Observation(imei=o.imei, imsi=o.imsi, seen_at=o.seen_at, msisdn=o.msisdn)
            for o in observations
        ]
        return await mutate(
            info,
            uploads.submit(actor_of(info), batch_key, items),
            lambda receipt: ObservationsPayload(receipt=ObservationReceiptType.of(receipt)),
            lambda errors: ObservationsPayload(errors=errors),
        )

    @strawberry.mutation(
        extensions=requires(Role.STAFF_ADMIN),
        description="Set a machine client's quota of IMEIs checked per minute (`checkImeis`, "
        "every alias counted, across all gateway processes); null: back to the default "
        "(MCKS_CHECK_QUOTA_PER_MINUTE); 0: unlimited. Audited; in force within a minute.",
    )
    async def set_client_check_quota(
        self, info: Info, client_id: int, checks_per_minute: int | None = None
    ) -> ClientCheckQuotaPayload:
        async def action() -> tuple[int, int | None, int]:
            client = await quota.set_client_quota(actor_of(info), client_id, checks_per_minute)
            return client.id, client.checks_per_minute, await quota.effective_quota(client.id)

        return await mutate(
            info,
            action(),
            lambda done: ClientCheckQuotaPayload(
                client_id=done[0], checks_per_minute=done[1], effective_checks_per_minute=done[2]
            ),
            lambda errors: ClientCheckQuotaPayload(errors=errors),
        )
