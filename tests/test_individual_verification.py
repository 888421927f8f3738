"""Declarations not verified through e-Devlet are sent periodically, in batches, to the
authorities (art. 5(3)(b)); a refusal takes the IMEI off the whitelist with the reason
(art. 5(4)). The authorities are the simulator over real HTTP on loopback.

Jobs run as the worker runs them (`jobs.drain`, `jobs.claim` + handler); the clock is frozen
and moved by hand, so backoff and leases are exact."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from gateway.demo import load_demo
from integrations.authorities import HttpAuthority
from models import clock
from models.audit import AuditEvent
from models.individuals import (
    Registration,
    RegistrationStatus,
    VerificationBatch,
    VerificationBatchStatus,
    VerificationRequest,
    VerificationRequestStatus,
)
from models.jobs import Job, JobStatus
from models.registry import WhitelistChange, WhitelistEntry
from resolvers import jobs
from resolvers.individuals import schedule_periodic, verification
from resolvers.settings import updated
from tests.support.api import gql, login, make_world
from tests.support.individuals import (
    APPLE_TAC,
    BY_ID,
    EDEVLET_TOKEN,
    authorities_on_loopback,
    check_imeis,
    declaration,
    feed,
    imei,
    national_id,
    point_authorities_at,
    seed_tacs,
    serve_gateway,
    submit_edevlet,
)

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
async def registry(db):
    clock.freeze(START)
    await load_demo()
    await seed_tacs()
    updated(individual_device_limit=100, verification_interval_minutes=60)


@pytest.fixture
async def http(app):
    async with serve_gateway(app) as client:
        yield client


@pytest.fixture
async def authorities():
    async with authorities_on_loopback() as base_url:
        yield base_url


@pytest.fixture
def sent(monkeypatch):
    """Every reference each authority was asked about, call by call."""
    calls: list[tuple[str, list[str]]] = []
    real = HttpAuthority.verify_batch

    async def recording(self, declarations):
        calls.append((self.kind.value, [d.reference for d in declarations]))
        return await real(self, declarations)

    monkeypatch.setattr(HttpAuthority, "verify_batch", recording)
    return calls


async def declare(http, reference, imeis, n=1, **kwargs):
    payload = await submit_edevlet(
        http, declaration(reference, imeis, national=national_id(n), **kwargs)
    )
    assert payload["errors"] == [], payload
    return payload["registration"]


async def read(http, registration_id):
    body = await gql(http, BY_ID, {"id": registration_id}, token=EDEVLET_TOKEN)
    return body["data"]["individualRegistration"]


async def run_all_jobs():
    """What the worker does at a tick: schedule, then run whatever is due."""
    await schedule_periodic()
    return await jobs.drain("worker-1")


# --- the periodic batch and its answers ----------------------------------------------------


async def test_the_periodic_batch_verifies_declarations_and_registers_their_imeis(
    http, authorities, sent
):
    first = await declare(
        http, "EDV-1", [imei(1, APPLE_TAC), imei(2, APPLE_TAC)], n=1, customs="26341300IM000001"
    )
    second = await declare(http, "EDV-2", [imei(3)], n=2)
    foreigner = (
        await submit_edevlet(
            http, declaration("EDV-3", [imei(4)], passport=("C01X00T47", "DE"), name="Hans Müller")
        )
    )["registration"]

    await run_all_jobs()

    for registration in (first, second, foreigner):
        now = await read(http, registration["id"])
        assert now["status"] == "VERIFIED" and now["verifiedAt"]
        assert {i["whitelistStatus"] for i in now["imeis"]} == {"REGISTERED"}
        assert {v["status"] for v in now["verifications"]} == {"ANSWERED"}
        assert all(v["verified"] for v in now["verifications"])
    # One request per authority: each asked only about what applies to it.
    asked = {kind: sorted(references) for kind, references in sent}
    assert asked == {
        "CUSTOMS": [f"IND-{first['id']}"],
        "BORDER_RECORDS": sorted(f"IND-{r['id']}" for r in (first, second, foreigner)),
        "POPULATION_REGISTRY": sorted(f"IND-{r['id']}" for r in (first, second)),
    }
    answers = await check_imeis(http, [imei(1, APPLE_TAC), imei(4)])
    assert {a["status"] for a in answers.values()} == {"REGISTERED"}
    updates = [c for c in await feed(http) if c["op"] == "UPDATE"]
    assert sorted(c["imei"] for c in updates) == [
        imei(1, APPLE_TAC),
        imei(2, APPLE_TAC),
        imei(3),
        imei(4),
    ]
    assert {c["status"] for c in updates} == {"REGISTERED"}
    assert await AuditEvent.filter(action="individual.verified").count() == 3
    assert set(await VerificationBatch.all().values_list("status", flat=True)) == {"ANSWERED"}

    # The same time slot queues no second dispatch; the next slot does, with nothing to send.
    await schedule_periodic()
    assert await Job.filter(kind=verification.DISPATCH_JOB).count() == 1
    clock.advance(timedelta(hours=1))
    await run_all_jobs()
    assert await Job.filter(kind=verification.DISPATCH_JOB).count() == 2
    assert len(sent) == 3


async def test_a_refusal_removes_the_imei_with_the_reason_for_operators_and_the_client(
    http, authorities
):
    refused = await declare(
        http, "EDV-NO", [imei(10, APPLE_TAC), imei(11, APPLE_TAC)], name="Ayşe SIM-NO-ENTRY Yılmaz"
    )
    accepted = await declare(http, "EDV-OK", [imei(12)], n=2)

    await run_all_jobs()

    registration = await read(http, refused["id"])
    assert registration["status"] == "REJECTED"
    assert registration["rejectedBy"] == "BORDER_RECORDS"
    assert registration["rejectionCode"] == "NO_ENTRY_RECORD"
    assert registration["rejectionReason"] == "Başvuru sahibinin ülkeye giriş kaydı bulunamadı."
    assert registration["statusLabel"] == "Reddedildi; IMEI beyaz listeden çıkarıldı"
    for item in registration["imeis"]:
        assert item["whitelistStatus"] is None
        assert "NO_ENTRY_RECORD" in item["removalReason"]
    # The population registry's answer is no longer needed once the border records refused.
    assert {v["authority"]: v["status"] for v in registration["verifications"]} == {
        "BORDER_RECORDS": "ANSWERED",
        "POPULATION_REGISTRY": "SKIPPED",
    }
    assert all(v["authorityNote"] is None for v in registration["verifications"])  # staff only
    english = await gql(
        http, BY_ID, {"id": refused["id"]}, token=EDEVLET_TOKEN, headers={"Accept-Language": "en"}
    )
    assert english["data"]["individualRegistration"]["rejectionReason"] == (
        "No record of the applicant entering the country was found."
    )

    # Operators' checks block it and say why; the feed carries the removal with its reason.
    answers = await check_imeis(http, [imei(10, APPLE_TAC), imei(12)])
    assert (answers[imei(10, APPLE_TAC)]["verdict"], answers[imei(10, APPLE_TAC)]["status"]) == (
        "BLOCK",
        "NOT_REGISTERED",
    )
    assert answers[imei(10, APPLE_TAC)]["reason"].startswith("NO_ENTRY_RECORD: Başvuru sahibinin")
    assert "Giriş-çıkış kayıtları" in answers[imei(10, APPLE_TAC)]["reason"]
    assert answers[imei(12)]["status"] == "REGISTERED"
    removals = [c for c in await feed(http) if c["op"] == "REMOVE"]
    assert sorted(c["imei"] for c in removals) == [imei(10, APPLE_TAC), imei(11, APPLE_TAC)]
    assert all("NO_ENTRY_RECORD" in c["reason"] for c in removals)
    [event] = await AuditEvent.filter(action="individual.rejected")
    assert event.subject_id == str(refused["id"])
    assert event.details["removed"] == [imei(10, APPLE_TAC), imei(11, APPLE_TAC)]
    assert (await read(http, accepted["id"]))["status"] == "VERIFIED"

    # Staff also read the authority's own words.
    await make_world()
    staff = await login(http, "staff.reviewer")
    seen = await gql(http, BY_ID, {"id": refused["id"]}, token=staff)
    notes = [v["authorityNote"] for v in seen["data"]["individualRegistration"]["verifications"]]
    assert "Başvuru sahibinin ülkeye giriş kaydı bulunamadı." in notes


async def test_customs_refusal_decides_even_when_other_authorities_verified(http, authorities):
    registration = await declare(
        http,
        "EDV-CUSTOMS",
        [imei(20)],
        name="Zeynep SIM-NOT-IN-CUSTOMS Şahin",
        customs="26341300IM000020",
    )
    await run_all_jobs()
    now = await read(http, registration["id"])
    assert (now["status"], now["rejectedBy"], now["rejectionCode"]) == (
        "REJECTED",
        "CUSTOMS",
        "DEVICE_NOT_IN_CUSTOMS_DECLARATION",
    )
    assert not await WhitelistEntry.filter(imei=imei(20)).exists()


# --- retries and giving up -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("marker", "error"),
    [
        ("SIM-SLOW", "no answer within 1 s"),
        ("SIM-5XX", "HTTP 503"),
        ("SIM-MALFORMED", "not JSON"),
        ("SIM-MISSING", "not answered"),
    ],
)
async def test_timeouts_5xx_and_garbage_are_retried_with_backoff_then_given_up(
    http, authorities, marker, error
):
    updated(verification_max_attempts=3)
    if marker == "SIM-SLOW":  # held until the simulator stops: any deadline passes
        updated(authority_timeout_seconds=1.0)
    registration = await declare(
        http, "EDV-FAULT", [imei(30)], name=f"Can {marker}@BORDER_RECORDS Öztürk"
    )
    await run_all_jobs()

    [job] = [
        j
        for j in await Job.filter(kind=verification.BATCH_JOB)
        if j.payload["authority"] == "BORDER_RECORDS"
    ]
    assert job.status == JobStatus.QUEUED and job.attempts == 1
    assert job.run_after - clock.now() == jobs.backoff(1)
    batch = await VerificationBatch.get(job_id=job.id)
    assert batch.status == VerificationBatchStatus.SENDING and error in (batch.last_error or "")

    clock.advance(jobs.backoff(1))
    await jobs.drain()
    job = await Job.get(id=job.id)
    assert job.attempts == 2 and job.run_after - clock.now() == jobs.backoff(2)  # growing
    clock.advance(jobs.backoff(2))
    await jobs.drain()

    job = await Job.get(id=job.id)
    assert job.status == JobStatus.DEAD and job.attempts == 3
    batch = await VerificationBatch.get(id=batch.id)
    assert batch.status == VerificationBatchStatus.FAILED and batch.attempts == 3
    # Nothing was decided: the IMEI stays provisional, the registration pending.
    now = await read(http, registration["id"])
    assert now["status"] == "PENDING_VERIFICATION"
    assert now["imeis"][0]["whitelistStatus"] == "PROVISIONAL"

    # Staff see the given-up job and the failed batch.
    await make_world()
    staff = await login(http, "staff.admin")
    dead = await gql(http, "{ jobs(status: DEAD) { items { id kind lastError } } }", token=staff)
    assert [j["id"] for j in dead["data"]["jobs"]["items"]] == [job.id]
    failed = await gql(
        http,
        "{ verificationBatches(status: FAILED) { items { id authority attempts lastError jobId } } }",
        token=staff,
    )
    [shown] = failed["data"]["verificationBatches"]["items"]
    assert (shown["authority"], shown["attempts"], shown["jobId"]) == ("BORDER_RECORDS", 3, job.id)


async def test_an_authority_back_up_after_failures_answers_the_retried_batch(http, sent):
    async with authorities_on_loopback() as simulator:
        point_authorities_at("http://127.0.0.1:9")  # nobody listens: connection refused
        registration = await declare(http, "EDV-DOWN", [imei(40)])
        await run_all_jobs()
        assert await Job.filter(kind=verification.BATCH_JOB, status=JobStatus.QUEUED).count() == 2
        point_authorities_at(simulator)
        clock.advance(jobs.backoff(1))
        await jobs.drain()
    assert (await read(http, registration["id"]))["status"] == "VERIFIED"
    assert Counter(kind for kind, _ in sent) == {"BORDER_RECORDS": 2, "POPULATION_REGISTRY": 2}


async def test_a_refused_request_is_given_up_at_once_and_a_staff_retry_sends_it_again(
    http, authorities
):
    point_authorities_at(authorities, api_key="wrong-key")
    registration = await declare(http, "EDV-KEY", [imei(41)])
    await run_all_jobs()
    dead = await Job.filter(kind=verification.BATCH_JOB, status=JobStatus.DEAD)
    assert len(dead) == 2 and all(j.attempts == 1 for j in dead)  # a 401 is not retried
    assert all("HTTP 401" in (j.last_error or "") for j in dead)

    point_authorities_at(authorities)  # configuration fixed
    await make_world()
    staff = await login(http, "staff.admin")
    for job in dead:
        retried = await gql(
            http,
            "mutation($id: Int!) { retryJob(jobId: $id) { errors { code } } }",
            {"id": job.id},
            token=staff,
        )
        assert retried["data"]["retryJob"]["errors"] == []
    await jobs.drain()
    assert (await read(http, registration["id"]))["status"] == "VERIFIED"


async def test_the_worker_loop_schedules_the_dispatch_and_zero_turns_it_off():
    from resolvers.job_kinds import load_handlers

    assert verification.schedule_periodic in load_handlers()  # `mcks worker` and in-process
    updated(verification_interval_minutes=0)
    await schedule_periodic()
    assert not await Job.filter(kind=verification.DISPATCH_JOB).exists()


async def test_an_authority_without_a_url_is_not_asked_and_its_requests_wait(http):
    await declare(http, "EDV-NOURL", [imei(42)])
    await run_all_jobs()
    assert await VerificationBatch.all().count() == 0
    assert await VerificationRequest.filter(status=VerificationRequestStatus.PENDING).count() == 2


# --- dead workers and several workers ------------------------------------------------------


async def test_a_worker_killed_after_the_answer_loses_nothing_and_decides_once(
    http, authorities, sent, monkeypatch
):
    registration = await declare(http, "EDV-KILL", [imei(50, APPLE_TAC), imei(51, APPLE_TAC)])
    await verification.dispatch()
    real_apply = verification.apply_answers

    async def die(batch_id, answers):
        raise SystemExit("worker killed between the answer and the commit")

    monkeypatch.setattr(verification, "apply_answers", die)
    [job] = await jobs.claim("doomed-worker", lease_seconds=300)
    with pytest.raises(SystemExit):
        await jobs.HANDLERS[job.kind](job)
    monkeypatch.setattr(verification, "apply_answers", real_apply)
    assert len(sent) == 1  # the authority had answered
    assert await VerificationRequest.filter(status=VerificationRequestStatus.ANSWERED).count() == 0
    assert (await VerificationBatch.get(job_id=job.id)).status == VerificationBatchStatus.SENDING

    clock.advance(timedelta(seconds=301))  # the lease runs out; another worker takes over
    await jobs.drain("rescuer")

    assert (await Job.get(id=job.id)).status == JobStatus.DONE
    # The same batch was sent again — the same references, answered by reference — and
    # applied once.
    assert sent[0] in sent[1:]
    now = await read(http, registration["id"])
    assert now["status"] == "VERIFIED"
    changes = await WhitelistChange.filter(
        imei__in=[imei(50, APPLE_TAC), imei(51, APPLE_TAC)], op="UPDATE"
    )
    assert sorted(c.imei for c in changes) == [imei(50, APPLE_TAC), imei(51, APPLE_TAC)]
    assert await AuditEvent.filter(action="individual.verified").count() == 1


async def test_a_worker_killed_after_the_commit_sends_nothing_again(http, authorities, sent):
    registration = await declare(http, "EDV-KILL-2", [imei(52)])
    await verification.dispatch()
    [job] = await jobs.claim("doomed-worker", lease_seconds=300)
    await jobs.HANDLERS[job.kind](job)  # applied and committed; the worker dies before `run`
    assert len(sent) == 1

    clock.advance(timedelta(seconds=301))
    await jobs.drain("rescuer")

    assert [kind for kind, _ in sent] == ["BORDER_RECORDS", "POPULATION_REGISTRY"]
    assert (await Job.get(id=job.id)).status == JobStatus.DONE
    assert (await read(http, registration["id"]))["verifications"][0]["status"] == "ANSWERED"
    assert await WhitelistChange.filter(imei=imei(52), op="UPDATE").count() == 1


async def test_two_workers_share_the_queue_without_doing_anything_twice(http, authorities, sent):
    updated(verification_batch_size=4)
    registrations = []
    for n in range(18):
        refused = n % 5 == 0
        registrations.append(
            await declare(
                http,
                f"EDV-W{n}",
                [imei(100 + n)],
                n=100 + n,
                name=f"Kişi {n} SIM-IDENTITY-MISMATCH" if refused else f"Kişi {n}",
                customs=f"26341300IM{n:06d}" if n % 2 else None,
            )
        )
    # Two dispatchers at once never put a request in two batches.
    batches = await asyncio.gather(verification.dispatch(), verification.dispatch())
    assert await VerificationRequest.filter(batch_id=None).count() == 0
    created = [b.id for found in batches for b in found]
    assert len(created) == len(set(created)) == await VerificationBatch.all().count()

    done = await asyncio.gather(jobs.drain("worker-a"), jobs.drain("worker-b"))
    assert sum(done) == len(created) and all(done)  # both workers took batches

    # Each batch sent once, each reference asked once per authority.
    assert len(sent) == len(created)
    per_authority = Counter((kind, ref) for kind, refs in sent for ref in refs)
    assert max(per_authority.values()) == 1
    statuses = Counter(r.status for r in await Registration.all())
    assert statuses == {RegistrationStatus.VERIFIED: 14, RegistrationStatus.REJECTED: 4}
    decided = Counter(
        e.subject_id
        for e in await AuditEvent.filter(action__in=["individual.verified", "individual.rejected"])
    )
    assert len(decided) == 18 and set(decided.values()) == {1}
    changes = Counter(c.imei for c in await WhitelistChange.filter(op__in=["UPDATE", "REMOVE"]))
    assert len(changes) == 18 and set(changes.values()) == {1}


# --- batches given up: their declarations come back ---------------------------------------


async def border_request(registration_id: int) -> VerificationRequest:
    return await VerificationRequest.get(
        registration_id=registration_id, authority="BORDER_RECORDS"
    )


async def test_declarations_of_a_given_up_batch_go_into_the_next_periodic_batch(http):
    updated(verification_max_attempts=1)
    async with authorities_on_loopback() as simulator:
        point_authorities_at("http://127.0.0.1:9")  # an outage longer than the retries
        registration = await declare(http, "EDV-OUTAGE", [imei(50)])
        await run_all_jobs()
        assert await Job.filter(kind=verification.BATCH_JOB, status=JobStatus.DEAD).count() == 2
        first = (await border_request(registration["id"])).batch_id
        assert (await read(http, registration["id"]))["imeis"][0]["whitelistStatus"] == (
            "PROVISIONAL"
        )

        point_authorities_at(simulator)  # the authorities are back
        clock.advance(timedelta(hours=1))  # the next periodic batch, nobody retrying by hand
        await run_all_jobs()
    now = await read(http, registration["id"])
    assert now["status"] == "VERIFIED"
    assert now["imeis"][0]["whitelistStatus"] == "REGISTERED"
    request = await border_request(registration["id"])
    assert request.batch_id != first and request.failed_batches == 1
    assert (await VerificationBatch.get(id=first)).status == VerificationBatchStatus.FAILED
    assert await AuditEvent.filter(action="verification.requests_returned").exists()


async def test_a_declaration_comes_back_a_bounded_number_of_times_then_waits_for_staff(
    http, authorities
):
    updated(verification_max_attempts=1, verification_max_batches=2)
    registration = await declare(
        http, "EDV-ALWAYS-DOWN", [imei(60)], name="Can SIM-5XX@BORDER_RECORDS Öztürk"
    )
    for _ in range(4):  # four periods, the border records failing every time
        await run_all_jobs()
        clock.advance(timedelta(hours=1))
    border_batches = await VerificationBatch.filter(authority="BORDER_RECORDS")
    assert len(border_batches) == 2  # its first batch, and one more
    assert {b.status for b in border_batches} == {VerificationBatchStatus.FAILED}
    request = await border_request(registration["id"])
    assert request.failed_batches == 2 and request.status == VerificationRequestStatus.PENDING
    assert request.batch_id == max(b.id for b in border_batches)  # waits in its last batch

    await make_world()
    staff = await login(http, "staff.admin")
    failed = await gql(
        http, "{ verificationBatches(status: FAILED) { items { id jobId } } }", token=staff
    )
    assert request.batch_id in [b["id"] for b in failed["data"]["verificationBatches"]["items"]]
