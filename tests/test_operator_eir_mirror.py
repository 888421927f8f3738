"""An operator's EIR mirrors `checkImeis` from the lists alone, for every status.

The EIR below is written from the API's documentation, as an operator would write it: it
loads the white, black and grey list exports at their feed cursors and the pairing feed,
follows the four feeds from there, and answers an attach by the documented precedence:

1. not an IMEI (14/15/16 digits, Luhn) → BLOCK INVALID;
2. blacklisted → BLOCK BLACKLISTED (the blacklist reason);
   whitelisted as OVERDUE (verification past its deadline) → BLOCK PROVISIONAL
   VERIFICATION_OVERDUE;
3. whitelisted and paired → ALLOW PAIRED with the paired number, else BLOCK PAIRED
   (MSISDN_REQUIRED / MSISDN_MISMATCH);
4. whitelisted with an open clone suspicion (grey list, CLONE_SUSPECTED) → ALLOW CLONE_SUSPECTED;
5. whitelisted → ALLOW REGISTERED / PROVISIONAL;
6. removed from the whitelist (a REMOVE in the feed) → BLOCK NOT_REGISTERED (its reason);
7. on the grey list (GRACE_PERIOD) → ALLOW until `graceEndsAt`, then BLOCK NOT_REGISTERED;
8. on no list → the EIR does not know it: it asks `checkImeis` with the subscriber's number
   (that attach starts the grace clock when one is due, and the grey feed brings it).

Every answer the EIR gives itself must be the registry's, for every status; every IMEI it
must ask about must be one the registry answers without a list entry (no grace possible,
removed before the export, or not attached yet).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from tortoise.transactions import in_transaction

from gateway.demo import load_demo
from models import clock
from models.imei import normalise_network_imei
from models.imei_status import VERIFICATION_OVERDUE, ImeiStatus, normalise_msisdn
from models.progress import HeldImei
from models.registry import WhitelistStatus
from models.roles import Role
from models.workflow import ApplicationKind
from resolvers import registry_changes
from resolvers.after import pairing_changes
from resolvers.operators import clones
from tests.support.api import gql, login, make_firm, make_user
from tests.support.operators import (
    CHECK,
    OPERATOR_TOKEN,
    STAFF,
    blacklist,
    imei,
    register_tac,
    unlist,
    whitelist,
)

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PAIRED_NUMBER = "905321112233"
NUMBERS = (None, "+90 532 111 22 33", "905559998877")  # none, the paired one, another
ASK = "ASK"

FEEDS = {
    "whitelistChanges": "items { cursor op imei status reason }",
    "blacklistChanges": "items { cursor op imei reason }",
    "pairingChanges": "items { cursor op imei msisdn }",
    "greylistChanges": "items { cursor op status imei graceEndsAt }",
}
PAIR = "mutation($i: String!, $n: String!) { pairImei(imei: $i, msisdn: $n) { errors { code } } }"
SUBMIT = """mutation($key: String!, $observations: [ObservationInput!]!) {
  submitObservations(batchKey: $key, observations: $observations) { errors { code } }
}"""


class Eir:
    """An operator's equipment identity register, fed by exports and feeds only."""

    def __init__(self) -> None:
        self.white: dict[str, str] = {}  # imei → REGISTERED / PROVISIONAL
        self.removed: dict[str, str] = {}  # imei → removal reason
        self.black: dict[str, str] = {}
        self.paired: dict[str, str] = {}
        self.grey: dict[tuple[str, str], datetime | None] = {}  # (status, imei) → grace end
        self.cursors: dict[str, str | None] = {"pairingChanges": None}

    async def load(self, client) -> None:
        for name, field in (
            ("whitelist", "whitelistChanges"),
            ("blacklist", "blacklistChanges"),
            ("greylist", "greylistChanges"),
        ):
            response = await client.get(
                f"/exports/{name}.csv", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}
            )
            assert response.status_code == 200
            self.cursors[field] = response.headers["x-mcks-feed-cursor"]
            for row in csv.DictReader(io.StringIO(response.text)):
                if name == "whitelist":
                    self.white[row["imei"]] = row["status"]
                elif name == "blacklist":
                    self.black[row["imei"]] = row["reason"]
                else:
                    ends = row["grace_ends_at"]
                    key = (row["status"], row["imei"])
                    self.grey[key] = datetime.fromisoformat(ends) if ends else None
        await self.follow(client)

    async def follow(self, client) -> None:
        for field, shape in FEEDS.items():
            query = (
                f"query($after: String) {{ {field}(after: $after, first: 3) "
                f"{{ {shape} pageInfo {{ endCursor hasNextPage }} }} }}"
            )
            while True:
                body = await gql(client, query, {"after": self.cursors[field]}, OPERATOR_TOKEN)
                page = body["data"][field]
                for item in page["items"]:
                    self.apply(field, item)
                self.cursors[field] = page["pageInfo"]["endCursor"]
                if not page["pageInfo"]["hasNextPage"]:
                    break

    def apply(self, field: str, item: dict) -> None:
        imei, removing = item["imei"], item["op"] == "REMOVE"
        if field == "whitelistChanges":
            if removing:
                self.white.pop(imei, None)
                self.removed[imei] = item["reason"]
            else:
                self.white[imei] = item["status"]
                self.removed.pop(imei, None)
        elif field == "blacklistChanges":
            if removing:
                self.black.pop(imei, None)
            else:
                self.black[imei] = item["reason"]
        elif field == "pairingChanges":
            if removing:
                self.paired.pop(imei, None)
            else:
                self.paired[imei] = item["msisdn"]
        else:
            key = (item["status"], imei)
            if removing:
                self.grey.pop(key, None)
            else:
                ends = item["graceEndsAt"]
                self.grey[key] = datetime.fromisoformat(ends) if ends else None

    def answer(self, raw: str, msisdn: str | None, now: datetime) -> tuple | str:
        imei = normalise_network_imei(raw)
        if imei is None:
            return ("BLOCK", "INVALID", None)
        if imei in self.black:
            return ("BLOCK", "BLACKLISTED", self.black[imei])
        if self.white.get(imei) == "OVERDUE":
            return ("BLOCK", "PROVISIONAL", VERIFICATION_OVERDUE)
        if imei in self.white:
            if imei in self.paired:
                number = normalise_msisdn(msisdn)
                if number is None:
                    return ("BLOCK", "PAIRED", "MSISDN_REQUIRED")
                if number == self.paired[imei]:
                    return ("ALLOW", "PAIRED", None)
                return ("BLOCK", "PAIRED", "MSISDN_MISMATCH")
            if ("CLONE_SUSPECTED", imei) in self.grey:
                return ("ALLOW", "CLONE_SUSPECTED", None)
            return ("ALLOW", self.white[imei], None)
        if imei in self.removed:
            return ("BLOCK", "NOT_REGISTERED", self.removed[imei] or None)
        if ("GRACE_PERIOD", imei) in self.grey:
            ends = self.grey["GRACE_PERIOD", imei]
            assert ends is not None
            if now < ends:
                return ("ALLOW", "GRACE_PERIOD", None)
            return ("BLOCK", "NOT_REGISTERED", None)
        return ASK


