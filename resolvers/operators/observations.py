"""Network observations uploaded by operators in batches, idempotent by the batch key.

A batch is stored whole or not at all; rows that are not usable (a bad IMEI, IMSI or time)
are reported by position and skipped. The same key again (a retry) stores nothing and
answers with the first upload's counts. An observation is a network attach: observed IMEIs
that a check with the subscriber's number would answer GRACE_PERIOD start their clock here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import clock
from models.imei import normalise_network_imei
from models.imei_status import normalise_msisdn
from models.network import ObservationBatch
from models.roles import Role
from resolvers import audit, bulk
from resolvers.actor import Actor
from resolvers.errors import DomainError, ErrorCode, invalid
from resolvers.operators.checks import attach_observed

MAX_OBSERVATIONS_PER_BATCH = 10_000
BATCH_KEY_RE = re.compile(r"^[A-Za-z0-9._:/-]{1,128}$")
# Clocks of network elements drift; anything later than this is a wrong time, not a sighting.
FUTURE_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Observation:
    imei: str  # as the network sends it: 14, 15 or 16 digits
    imsi: str
    seen_at: datetime
    msisdn: str = ""


@dataclass(frozen=True, slots=True)
class RejectedObservation:
    index: int  # position in the uploaded list, from 0
    field: str
    reason: str


@dataclass(frozen=True, slots=True)
class ObservationReceipt:
    batch_key: str
    accepted: int
    rejected: int
    received_at: datetime
    # True when this key was uploaded before: nothing was stored this time.
    replayed: bool = False
    rejections: list[RejectedObservation] = field(default_factory=list)


def _check(
    index: int, item: Observation, now: datetime
) -> tuple[tuple, RejectedObservation | None]:
    imei = normalise_network_imei(item.imei.strip())
    if imei is None:
        return (), RejectedObservation(index, "imei", "INVALID_IMEI")
    imsi = item.imsi.strip()
    if not (6 <= len(imsi) <= 15 and imsi.isascii() and imsi.isdigit()):
        return (), RejectedObservation(index, "imsi", "INVALID_IMSI")
    msisdn = normalise_msisdn(item.msisdn) if item.msisdn.strip() else ""
    if msisdn is None or len(msisdn) > 15:
        return (), RejectedObservation(index, "msisdn", "INVALID_MSISDN")
    seen_at = item.seen_at if item.seen_at.tzinfo else item.seen_at.replace(tzinfo=UTC)
    seen_at = seen_at.astimezone(UTC)
    if seen_at > now + FUTURE_TOLERANCE:
        return (), RejectedObservation(index, "seenAt", "IN_THE_FUTURE")
    return (imei, imsi, msisdn, seen_at), None


async def submit(
    actor: Actor, batch_key: str, observations: Sequence[Observation]
) -> ObservationReceipt:
    if actor.role != Role.OPERATOR or not actor.operator_code:
        raise DomainError(ErrorCode.FORBIDDEN)
    batch_key = batch_key.strip()
    if not BATCH_KEY_RE.match(batch_key):
        raise invalid(
            "batchKey",
            "parti anahtarı 1-128 karakter: harf, rakam ve . _ : / - işaretleri",
            "the batch key is 1-128 characters: letters, digits and . _ : / -",
        )
    if len(observations) > MAX_OBSERVATIONS_PER_BATCH:
        raise invalid(
            "observations",
            f"bir partide en fazla {MAX_OBSERVATIONS_PER_BATCH} gözlem olabilir",
            f"at most {MAX_OBSERVATIONS_PER_BATCH} observations per batch",
        )
    operator = actor.operator_code
    previous = await ObservationBatch.get_or_none(operator_code=operator, batch_key=batch_key)
    if previous is not None:
        return _replayed(previous)

    now = clock.now()
    rows: list[tuple] = []
    rejections: list[RejectedObservation] = []
    for index, item in enumerate(observations):
        row, rejection = _check(index, item, now)
        if rejection is None:
            rows.append(row)
        else:
            rejections.append(rejection)
    try:
        async with in_transaction():
            batch = await ObservationBatch.create(
                operator_code=operator,
                batch_key=batch_key,
                accepted=len(rows),
                rejected=len(rejections),
                received_at=now,
            )
            await bulk.insert_rows(
                "network_observation",
                ("batch_id", "operator_code", "imei", "imsi", "msisdn", "seen_at"),
                ((batch.id, operator, *row) for row in rows),
            )
            await attach_observed(actor, {row[0] for row in rows}, now)
            await audit.record(
                actor,
                "observations.received",
                "ObservationBatch",
                batch.id,
                {"batchKey": batch_key, "accepted": len(rows), "rejected": len(rejections)},
            )
    except IntegrityError:
        # The same key uploaded concurrently: the other upload won; answer as a retry.
        winner = await ObservationBatch.get_or_none(operator_code=operator, batch_key=batch_key)
        if winner is None:
            raise
        return _replayed(winner)
    return ObservationReceipt(
        batch_key=batch_key,
        accepted=len(rows),
        rejected=len(rejections),
        received_at=now,
        rejections=rejections,
    )


def _replayed(batch: ObservationBatch) -> ObservationReceipt:
    return ObservationReceipt(
        batch_key=batch.batch_key,
        accepted=batch.accepted,
        rejected=batch.rejected,
        received_at=batch.received_at,
        replayed=True,
    )
