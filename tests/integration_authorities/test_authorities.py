"""Verification authorities over real HTTP on loopback, against the simulator.

Each test starts the simulator on an ephemeral port, asks it as the gateway's batch job would,
and checks what the job layer gets: answers keyed by reference, or a typed failure that says
whether retrying can help.
"""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest

from integrations.authorities import (
    Answer,
    Applicant,
    AuthorityBadAnswer,
    AuthorityError,
    AuthorityKind,
    AuthorityRequestRejected,
    AuthorityTimeout,
    AuthorityUnavailable,
    Declaration,
    Device,
    HttpAuthority,
    NationalId,
    OutcomeStatus,
    Passport,
    ReasonCode,
    Verdict,
    applicable_authorities,
    combine_answers,
    reason_for,
)
from integrations.authorities.simulator import serve_simulator
from integrations.authorities.wire import WireError, parse_results

API_KEY = "test-authority-key"
# A normal answer's deadline: generous, for a loaded machine (the adapters' default).
CLIENT_TIMEOUT = 10.0
# Where a test wants a timeout: SIM-SLOW never beats any deadline, since the simulator holds a
# slow answer until it stops (slow_delay_seconds=None); short only to keep the test quick.
SLOW_CLIENT_TIMEOUT = 1.0
GENEROUS = 60.0  # "it gave up by itself": far below never, far above any deadline we set

CUSTOMS = AuthorityKind.CUSTOMS
BORDER = AuthorityKind.BORDER_RECORDS
POPULATION = AuthorityKind.POPULATION_REGISTRY


def citizen(
    reference: str, name: str = "Ayşe Yılmaz", customs_no: str | None = None
) -> Declaration:
    return Declaration(
        reference=reference,
        applicant=Applicant(NationalId("10000000146"), name, date(1990, 4, 1)),
        device=Device(("356938035643809", "356938035643817"), "APPLE", "A2403"),
        entry_date=date(2024, 5, 2),
        customs_declaration_no=customs_no,
        purchase_country="DE",
    )


