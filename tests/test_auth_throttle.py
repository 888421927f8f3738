"""Failed logins are throttled, never hard-locked (issue 11): per account and address, per
address, per account over all addresses; counted in the database before any hashing; the
refusal causes all answer alike; one password check per document."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import timedelta

import httpx
import pytest
from argon2 import PasswordHasher

from gateway.app import create_app
from models import clock
from models.accounts import LoginThrottle, User
from models.audit import AuditEvent
from models.jobs import Job
from models.roles import Role
from resolvers.accounts import throttle
from resolvers.settings import get_settings, updated
from schema.limits import OnePasswordCheckPerDocument, limit_rules
from tests.support.api import LOGIN, PASSWORD, error_codes, gql, login, make_firm, make_user
from tests.test_serve import ROOT, free_port, healthy, serve_env, wait_for

STRANGER = "198.51.100.66"
HOME = "203.0.113.10"
ELSEWHERE = "192.0.2.44"
CHANGE = """mutation($c: String!, $n: String!) {
  changePassword(currentPassword: $c, newPassword: $n) {
    user { username } errors { code field message retryAfterSeconds }
  }
}"""
LOGIN_FULL = """
mutation($u: String!, $p: String!) {
  login(username: $u, password: $p) { token errors { code message field retryAfterSeconds } }
}"""


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every argon2 verification the gateway runs (a list of the hashes it checked)."""
    seen: list[str] = []
    verify = PasswordHasher.verify

    def counting(self: PasswordHasher, hash: str, password: str) -> bool:
        seen.append(hash)
        return verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    return seen


async def try_login(client, username: str, password: str = "wrong-password-1") -> dict:
    body = await gql(client, LOGIN_FULL, {"u": username, "p": password})
    return body["data"]["login"]


def code_of(payload: dict) -> str | None:
    return payload["errors"][0]["code"] if payload["errors"] else None


async def test_spraying_from_one_address_is_slowed_down_with_a_retry_time(make_client, hashes):
    updated(login_address_failures_before_delay=5)
    clock.freeze(clock.now())
    await make_user("ayse", Role.FIRM_USER)
    sprayer = make_client(STRANGER)

    # Five names, known or not, one guess each: free. The sixth failure starts a delay.
    for name in ["ayse", "mehmet", "zeynep", "can", "elif", "deniz"]:
        assert code_of(await try_login(sprayer, name)) == "INVALID_CREDENTIALS"
    checked = len(hashes)
    refused = await try_login(sprayer, "ayse", PASSWORD)  # even the right password waits
    assert refused["token"] is None
    assert refused["errors"] == [
        {
            "code": "RATE_LIMITED",
            "message": "Kısa sürede çok fazla istek ya da hatalı deneme yapıldı; lütfen 2 "
            "saniye sonra yeniden deneyin.",
            "field": None,
            "retryAfterSeconds": 2,
        }
    ]
    assert len(hashes) == checked  # refused before any hashing
    # Another address is not held up by the sprayer.
    assert await login(make_client(HOME), "ayse")

    # Each further failure doubles the wait.
    clock.advance(timedelta(seconds=2))
    assert code_of(await try_login(sprayer, "fatma")) == "INVALID_CREDENTIALS"
    assert (await try_login(sprayer, "fatma"))["errors"][0]["retryAfterSeconds"] == 4
    clock.advance(timedelta(seconds=3))
    assert (await try_login(sprayer, "fatma"))["errors"][0]["retryAfterSeconds"] == 1
    clock.advance(timedelta(seconds=1))
    assert code_of(await try_login(sprayer, "fatma")) == "INVALID_CREDENTIALS"
    assert (await try_login(sprayer, "fatma"))["errors"][0]["retryAfterSeconds"] == 8


async def test_the_delay_per_account_and_address_grows_and_is_capped(make_client, settings):
    updated(login_max_delay_seconds=30)
    clock.freeze(clock.now())
    await make_user("ayse", Role.FIRM_USER)
    guesser = make_client(STRANGER)
    waits = []
    for _ in range(settings.login_failures_before_delay + 6):
        payload = await try_login(guesser, "ayse")
        if code_of(payload) == "RATE_LIMITED":
            wait = payload["errors"][0]["retryAfterSeconds"]
            waits.append(wait)
            clock.advance(timedelta(seconds=wait))
            assert code_of(await try_login(guesser, "ayse")) == "INVALID_CREDENTIALS"
    assert waits == [2, 4, 8, 16, 30]  # base 2 s, doubling, capped at the setting


