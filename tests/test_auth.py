"""Logging in and out, token expiry, the first-login password change.

Throttling of failed logins: test_auth_throttle.py; new-password rules: test_passwords.py."""

from __future__ import annotations

from datetime import timedelta

from models import clock
from models.accounts import AccessToken
from models.roles import Role
from tests.support.api import LOGIN, PASSWORD, error_codes, gql, login, make_user

VIEWER = "{ viewer { kind role name mustChangePassword } }"
NEW_PASSWORD = "Kuzey.Rüzgarı.456"


async def test_a_user_logs_in_sees_themself_and_logs_out(client):
    await make_user("ayse", Role.FIRM_USER, firm=None)  # firm-less is fine for auth itself
    token = await login(client, "  AYSE ")  # usernames are case- and space-insensitive

    body = await gql(client, VIEWER, token=token)
    assert body["data"]["viewer"] == {
        "kind": "USER",
        "role": "FIRM_USER",
        "name": "ayse",
        "mustChangePassword": False,
    }
    stored = await AccessToken.all()
    assert len(stored) == 1 and token not in stored[0].token_hash  # only a hash is stored

    body = await gql(client, "mutation { logout { ok errors { code } } }", token=token)
    assert body["data"]["logout"] == {"ok": True, "errors": []}
    body = await gql(client, VIEWER, token=token, expect_status=401)
    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_wrong_password_and_unknown_user_get_the_same_answer(client):
    await make_user("ayse", Role.FIRM_USER)
    wrong = await gql(client, LOGIN, {"u": "ayse", "p": "wrong-password-1"})
    unknown = await gql(client, LOGIN, {"u": "nobody", "p": "wrong-password-1"})
    assert wrong["data"]["login"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
    assert wrong["data"]["login"]["errors"] == unknown["data"]["login"]["errors"]
    assert wrong["data"]["login"]["token"] is None


async def test_a_token_expires(client, settings):
    await make_user("ayse", Role.FIRM_USER)
    clock.freeze(clock.now())
    token = await login(client, "ayse")
    clock.advance(timedelta(minutes=settings.token_ttl_minutes - 1))
    assert (await gql(client, VIEWER, token=token))["data"]["viewer"]["name"] == "ayse"
    clock.advance(timedelta(minutes=2))
    body = await gql(client, VIEWER, token=token, expect_status=401)
    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_first_login_requires_a_password_change_before_anything_else(client):
    await make_user("yeni", Role.STAFF_ADMIN, must_change_password=True)
    body = await gql(client, LOGIN, {"u": "yeni", "p": PASSWORD})
    assert body["data"]["login"]["mustChangePassword"] is True
    token = body["data"]["login"]["token"]

    refused = await gql(client, "{ firms { items { id } } }", token=token)
    assert error_codes(refused) == ["PASSWORD_CHANGE_REQUIRED"]
    assert refused["data"] is None

    change = """mutation($c: String!, $n: String!) {
      changePassword(currentPassword: $c, newPassword: $n) { user { mustChangePassword } errors { code field } }
    }"""
    weak = await gql(client, change, {"c": PASSWORD, "n": "short"}, token=token)
    assert weak["data"]["changePassword"]["errors"] == [
        {"code": "WEAK_PASSWORD", "field": "newPassword"}
    ]
    wrong = await gql(client, change, {"c": "not-it-123", "n": NEW_PASSWORD}, token=token)
    assert wrong["data"]["changePassword"]["errors"][0]["code"] == "INVALID_CREDENTIALS"

    done = await gql(client, change, {"c": PASSWORD, "n": NEW_PASSWORD}, token=token)
    assert done["data"]["changePassword"] == {"user": {"mustChangePassword": False}, "errors": []}
    # The same session goes on; the old password no longer works.
    assert (await gql(client, "{ firms { items { id } } }", token=token))["data"]["firms"] == {
        "items": []
    }
    old = await gql(client, LOGIN, {"u": "yeni", "p": PASSWORD})
    assert old["data"]["login"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
    assert await login(client, "yeni", NEW_PASSWORD)


async def test_a_successful_login_resets_the_failure_count(client, settings):
    await make_user("ayse", Role.FIRM_USER)
    clock.freeze(clock.now())
    for _ in range(settings.login_failures_before_delay):
        await gql(client, LOGIN, {"u": "ayse", "p": "wrong-password-1"})
    await login(client, "ayse")
    # The free failures are free again: no delay after as many more.
    for _ in range(settings.login_failures_before_delay):
        body = await gql(client, LOGIN, {"u": "ayse", "p": "wrong-password-1"})
        assert body["data"]["login"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
    assert await login(client, "ayse")


async def test_a_malformed_authorization_header_is_refused(client):
    response = await client.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": "Basic abc"}
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_anonymous_callers_reach_only_public_fields(client):
    body = await gql(client, VIEWER)
    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_messages_follow_accept_language(client):
    await make_user("ayse", Role.FIRM_USER)
    tr = await gql(client, LOGIN, {"u": "ayse", "p": "x-wrong-123"})
    en = await gql(
        client,
        LOGIN,
        {"u": "ayse", "p": "x-wrong-123"},
        headers={"Accept-Language": "en-GB,en;q=0.9"},
    )
    assert tr["data"]["login"]["errors"][0]["message"] == "Kullanıcı adı ya da şifre hatalı."
    assert en["data"]["login"]["errors"][0]["message"] == "Wrong username or password."