def foreigner(
    reference: str, name: str = "Hans Müller", customs_no: str | None = None
) -> Declaration:
    return Declaration(
        reference=reference,
        applicant=Applicant(Passport("C01X00T47", "DE"), name, date(1985, 11, 30)),
        device=Device(("490154203237518",), "SAMSUNG", "SM-G9359"),
        entry_date=date(2024, 6, 14),
        customs_declaration_no=customs_no,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def simulator_url() -> AsyncIterator[str]:
    async with serve_simulator(api_key=API_KEY, slow_delay_seconds=None) as base_url:
        yield base_url


def authority(
    kind: AuthorityKind, base_url: str, api_key: str = API_KEY, timeout: float = CLIENT_TIMEOUT
) -> HttpAuthority:
    return HttpAuthority(kind, base_url, api_key, timeout_seconds=timeout)


# --- verdicts -------------------------------------------------------------------------------


REFUSALS = [
    (BORDER, "SIM-NO-ENTRY", ReasonCode.NO_ENTRY_RECORD, "ülkeye giriş kaydı bulunamadı"),
    (BORDER, "SIM-ENTRY-DATE", ReasonCode.ENTRY_DATE_MISMATCH, "giriş tarihi"),
    (CUSTOMS, "SIM-NO-CUSTOMS", ReasonCode.CUSTOMS_DECLARATION_NOT_FOUND, "Gümrük"),
    (CUSTOMS, "SIM-NOT-IN-CUSTOMS", ReasonCode.DEVICE_NOT_IN_CUSTOMS_DECLARATION, "almıyor"),
    (POPULATION, "SIM-NO-IDENTITY", ReasonCode.IDENTITY_NOT_FOUND, "nüfus kayıtlarında"),
    (POPULATION, "SIM-IDENTITY-MISMATCH", ReasonCode.IDENTITY_MISMATCH, "doğum tarihi"),
]


@pytest.mark.parametrize(
    ("kind", "marker", "code", "turkish"), REFUSALS, ids=[case[1] for case in REFUSALS]
)
async def test_each_authority_answers_a_mixed_batch_by_reference(
    simulator_url: str, kind: AuthorityKind, marker: str, code: ReasonCode, turkish: str
) -> None:
    # A marker meant for another authority must not sway this one.
    other_marker = "SIM-NO-IDENTITY" if kind is not POPULATION else "SIM-NO-ENTRY"
    batch = [
        citizen("R-1", customs_no="24341300IM000001"),
        citizen("R-2", name=f"Ayşe {marker} Yılmaz", customs_no="24341300IM000002"),
        citizen("R-3", name=f"Ali {other_marker} Çelik", customs_no="24341300IM000003"),
    ]
    async with authority(kind, simulator_url) as verifier:
        answers = await verifier.verify_batch(batch)

    assert set(answers) == {"R-1", "R-2", "R-3"}
    assert answers["R-1"] == Answer("R-1", Verdict.VERIFIED)
    assert answers["R-3"].verified
    refused = answers["R-2"]
    assert refused.verdict is Verdict.NOT_VERIFIED
    assert refused.reason is not None
    assert refused.reason.code == code
    assert turkish in refused.reason.message_tr
    assert refused.reason.message_en
    assert refused.reason.authority_note == refused.reason.message_tr  # the simulator's words


async def test_customs_and_registry_refuse_what_they_cannot_know(simulator_url: str) -> None:
    no_customs_number = citizen("R-1")
    passport_holder = foreigner("R-2", customs_no="24341300IM000009")
    async with (
        authority(CUSTOMS, simulator_url) as customs,
        authority(POPULATION, simulator_url) as registry,
        authority(BORDER, simulator_url) as border,
    ):
        by_customs = await customs.verify_batch([no_customs_number, passport_holder])
        by_registry = await registry.verify_batch([no_customs_number, passport_holder])
        by_border = await border.verify_batch([no_customs_number, passport_holder])

    assert by_customs["R-1"].reason == reason_for(
        ReasonCode.CUSTOMS_DECLARATION_NOT_FOUND, "Gümrük beyannamesi bulunamadı."
    )
    assert by_customs["R-2"].verified
    assert by_registry["R-1"].verified
    assert by_registry["R-2"].reason is not None
    assert by_registry["R-2"].reason.code == ReasonCode.IDENTITY_NOT_FOUND
    assert all(answer.verified for answer in by_border.values())


# --- failures the job layer retries or not ---------------------------------------------------


async def test_slow_authority_times_out_and_may_be_retried(simulator_url: str) -> None:
    started = time.monotonic()
    async with authority(BORDER, simulator_url, timeout=SLOW_CLIENT_TIMEOUT) as border:
        with pytest.raises(AuthorityTimeout) as caught:
            await border.verify_batch([citizen("R-1"), citizen("R-2", name="Ayşe SIM-SLOW")])
    # Gave up at our deadline: theirs is never (the answer is held until the simulator stops).
    assert time.monotonic() - started < GENEROUS
    assert caught.value.retryable
    assert caught.value.kind is BORDER
    assert caught.value.request_id


async def test_an_answer_trickling_past_the_deadline_times_out(simulator_url: str) -> None:
    started = time.monotonic()
    async with authority(BORDER, simulator_url, timeout=SLOW_CLIENT_TIMEOUT) as border:
        with pytest.raises(AuthorityTimeout):
            await border.verify_batch([citizen("R-1", name="Ayşe SIM-TRICKLE")])
    assert time.monotonic() - started < GENEROUS


async def test_a_fault_scoped_to_one_authority_leaves_the_others_alone(
    simulator_url: str,
) -> None:
    batch = [citizen("R-1", name="Ayşe SIM-5XX@CUSTOMS SIM-SLOW@CUSTOMS", customs_no="24-1")]
    async with authority(BORDER, simulator_url) as border:
        answers = await border.verify_batch(batch)
    assert answers["R-1"].verified
    async with authority(CUSTOMS, simulator_url, timeout=SLOW_CLIENT_TIMEOUT) as customs:
        with pytest.raises(AuthorityTimeout):
            await customs.verify_batch(batch)


async def test_server_error_is_unavailable_and_retryable(simulator_url: str) -> None:
    async with authority(POPULATION, simulator_url) as registry:
        with pytest.raises(AuthorityUnavailable) as caught:
            await registry.verify_batch([citizen("R-1"), citizen("R-2", name="Ali SIM-5XX")])
    assert caught.value.retryable
    assert caught.value.status_code == 503
    assert caught.value.retry_after_seconds == 1.0


async def test_rate_limit_is_unavailable_and_retryable(simulator_url: str) -> None:
    async with authority(CUSTOMS, simulator_url) as customs:
        with pytest.raises(AuthorityUnavailable) as caught:
            await customs.verify_batch([citizen("R-1", name="Ali SIM-429", customs_no="24-1")])
    assert caught.value.retryable
    assert caught.value.status_code == 429
    assert caught.value.retry_after_seconds == 2.0


@pytest.mark.parametrize(
    ("marker", "complaint"),
    [
        ("SIM-MALFORMED", "not JSON"),
        ("SIM-WRONG-SHAPE", "verified: expected true or false"),
        ("SIM-MISSING", "1 of 2 references not answered: R-2"),
        ("SIM-UNKNOWN-REF", "not asked: R-2-UNASKED"),
    ],
)
async def test_garbage_answer_is_bad_answer_and_retryable(
    simulator_url: str, marker: str, complaint: str
) -> None:
    async with authority(BORDER, simulator_url) as border:
        with pytest.raises(AuthorityBadAnswer) as caught:
            await border.verify_batch([citizen("R-1"), citizen("R-2", name=f"Can {marker} Öztürk")])
    assert caught.value.retryable
    assert complaint in str(caught.value)


async def test_wrong_api_key_is_our_fault_and_not_retryable(simulator_url: str) -> None:
    async with authority(BORDER, simulator_url, api_key="not-the-key") as border:
        with pytest.raises(AuthorityRequestRejected) as caught:
            await border.verify_batch([citizen("R-1")])
    assert isinstance(caught.value, AuthorityError)
    assert not caught.value.retryable
    assert caught.value.status_code == 401


async def test_unknown_simulator_marker_is_refused_as_a_bad_request(simulator_url: str) -> None:
    async with authority(BORDER, simulator_url) as border:
        with pytest.raises(AuthorityRequestRejected) as caught:
            await border.verify_batch([citizen("R-1", name="Ayşe SIM-SLO")])
    assert caught.value.status_code == 400
    assert "SIM-SLO" in str(caught.value)


async def test_nobody_listening_is_unavailable_and_retryable() -> None:
    async with authority(BORDER, f"http://127.0.0.1:{free_port()}") as border:
        with pytest.raises(AuthorityUnavailable) as caught:
            await border.verify_batch([citizen("R-1")])
    assert caught.value.retryable
    assert caught.value.status_code is None


async def test_empty_batch_asks_nobody() -> None:
    async with authority(BORDER, f"http://127.0.0.1:{free_port()}") as border:
        assert await border.verify_batch([]) == {}


async def test_authorities_share_one_client_which_their_owner_closes(simulator_url: str) -> None:
    async with httpx.AsyncClient() as client:
        customs = HttpAuthority(CUSTOMS, simulator_url, API_KEY, CLIENT_TIMEOUT, client)
        border = HttpAuthority(BORDER, simulator_url, API_KEY, CLIENT_TIMEOUT, client)
        await customs.verify_batch([citizen("R-1", customs_no="24-1")])
        await border.verify_batch([citizen("R-1")])
        await customs.aclose()
        await border.aclose()
        assert not client.is_closed
    owning = authority(BORDER, simulator_url)
    await owning.aclose()
    with pytest.raises(RuntimeError):  # its own client is closed
        await owning.verify_batch([citizen("R-1")])


# --- strict reading of answers (no HTTP needed) ---------------------------------------------


@pytest.mark.parametrize(
    ("results", "complaint"),
    [
        ({"results": "none"}, "answer.results: expected a list"),
        ([], "answer: expected an object"),
        ({"results": [{"reference": "R-1", "verified": 1}]}, "expected true or false"),
        (
            {"results": [{"reference": "R-1", "verified": True, "reasonCode": "NO_ENTRY_RECORD"}]},
            "verified, yet a reasonCode",
        ),
        ({"results": [{"reference": "R-1", "verified": False}]}, "reasonCode: expected"),
        (
            {"results": [{"reference": "R-1", "verified": True}] * 2},
            "answered more than once: R-1",
        ),
    ],
)
def test_answers_off_the_protocol_are_refused(results: object, complaint: str) -> None:
    with pytest.raises(WireError, match=complaint):
        parse_results(results, ["R-1"])


def test_unknown_reason_code_still_refuses_and_keeps_the_authoritys_words() -> None:
    answers = parse_results(
        {"results": [{"reference": "R-1", "verified": False, "reasonCode": "NEW_CODE",
                      "reason": "Yeni gerekçe"}]},
        ["R-1"],
    )  # fmt: skip
    reason = answers["R-1"].reason
    assert reason is not None
    assert (reason.code, reason.authority_note) == ("NEW_CODE", "Yeni gerekçe")
    assert reason.message_tr == "Beyan ilgili merci tarafından doğrulanmadı."


# --- which authorities apply, and what their answers add up to -------------------------------


def test_which_authorities_apply() -> None:
    assert applicable_authorities(citizen("R-1", customs_no="24-1")) == {
        CUSTOMS,
        BORDER,
        POPULATION,
    }
    assert applicable_authorities(citizen("R-2")) == {BORDER, POPULATION}
    assert applicable_authorities(foreigner("R-3", customs_no="24-3")) == {CUSTOMS, BORDER}
    assert applicable_authorities(foreigner("R-4")) == {BORDER}


def test_all_applicable_verified_means_verified() -> None:
    declaration = foreigner("R-1", customs_no="24-1")
    answers = {kind: Answer("R-1", Verdict.VERIFIED) for kind in (CUSTOMS, BORDER)}
    assert combine_answers(declaration, answers).status is OutcomeStatus.VERIFIED


def test_one_refusal_decides_with_that_authoritys_reason() -> None:
    declaration = citizen("R-1", customs_no="24-1")
    no_identity = reason_for(ReasonCode.IDENTITY_NOT_FOUND)
    outcome = combine_answers(
        declaration,
        {
            BORDER: Answer("R-1", Verdict.VERIFIED),
            POPULATION: Answer("R-1", Verdict.NOT_VERIFIED, no_identity),
        },  # customs has not answered yet, but the refusal already decides
    )
    assert outcome.status is OutcomeStatus.NOT_VERIFIED
    assert outcome.rejected_by is POPULATION
    assert outcome.reason == no_identity


def test_missing_answers_leave_it_pending_and_others_do_not_count() -> None:
    declaration = foreigner("R-1")  # only the entry/exit records apply
    refusal = Answer("R-1", Verdict.NOT_VERIFIED, reason_for(ReasonCode.IDENTITY_NOT_FOUND))
    outcome = combine_answers(declaration, {POPULATION: refusal})
    assert outcome.status is OutcomeStatus.PENDING
    assert outcome.awaiting == {BORDER}
    with pytest.raises(ValueError, match="R-9"):
        combine_answers(declaration, {BORDER: Answer("R-9", Verdict.VERIFIED)})


async def test_a_days_declarations_through_all_authorities(simulator_url: str) -> None:
    """The periodic job's round trip: ask each authority for what applies, then decide."""
    declarations = [
        citizen("IND-1", customs_no="24341300IM000001"),
        citizen("IND-2", name="Zeynep SIM-NOT-IN-CUSTOMS Şahin", customs_no="24341300IM000002"),
        foreigner("IND-3", name="Hans SIM-NO-ENTRY Müller"),
        foreigner("IND-4"),
    ]
    collected: dict[str, dict[AuthorityKind, Answer]] = {d.reference: {} for d in declarations}
    async with httpx.AsyncClient() as client:
        for kind in AuthorityKind:
            verifier = HttpAuthority(kind, simulator_url, API_KEY, CLIENT_TIMEOUT, client)
            batch = [d for d in declarations if kind in applicable_authorities(d)]
            for reference, answer in (await verifier.verify_batch(batch)).items():
                collected[reference][kind] = answer

    outcomes = {d.reference: combine_answers(d, collected[d.reference]) for d in declarations}
    assert {ref: o.status for ref, o in outcomes.items()} == {
        "IND-1": OutcomeStatus.VERIFIED,
        "IND-2": OutcomeStatus.NOT_VERIFIED,
        "IND-3": OutcomeStatus.NOT_VERIFIED,
        "IND-4": OutcomeStatus.VERIFIED,
    }
    assert outcomes["IND-2"].rejected_by is CUSTOMS
    assert outcomes["IND-3"].reason is not None
    assert outcomes["IND-3"].reason.code == ReasonCode.NO_ENTRY_RECORD