async def test_a_count_starts_afresh_after_its_memory_period(make_client, settings):
    """An office behind one address: its occasional typos do not add up for ever."""
    updated(login_address_failures_before_delay=2)
    clock.freeze(clock.now())
    await make_user("ayse", Role.FIRM_USER)
    office = make_client(HOME)
    for name in ["ayse", "mehmet"]:
        assert code_of(await try_login(office, name)) == "INVALID_CREDENTIALS"
        assert await login(office, "ayse")  # successes do not count
    clock.advance(timedelta(hours=settings.login_failure_memory_hours, seconds=1))
    for name in ["zeynep", "can"]:
        assert code_of(await try_login(office, name)) == "INVALID_CREDENTIALS"
    assert code_of(await try_login(office, "deniz")) == "INVALID_CREDENTIALS"  # the third
    assert code_of(await try_login(office, "ayse", PASSWORD)) == "RATE_LIMITED"


async def test_a_stranger_cannot_lock_the_owner_out(make_client, settings, hashes):
    clock.freeze(clock.now())
    await make_user("ayse", Role.STAFF_ADMIN)
    assert await login(make_client(HOME), "ayse")  # the owner's usual address

    # A stranger hammers the account, waiting out every delay it is given.
    stranger = make_client(STRANGER)
    counted = 0
    waits = []
    while counted < settings.login_account_failures_before_delay + 2:
        payload = await try_login(stranger, "ayse")
        if code_of(payload) == "RATE_LIMITED":
            waits.append(payload["errors"][0]["retryAfterSeconds"])
            clock.advance(timedelta(seconds=waits[-1]))
        else:
            assert code_of(payload) == "INVALID_CREDENTIALS"
            counted += 1
    assert waits[:3] == [2, 4, 8] and waits[-1] > settings.login_account_max_delay_seconds
    assert await LoginThrottle.filter(blocked_until__gt=clock.now()).exists()

    # The owner, from home, is not held up at all: still the right answer at once.
    assert await login(make_client(HOME), "ayse")
    # From an address the account never used, the account-wide delay applies, but it is
    # short (its own low cap) where the stranger waits long.
    away = await try_login(make_client(ELSEWHERE), "ayse", PASSWORD)
    assert code_of(away) == "RATE_LIMITED"
    wait = away["errors"][0]["retryAfterSeconds"]
    assert wait <= settings.login_account_max_delay_seconds
    clock.advance(timedelta(seconds=wait))
    away = await try_login(make_client(ELSEWHERE), "ayse", PASSWORD)
    assert away["errors"] == [] and away["token"]
    still = await try_login(stranger, "ayse", PASSWORD)
    assert code_of(still) == "RATE_LIMITED"
    assert still["errors"][0]["retryAfterSeconds"] > settings.login_account_max_delay_seconds


async def test_the_four_refusal_causes_answer_alike_and_the_audit_keeps_the_cause(
    make_client, hashes
):
    open_firm = await make_firm("Açık A.Ş.", "3333333333")
    closed_firm = await make_firm("Kapalı A.Ş.", "4444444444")
    closed_firm.is_active = False
    await closed_firm.save()
    walled_firm = await make_firm("Duvarlı A.Ş.", "5555555555", allowed_ips=["203.0.113.0/24"])
    await make_user("dogru", Role.FIRM_USER, open_firm)
    disabled = await make_user("pasif", Role.FIRM_USER, open_firm)
    disabled.is_active = False
    await disabled.save()
    await make_user("kapali", Role.FIRM_USER, closed_firm)
    await make_user("duvarli", Role.FIRM_USER, walled_firm)

    caller = make_client(STRANGER)
    cases = {
        "UNKNOWN_USER": ("hic.yok", PASSWORD),
        "WRONG_PASSWORD": ("dogru", "wrong-password-1"),
        "ACCOUNT_DISABLED": ("pasif", PASSWORD),
        "FIRM_DISABLED": ("kapali", PASSWORD),
        "IP_NOT_ALLOWED": ("duvarli", PASSWORD),
    }
    answers = {}
    for cause, (name, password) in cases.items():
        before = len(hashes)
        answers[cause] = await try_login(caller, name, password)
        assert len(hashes) == before + 1, cause  # one argon2 verification each: same timing
    first = answers["UNKNOWN_USER"]
    assert first == {
        "token": None,
        "errors": [
            {
                "code": "INVALID_CREDENTIALS",
                "message": "Kullanıcı adı ya da şifre hatalı.",
                "field": None,
                "retryAfterSeconds": None,
            }
        ],
    }
    assert all(answer == first for answer in answers.values()), answers

    events = await AuditEvent.filter(action="auth.login_failed").order_by("id")
    assert [e.details["reason"] for e in events] == list(cases)
    assert [e.subject_id for e in events][:1] == ["hic.yok"]
    assert events[-1].details["ip"] == STRANGER
    assert all(e.ip == STRANGER for e in events)
    # The right password still works where nothing stands in the way.
    assert await login(caller, "dogru")


