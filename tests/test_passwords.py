"""New passwords (issue 11): rated by zxcvbn, free of the user's own words, unlike the last
few; each refusal names its reason, in Turkish or English."""

from __future__ import annotations

import itertools

import pytest

from models.accounts import PasswordHistory, User
from models.roles import Role
from resolvers.accounts import admin
from resolvers.accounts.credentials import check_password_strength, personal_words
from resolvers.actor import Actor
from resolvers.errors import DomainError, ErrorCode
from resolvers.settings import updated
from tests.support.api import PASSWORD, gql, login, make_user

CHANGE = """mutation($c: String!, $n: String!) {
  changePassword(currentPassword: $c, newPassword: $n) { user { username } errors { code field message } }
}"""


async def change(client, token: str, current: str, new: str, lang: str = "tr") -> list[dict]:
    body = await gql(
        client, CHANGE, {"c": current, "n": new}, token=token, headers={"Accept-Language": lang}
    )
    errors: list[dict] = body["data"]["changePassword"]["errors"]
    return errors


@pytest.mark.parametrize(
    ("new", "code"),
    [
        ("short1", "WEAK_PASSWORD"),
        ("password12", "PASSWORD_TOO_GUESSABLE"),
        ("qwertyuiop1", "PASSWORD_TOO_GUESSABLE"),
        ("Ankara1234", "PASSWORD_TOO_GUESSABLE"),
        ("ayse.yilmaz1", "PASSWORD_CONTAINS_PERSONAL_DATA"),  # the username and a digit
        ("AYSE.YILMAZ.2026", "PASSWORD_CONTAINS_PERSONAL_DATA"),
        ("Yılmaz.Deniz.77", "PASSWORD_CONTAINS_PERSONAL_DATA"),  # the surname, ı or i alike
    ],
)
async def test_weak_and_personal_passwords_are_refused_with_their_reason(client, new, code):
    await make_user("ayse.yilmaz", Role.FIRM_USER)
    token = await login(client, "ayse.yilmaz")
    errors = await change(client, token, PASSWORD, new)
    assert [(e["code"], e["field"]) for e in errors] == [(code, "newPassword")]


async def test_refusals_are_explained_in_turkish_and_english(client):
    await make_user("ayse", Role.FIRM_USER)
    token = await login(client, "ayse")
    tr = (await change(client, token, PASSWORD, "password12"))[0]["message"]
    en = (await change(client, token, PASSWORD, "password12", lang="en"))[0]["message"]
    assert tr.startswith("Bu şifre kolay tahmin edilebilir")
    assert en.startswith("This password is easy to guess")
    tr = (await change(client, token, PASSWORD, "Ayse.Mavi.Deniz.9"))[0]["message"]
    assert tr == "Şifre kullanıcı adınızı, adınızı, soyadınızı ya da e-posta adresinizi içeremez."


async def test_the_last_passwords_cannot_come_back(client, settings):
    await make_user("ayse", Role.FIRM_USER)
    token = await login(client, "ayse")
    chain = [PASSWORD] + [f"Kuzey.Rüzgarı.{n}4{n}" for n in range(settings.password_history + 1)]
    for current, new in itertools.pairwise(chain):
        assert await change(client, token, current, new) == []
        # The current one, and every earlier one still in the history, is refused.
        errors = await change(client, token, new, new)
        assert errors[0]["code"] == "PASSWORD_REUSED"
        assert errors[0]["message"] == (
            f"Yeni şifre şu anki şifrenizden ve son {settings.password_history} şifrenizden "
            "farklı olmalı."
        )
    current = chain[-1]
    for old in chain[-1 - settings.password_history : -1]:
        assert (await change(client, token, current, old))[0]["code"] == "PASSWORD_REUSED"
    user = await User.get(username="ayse")
    # Only the last few are kept; the oldest may be used again.
    assert await PasswordHistory.filter(user_id=user.id).count() == settings.password_history
    assert await change(client, token, current, chain[0]) == []


async def test_staff_reset_keeps_the_replaced_password_in_the_history(client):
    await make_user("ayse", Role.FIRM_USER)
    await make_user("kurum.admin", Role.STAFF_ADMIN)
    admin = await login(client, "kurum.admin")
    user = await User.get(username="ayse")
    body = await gql(
        client,
        "mutation($id: Int!) { resetUserPassword(userId: $id) { temporaryPassword } }",
        {"id": user.id},
        token=admin,
    )
    temporary = body["data"]["resetUserPassword"]["temporaryPassword"]
    token = await login(client, "ayse", temporary)
    assert (await change(client, token, temporary, PASSWORD))[0]["code"] == "PASSWORD_REUSED"
    assert (await change(client, token, temporary, temporary))[0]["code"] == "PASSWORD_REUSED"
    assert await change(client, token, temporary, "Kuzey.Rüzgarı.456") == []


async def test_a_password_given_when_creating_a_user_gets_the_same_rules(db):
    with pytest.raises(DomainError) as caught:
        await admin.create_user(
            Actor.system(),
            "mehmet.kaya",
            "Mehmet Kaya",
            "mk@example.com",
            Role.STAFF_ADMIN,
            password="mehmet.kaya9",
        )
    assert (caught.value.code, caught.value.field) == (
        ErrorCode.PASSWORD_CONTAINS_PERSONAL_DATA,
        "password",
    )
    created = await admin.create_user(
        Actor.system(),
        "mehmet.kaya",
        "Mehmet Kaya",
        "mk@example.com",
        Role.STAFF_ADMIN,
        password="Kuzey.Rüzgarı.456",
    )
    assert created.user.username == "mehmet.kaya"


def test_the_strength_rules_directly():
    words = personal_words("can.ozturk", "Can Öztürk", "c.ozturk@firma.com.tr")
    assert "ozturk" in words and "öztürk" in words and "can" not in words  # too short
    for weak in ("Öztürk.2026.abc", "canozturk1234"):
        with pytest.raises(DomainError) as caught:
            check_password_strength(weak, words)
        assert caught.value.code == ErrorCode.PASSWORD_CONTAINS_PERSONAL_DATA
    check_password_strength("Kalite.Deniz.Mavi.42", words)  # "can" alone does not forbid
    updated(password_min_score=4)
    with pytest.raises(DomainError) as caught:
        check_password_strength("Istanbul.2026", words)
    assert caught.value.code == ErrorCode.PASSWORD_TOO_GUESSABLE
    check_password_strength("Tavşan.Çorba.91" + "x" * 500, words)  # long input is fine
