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
    # Closed by a pairing, or dismissed by staff: operators no longer see the suspicion.
    CLOSED = "CLOSED"


register(CloneStatus, {"OPEN": ("Açık", "Open"), "CLOSED": ("Kapandı", "Closed")})


class CloneSuspicion(Model):
    """An IMEI seen with more than one subscriber inside the detection window
    (`clone_in_window`); registered or not (an unregistered one has no firm to pair it)."""

    id = fields.BigIntField(primary_key=True)
    imei = fields.CharField(max_length=15, unique=True)
    firm_id = fields.IntField(null=True, db_index=True)
    brand = fields.CharField(max_length=128, default="")
    model_code = fields.CharField(max_length=128, default="")
    imsi_count = fields.IntField()
    status = fields.CharEnumField(CloneStatus, max_length=8, default=CloneStatus.OPEN)
    detected_at = fields.DatetimeField()
    closed_at = fields.DatetimeField(null=True)
    # Staff dismissed it (not a clone): only sightings after this can open it again.
    dismissed_at = fields.DatetimeField(null=True)
    dismissed_by = fields.CharField(max_length=255, null=True)
    dismiss_reason = fields.TextField(null=True)

    class Meta:
        table = "clone_suspicion"
        indexes = (("status", "id"),)


# One sighting as the detector reads it: when, the IMSI, the MSISDN ("" when not sent).
Sighting = tuple[datetime, str, str]


def clone_in_window(sightings: Iterable[Sighting], window: timedelta) -> int:
    """The most subscribers one IMEI was seen with inside any `window`-long stretch.

    More than 1 means a clone suspect. Exact for a sliding window (not fixed time slots):
    sightings count together when at most `window` apart. Inside a stretch, subscribers are
    the distinct MSISDNs, or the IMSIs — except that IMSIs sharing an MSISDN and never in use
    at the same time (one's sightings all before the other's) are one subscriber who changed
    SIM cards (a SIM swap). So several MSISDNs, or IMSIs whose use overlaps, raise suspicion;
    a new IMSI on the same number does not. IMSIs without an MSISDN count one each.
    """
    ordered = sorted(sightings)
    if len({s[1] for s in ordered}) <= 1 and len({s[2] for s in ordered if s[2]}) <= 1:
        return 1 if ordered else 0  # one SIM, one number: the usual case, at a glance
    best = 1
    start = 0
    for end in range(len(ordered)):
        while ordered[end][0] - ordered[start][0] > window:
            start += 1
        best = max(best, _subscribers(ordered[start : end + 1]))
    return best


def _subscribers(stretch: list[Sighting]) -> int:
    spans: dict[str, list[datetime]] = {}  # IMSI -> [first, last]
    numbers: dict[str, set[str]] = {}  # IMSI -> its MSISDNs
    for seen_at, imsi, msisdn in stretch:
        span = spans.setdefault(imsi, [seen_at, seen_at])
        span[1] = seen_at
        if msisdn:
            numbers.setdefault(imsi, set()).add(msisdn)
    msisdns = set().union(*numbers.values()) if numbers else set()
    # Union the IMSIs that are one line's successive SIM cards.
    group = {imsi: imsi for imsi in spans}

    def root(imsi: str) -> str:
        while group[imsi] != imsi:
            imsi = group[imsi]
        return imsi

    imsis = sorted(spans, key=lambda i: spans[i][0])
    for i, first in enumerate(imsis):
        for second in imsis[i + 1 :]:
            shared = numbers.get(first, set()) & numbers.get(second, set())
            swapped = spans[first][1] < spans[second][0]  # `second` began after `first` ended
            if shared and swapped:
                group[root(second)] = root(first)
    return max(len({root(imsi) for imsi in spans}), len(msisdns))