async def test_aliases_cannot_multiply_password_guesses(client, hashes):
    await make_user("ayse", Role.FIRM_USER)
    aliased = """mutation {
      a: login(username: "ayse", password: "guess-one-1") { token }
      b: login(username: "ayse", password: "guess-two-2") { token }
    }"""
    body = await gql(client, aliased, expect_status=None)
    assert body.get("data") is None
    assert error_codes(body) == ["ONE_LOGIN_PER_REQUEST"]
    assert body["errors"][0]["message"].startswith("Bir istekte login ve changePassword")
    english = await gql(client, aliased, headers={"Accept-Language": "en"}, expect_status=None)
    assert english["errors"][0]["message"].startswith("A request may use each of login")

    through_fragments = """
    mutation { ...One ...Two }
    fragment One on Mutation { a: login(username: "ayse", password: "guess-one-1") { token } }
    fragment Two on Mutation { b: login(username: "ayse", password: "guess-two-2") { token } }
    """
    assert error_codes(await gql(client, through_fragments, expect_status=None)) == [
        "ONE_LOGIN_PER_REQUEST"
    ]
    changes = """mutation {
      a: changePassword(currentPassword: "x-guess-123", newPassword: "Kuzey.Rüzgarı.456") { user { id } }
      b: changePassword(currentPassword: "y-guess-123", newPassword: "Kuzey.Rüzgarı.456") { user { id } }
    }"""
    token = await login(client, "ayse")
    checked = len(hashes)
    assert error_codes(await gql(client, changes, token=token, expect_status=None)) == [
        "ONE_LOGIN_PER_REQUEST"
    ]
    assert len(hashes) == checked  # nothing was verified
    assert not await AuditEvent.filter(action="auth.login_failed").exists()
    # One of each is fine; the rule is one fixed class, so validation stays cacheable.
    single = await gql(client, LOGIN, {"u": "ayse", "p": PASSWORD})
    assert single["data"]["login"]["errors"] == []
    assert OnePasswordCheckPerDocument in limit_rules(12, 30)
    assert limit_rules(12, 30) is limit_rules(12, 30)


async def test_guesses_of_the_current_password_are_throttled(make_client, settings):
    clock.freeze(clock.now())
    await make_user("ayse", Role.FIRM_USER)
    thief = make_client(STRANGER)
    token = await login(thief, "ayse")  # a stolen session
    new = "Kuzey.Rüzgarı.456"
    answers = []
    for n in range(settings.login_failures_before_delay + 2):
        body = await gql(thief, CHANGE, {"c": f"guess-{n}-abc", "n": new}, token=token)
        answers.append(body["data"]["changePassword"]["errors"][0])
    free = settings.login_failures_before_delay + 1
    assert [a["code"] for a in answers] == ["INVALID_CREDENTIALS"] * free + ["RATE_LIMITED"]
    assert answers[-1]["field"] == "currentPassword" and answers[-1]["retryAfterSeconds"] == 2
    assert await AuditEvent.filter(action="auth.password_change_failed").count() == free

    # The right one waits too; after the delay it works.
    body = await gql(thief, CHANGE, {"c": PASSWORD, "n": new}, token=token)
    assert body["data"]["changePassword"]["errors"][0]["code"] == "RATE_LIMITED"
    clock.advance(timedelta(seconds=2))
    body = await gql(thief, CHANGE, {"c": PASSWORD, "n": new}, token=token)
    assert body["data"]["changePassword"]["errors"] == []


async def test_concurrent_guesses_each_count_and_stop_at_the_limit(make_client, settings, hashes):
    clock.freeze(clock.now())
    await make_user("ayse", Role.FIRM_USER)
    guessers = [make_client(STRANGER) for _ in range(12)]
    payloads = await asyncio.gather(*(try_login(c, "ayse") for c in guessers))
    codes = sorted(code_of(p) or "" for p in payloads)
    admitted = settings.login_failures_before_delay + 1  # the one that starts the delay
    assert codes == ["INVALID_CREDENTIALS"] * admitted + ["RATE_LIMITED"] * (12 - admitted)
    assert len(hashes) == admitted
    pair = await LoginThrottle.get(scope=throttle.ACCOUNT_ADDRESS)
    assert pair.failures == admitted