@pytest.fixture(autouse=True)
async def operator(db):
    clock.freeze(START)
    await load_demo()
    await register_tac()


async def registry(client, token, imeis, msisdn):
    body = await gql(client, CHECK, {"imeis": imeis, "msisdn": msisdn}, token=token)
    assert "errors" not in body, body
    return [(a["verdict"], a["status"], a["reason"]) for a in body["data"]["checkImeis"]]


async def compare(client, eir: Eir, staff: str, imeis: list[str]) -> tuple[set, list]:
    """Every local answer equals the registry's (staff checks: they write nothing); the
    statuses answered locally and the IMEIs the EIR has to ask about."""
    answered: set[str] = set()
    asked: list[str] = []
    for msisdn in NUMBERS:
        truth = await registry(client, staff, imeis, msisdn)
        for raw, expected in zip(imeis, truth, strict=True):
            local = eir.answer(raw, msisdn, clock.now())
            if local == ASK:
                asked.append(raw)
                continue
            assert local == expected, (raw, msisdn, local, expected)
            answered.add(local[1])
    return answered, sorted(set(asked))


async def test_an_eir_fed_by_the_lists_answers_as_the_registry_for_every_status(client):
    firm = await make_firm("Anadolu Mobil A.Ş.", "1111111111")
    owner = await make_user("a.user", Role.FIRM_USER, firm)
    reviewer = await make_user("staff.reviewer", Role.STAFF_REVIEWER)
    staff = await login(client, reviewer.username)

    registered, provisional, suspect, paired = imei(1), imei(2), imei(3), imei(4)
    stolen, stolen_registered = imei(5), imei(6)
    removed_early, removed_late = imei(7), imei(8)
    attached, observed, never = imei(9), imei(10), imei(11)
    unknown_tac, reserved, held = imei(12, tac="35999999"), "000000000000000", imei(13)
    overdue = imei(15)
    await whitelist(registered, suspect, paired, stolen_registered, removed_late, firm_id=firm.id)
    await whitelist(removed_early, firm_id=firm.id)
    await whitelist(provisional, status=WhitelistStatus.PROVISIONAL)
    await whitelist(overdue, status=WhitelistStatus.OVERDUE)
    await blacklist(stolen, stolen_registered)
    await unlist(removed_early, reason="Sahte fatura")
    await HeldImei.create(
        imei=held,
        application_id=1,
        firm_id=firm.id,
        brand="APPLE",
        model_code="A2403",
        kind=ApplicationKind.SWAP,
        held_at=clock.now(),
    )
    await registry(client, OPERATOR_TOKEN, [attached], "905551112233")  # the attach
    seen = clock.now() - timedelta(minutes=10)
    observations = [
        {"imei": suspect, "imsi": "286010000000001", "seenAt": seen.isoformat()},
        {"imei": suspect, "imsi": "286010000000002", "seenAt": seen.isoformat()},
        {"imei": observed, "imsi": "286010000000003", "seenAt": seen.isoformat()},
    ]
    body = await gql(client, SUBMIT, {"key": "b1", "observations": observations}, OPERATOR_TOKEN)
    assert body["data"]["submitObservations"]["errors"] == []
    assert [s.imei for s in await clones.detect_clones()] == [suspect]
    async with in_transaction():
        await pairing_changes.pair(STAFF, paired, PAIRED_NUMBER, firm.id, "test")

    eir = Eir()
    await eir.load(client)
    await unlist(removed_late, reason="Gümrük kaydı yok")  # after the export: by the feed
    await eir.follow(client)

    imeis = [
        registered,
        provisional,
        overdue,
        suspect,
        paired,
        stolen,
        stolen_registered,
        removed_early,
        removed_late,
        attached,
        observed,
        never,
        unknown_tac,
        reserved,
        held,
        "abc",
        registered[:14] + str((int(registered[14]) + 1) % 10),  # a wrong check digit
        registered[:14] + "07",  # an IMEISV of a registered IMEI
    ]
    answered, asked = await compare(client, eir, staff, imeis)
    assert asked == sorted([removed_early, never, unknown_tac, reserved, held])
    # What the registry answers an EIR that asks: no list entry could have told it.
    asked_answers = dict(
        zip(asked, await registry(client, OPERATOR_TOKEN, asked, "905551112299"), strict=True)
    )
    assert asked_answers == {
        removed_early: ("BLOCK", "NOT_REGISTERED", "Sahte fatura"),
        never: ("ALLOW", "GRACE_PERIOD", None),  # this attach started its clock
        unknown_tac: ("BLOCK", "NOT_REGISTERED", "TAC_NOT_FOUND"),
        reserved: ("BLOCK", "NOT_REGISTERED", "RESERVED_IMEI"),
        held: ("BLOCK", "NOT_REGISTERED", "HELD_REPLACEMENT"),
    }
    await eir.follow(client)
    assert eir.answer(never, None, clock.now()) == ("ALLOW", "GRACE_PERIOD", None)

    # Later: the suspect is paired (its suspicion closes), a blacklisting is lifted, grace
    # ends for the first attaches and runs for a newer one.
    clock.advance(timedelta(days=100))
    newer = imei(14)
    await registry(client, OPERATOR_TOKEN, [newer], "905551112244")
    async with in_transaction():
        await registry_changes.remove_from_blacklist(STAFF, [stolen_registered], "bulundu")
    # The firm pairs its suspected IMEI (art. 14): the suspicion leaves the grey list.
    firm_token = await login(client, owner.username)  # a new working day, a new session
    flagged = await gql(client, PAIR, {"i": suspect, "n": "905321110000"}, firm_token)
    assert flagged["data"]["pairImei"]["errors"] == []
    clock.advance(timedelta(days=25))  # 125 days after the first attaches
    await eir.follow(client)
    staff = await login(client, reviewer.username)
    later, asked_later = await compare(client, eir, staff, [*imeis, newer])
    assert asked_later == sorted([removed_early, unknown_tac, reserved, held])
    assert eir.answer(attached, None, clock.now()) == ("BLOCK", "NOT_REGISTERED", None)
    assert eir.answer(newer, None, clock.now()) == ("ALLOW", "GRACE_PERIOD", None)
    assert eir.answer(suspect, "905321110000", clock.now()) == ("ALLOW", "PAIRED", None)
    assert answered | later == {status.value for status in ImeiStatus}
