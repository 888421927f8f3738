"""What operators' networks tell us: observations, pairings, clone suspicions.

(First attaches, which start an unregistered IMEI's grace period, are `models.grace`.)
Observations arrive in batches, idempotent by the
operator's own batch key; the clone detector scans the batches not yet scanned.
`clone_in_window` is the pure rule it applies.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.labels import register


class ObservationBatch(Model):
    """One upload of network observations. A retry with the same key changes nothing."""

    id = fields.BigIntField(primary_key=True)
    operator_code = fields.CharField(max_length=16)
    batch_key = fields.CharField(max_length=128)
    accepted = fields.IntField()
    rejected = fields.IntField()
    received_at = fields.DatetimeField()
    # Set by the clone detector once it has looked at this batch's IMEIs.
    scanned_at = fields.DatetimeField(null=True, db_index=True)

    class Meta:
        table = "observation_batch"
        unique_together = (("operator_code", "batch_key"),)


class NetworkObservation(Model):
    """An IMEI seen on a network with a subscriber (IMSI, MSISDN) at a time.

    IMSI and MSISDN are personal data: they serve clone detection and pairing only and are
    never part of an answer to operators or the public.
    """

    id = fields.BigIntField(primary_key=True)
    batch_id = fields.BigIntField(db_index=True)
    operator_code = fields.CharField(max_length=16)
    imei = fields.CharField(max_length=15)
    imsi = fields.CharField(max_length=15)
    msisdn = fields.CharField(max_length=15, default="")
    seen_at = fields.DatetimeField()

    class Meta:
        table = "network_observation"
        indexes = (("imei", "seen_at"),)


class ImeiPairing(Model):
    """An IMEI allowed only with one phone number (Tebliğ art. 14), written by pairing."""

    id = fields.BigIntField(primary_key=True)
    imei = fields.CharField(max_length=15, unique=True)
    # Digits in international form (`models.imei_status.normalise_msisdn`).
    msisdn = fields.CharField(max_length=15)
    firm_id = fields.IntField(null=True, db_index=True)
    paired_by = fields.CharField(max_length=255, default="")
    paired_at = fields.DatetimeField()

    class Meta:
        table = "imei_pairing"


class CloneStatus(StrEnum):
    # Open: operators see CLONE_SUSPECTED; the firm that registered it is to pair it.
    OPEN = "OPEN"
    # Closed by a pairing (or by staff): operators no longer see the suspicion.
    CLOSED = "CLOSED"


register(CloneStatus, {"OPEN": ("Açık", "Open"), "CLOSED": ("Kapandı", "Closed")})


class CloneSuspicion(Model):
    """A registered IMEI seen with more than one IMSI inside the detection window."""

    id = fields.BigIntField(primary_key=True)
    imei = fields.CharField(max_length=15, unique=True)
    firm_id = fields.IntField(null=True, db_index=True)
    brand = fields.CharField(max_length=128, default="")
    model_code = fields.CharField(max_length=128, default="")
    imsi_count = fields.IntField()
    status = fields.CharEnumField(CloneStatus, max_length=8, default=CloneStatus.OPEN)
    detected_at = fields.DatetimeField()
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "clone_suspicion"
        indexes = (("status", "id"),)


def clone_in_window(sightings: Iterable[tuple[datetime, str]], window: timedelta) -> int:
    """The most distinct IMSIs one IMEI was seen with inside any `window`-long stretch.

    More than 1 means a clone suspect. Exact for a sliding window (not fixed time slots):
    two sightings with different IMSIs count together when at most `window` apart.
    """
    ordered = sorted(sightings)
    best = 1 if ordered else 0
    in_window: dict[str, int] = {}
    start = 0
    for seen_at, imsi in ordered:
        in_window[imsi] = in_window.get(imsi, 0) + 1
        while seen_at - ordered[start][0] > window:
            old = ordered[start][1]
            in_window[old] -= 1
            if not in_window[old]:
                del in_window[old]
            start += 1
        best = max(best, len(in_window))
    return best