async def test_the_throttle_holds_across_gateway_instances_sharing_the_database(
    db, make_client, settings
):
    """Two app instances (as two processes would be) on one database: the counters are in
    the database, so guesses spread over both add up."""
    clock.freeze(clock.now())
    await make_user("ayse", Role.FIRM_USER)
    apps = [create_app(manage_db=False), create_app(manage_db=False)]
    clients = [
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(STRANGER, 50000)),
            base_url="http://testserver",
        )
        for app in apps
    ]
    try:
        codes = [
            code_of(await try_login(clients[n % 2], "ayse"))
            for n in range(settings.login_failures_before_delay + 2)
        ]
    finally:
        for c in clients:
            await c.aclose()
    free = settings.login_failures_before_delay + 1
    assert codes == ["INVALID_CREDENTIALS"] * free + ["RATE_LIMITED"]


async def test_old_counters_are_deleted_and_staff_reset_clears_an_account(make_client, settings):
    clock.freeze(clock.now())
    await make_user("ayse", Role.FIRM_USER)
    await make_user("admin.kisi", Role.STAFF_ADMIN)
    assert await login(make_client(HOME), "ayse")
    for _ in range(settings.login_failures_before_delay + 1):
        await try_login(make_client(STRANGER), "ayse")
        await try_login(make_client(STRANGER), "nobody.here")
    assert code_of(await try_login(make_client(STRANGER), "ayse")) == "RATE_LIMITED"

    # Staff reset the password: the account's counters go, so the owner is not kept waiting.
    admin = await login(make_client(HOME), "admin.kisi")
    user = await User.get(username="ayse")
    reset = await gql(
        make_client(HOME),
        "mutation($id: Int!) { resetUserPassword(userId: $id) { temporaryPassword } }",
        {"id": user.id},
        token=admin,
    )
    temporary = reset["data"]["resetUserPassword"]["temporaryPassword"]
    assert code_of(await try_login(make_client(STRANGER), "ayse", temporary)) is None

    rows = await LoginThrottle.all().count()
    assert rows > 0
    assert await throttle.cleanup() == 0  # all recent
    clock.advance(timedelta(hours=settings.login_failure_memory_hours, seconds=1))
    deleted = await throttle.cleanup()
    # What remains: the addresses the accounts logged in from, known for a while longer.
    remaining = await LoginThrottle.all()
    assert deleted > 0 and all(r.succeeded_at is not None for r in remaining)
    clock.advance(timedelta(days=settings.login_known_address_days))
    await throttle.cleanup()
    assert await LoginThrottle.all().count() == 0


async def test_the_cleanup_runs_as_an_hourly_job(db):
    clock.freeze(clock.now())
    await throttle.schedule_periodic()
    await throttle.schedule_periodic()
    assert await Job.filter(kind=throttle.CLEANUP_JOB).count() == 1


def test_ipv6_addresses_count_by_their_64_network():
    assert throttle.address_of("2001:db8:1:2:aaaa::1") == throttle.address_of("2001:db8:1:2::ffff")
    assert throttle.address_of("2001:db8:1:3::1") != throttle.address_of("2001:db8:1:2::1")
    assert throttle.address_of("::ffff:192.0.2.1") == "192.0.2.1"
    assert throttle.address_of("192.0.2.1") == "192.0.2.1"


async def test_the_throttle_holds_across_real_server_processes(db):
    """Two `mcks serve` processes on one database, guesses alternating between them."""
    await make_user("ayse", Role.FIRM_USER)
    codes = await asyncio.to_thread(guess_on_two_servers, db, get_settings().secret_key)
    free = get_settings().login_failures_before_delay + 1
    assert codes == ["INVALID_CREDENTIALS"] * free + ["RATE_LIMITED"]


def guess_on_two_servers(database_url: str, secret_key: str) -> list[str]:
    ports = [free_port(), free_port()]
    env = {
        **serve_env(database_url, secret_key),
        "MCKS_ARGON2_TIME_COST": "1",
        "MCKS_ARGON2_MEMORY_KIB": "1024",
        "MCKS_ARGON2_PARALLELISM": "1",
    }
    servers = [
        subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)], cwd=ROOT, env=env
        )
        for port in ports
    ]
    try:
        for port in ports:
            wait_for(lambda port=port: healthy(port))
        codes = []
        for n in range(get_settings().login_failures_before_delay + 2):
            answer = httpx.post(
                f"http://127.0.0.1:{ports[n % 2]}/graphql",
                json={"query": LOGIN, "variables": {"u": "ayse", "p": "wrong-password-1"}},
                timeout=10,
            )
            codes.append(answer.json()["data"]["login"]["errors"][0]["code"])
        return codes
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
