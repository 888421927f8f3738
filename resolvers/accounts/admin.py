"""Staff administration of accounts: firms, users, machine clients and their tokens."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from tortoise.transactions import in_transaction

from models import clock
from models.accounts import AccessToken, Firm, MachineClient, User
from models.ip_rules import normalise_allowlist
from models.roles import FIRM_ROLES, PERSON_ROLES, STAFF_ROLES, ClientKind, FirmKind, Role
from resolvers import audit
from resolvers.accounts import throttle
from resolvers.accounts.auth import normalise_username, remember_password
from resolvers.accounts.credentials import (
    check_password_strength,
    hash_password,
    hash_token,
    new_token,
    personal_words,
)
from resolvers.actor import Actor
from resolvers.errors import (
    DomainError,
    ErrorCode,
    Problems,
    already_exists,
    invalid,
    not_found,
)
from resolvers.pagination import Page, paginate
from resolvers.scoping import visible_to
from resolvers.sessions import sessions_changed
from resolvers.settings import get_settings

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TAX_NUMBER_RE = re.compile(r"^\d{10,11}$")
OPERATOR_CODE_RE = re.compile(r"^[A-Z0-9_]{2,16}$")


def require_admin(actor: Actor) -> None:
    if not actor.has(Role.STAFF_ADMIN, Role.SYSTEM):
        raise DomainError(ErrorCode.FORBIDDEN)


def _allowlist(entries: Sequence[str], field: str) -> list[str]:
    try:
        return normalise_allowlist(entries)
    except ValueError as exc:
        raise invalid(
            field,
            f"'{exc.args[0]}' bir IP adresi ya da CIDR bloğu değil",
            f"'{exc.args[0]}' is not an IP address or CIDR block",
        ) from exc


def _email(value: str, field: str = "contactEmail") -> str:
    value = value.strip()
    if not EMAIL_RE.match(value):
        raise invalid(field, "e-posta adresi geçersiz", "the e-mail address is not valid")
    return value


def _required_text(value: str, field: str, max_length: int = 255) -> str:
    value = " ".join(value.split())
    if not value or len(value) > max_length:
        raise invalid(
            field,
            f"boş olamaz ve en fazla {max_length} karakter olabilir",
            f"must not be empty and at most {max_length} characters",
        )
    return value


# --- firms -------------------------------------------------------------------------------

#: A phone number as people write it: digits, spaces, + ( ) - /, at least 7 digits.
PHONE_RE = re.compile(r"\+?[0-9 ()/-]{7,32}")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _phone(value: str) -> str:
    value = " ".join(value.split())
    if value and (not PHONE_RE.fullmatch(value) or sum(c.isdigit() for c in value) < 7):
        raise invalid(
            "phone",
            "telefon numarası rakam, boşluk ve + ( ) - / içerebilir (en az 7 rakam)",
            "a phone number holds digits, spaces and + ( ) - / (at least 7 digits)",
        )
    return value


def _optional_text(value: str, field: str, max_length: int = 255) -> str:
    """Contact details and the signatory: empty clears them (the Ek-1 shows dotted lines)."""
    value = " ".join(value.split())
    if len(value) > max_length:
        raise invalid(
            field,
            f"en fazla {max_length} karakter olabilir",
            f"at most {max_length} characters",
        )
    return value


def _firm_contact(
    problems: Problems,
    address: str | None,
    phone: str | None,
    signatory_name: str | None,
    signatory_title: str | None,
) -> dict[str, str]:
    """The Ek-1 details given (None: not given), checked; every error into `problems`."""
    checks = (
        ("address", address, lambda v: _optional_text(v, "address", 500)),
        ("phone", phone, _phone),
        ("signatory_name", signatory_name, lambda v: _optional_text(v, "signatoryName")),
        ("signatory_title", signatory_title, lambda v: _optional_text(v, "signatoryTitle")),
    )
    values: dict[str, str] = {}
    for name, given, check in checks:
        if given is not None:
            checked = problems.check(check, given)
            if checked is not None:
                values[name] = checked
    return values


async def create_firm(
    actor: Actor,
    name: str,
    tax_number: str,
    kind: FirmKind,
    contact_email: str,
    allowed_ips: Sequence[str] = (),
    address: str | None = None,
    phone: str | None = None,
    signatory_name: str | None = None,
    signatory_title: str | None = None,
) -> Firm:
    require_admin(actor)
    problems = Problems()  # every input error at once, each with its field
    name = problems.check(_required_text, name, "name") or name
    tax_number = tax_number.strip()
    if not TAX_NUMBER_RE.match(tax_number):
        problems.add(
            invalid(
                "taxNumber",
                "vergi numarası 10 ya da 11 haneli olmalı",
                "tax number must be 10 or 11 digits",
            )
        )
    elif await Firm.filter(tax_number=tax_number).exists():
        problems.add(already_exists("Vergi numarası", "Tax number", tax_number, field="taxNumber"))
    email = problems.check(_email, contact_email) or contact_email
    ips = problems.check(_allowlist, allowed_ips, "allowedIps") or []
    contact = _firm_contact(problems, address, phone, signatory_name, signatory_title)
    problems.raise_any()
    async with in_transaction():
        if await Firm.filter(tax_number=tax_number).exists():
            raise already_exists("Vergi numarası", "Tax number", tax_number, field="taxNumber")
        firm = await Firm.create(
            name=name,
            tax_number=tax_number,
            kind=kind,
            contact_email=email,
            allowed_ips=ips,
            created_at=clock.now(),
            **contact,
        )
        await audit.record(
            actor,
            "firm.created",
            "Firm",
            firm.id,
            {"name": name, "taxNumber": tax_number, "kind": kind.value, "allowedIps": ips},
            firm_id=firm.id,
        )
    return firm


async def update_firm(
    actor: Actor,
    firm_id: int,
    name: str | None = None,
    contact_email: str | None = None,
    allowed_ips: Sequence[str] | None = None,
    is_active: bool | None = None,
    address: str | None = None,
    phone: str | None = None,
    signatory_name: str | None = None,
    signatory_title: str | None = None,
) -> Firm:
    require_admin(actor)
    problems = Problems()  # every input error at once, each with its field
    new_name = None if name is None else problems.check(_required_text, name, "name")
    new_email = None if contact_email is None else problems.check(_email, contact_email)
    new_ips = None if allowed_ips is None else problems.check(_allowlist, allowed_ips, "allowedIps")
    contact = _firm_contact(problems, address, phone, signatory_name, signatory_title)
    problems.raise_any()
    async with in_transaction():
        firm = await Firm.filter(id=firm_id).select_for_update().first()
        if firm is None:
            raise not_found("Firma", "Firm", field="firmId")
        changes: dict[str, object] = {}
        if new_name is not None:
            firm.name = changes["name"] = new_name
        if new_email is not None:
            firm.contact_email = changes["contactEmail"] = new_email
        if new_ips is not None:
            firm.allowed_ips = new_ips
            changes["allowedIps"] = new_ips
        if is_active is not None:
            firm.is_active = changes["isActive"] = is_active
        for name, value in contact.items():
            setattr(firm, name, value)
            changes[_camel(name)] = value
        await firm.save()
        await audit.record(actor, "firm.updated", "Firm", firm.id, changes, firm_id=firm.id)
    sessions_changed()  # sessions may have ended: no cached actor outlives them
    return firm


async def get_firm(actor: Actor, firm_id: int) -> Firm:
    firm = await visible_to(Firm.filter(id=firm_id), actor, "id").first()
    if firm is None:
        raise not_found("Firma", "Firm", field="id")
    return firm


async def list_firms(actor: Actor, first: int, after: str | None) -> Page[Firm]:
    return await paginate(visible_to(Firm.all(), actor, "id"), first, after, newest_first=False)


# --- people ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewUser:
    user: User
    temporary_password: str


def temporary_password() -> str:
    # Letters and digits guaranteed, so it passes the policy the user must then replace.
    return secrets.token_urlsafe(9) + str(secrets.randbelow(10)) + "a"


async def create_user(
    actor: Actor,
    username: str,
    full_name: str,
    email: str,
    role: Role,
    firm_id: int | None = None,
    password: str | None = None,
) -> NewUser:
    """A person's account; they must change the password at first login (guide §2)."""
    require_admin(actor)
    problems = Problems()  # every input error at once, each with its field
    username = normalise_username(username)
    if not USERNAME_RE.match(username):
        problems.add(
            invalid(
                "username",
                "kullanıcı adı 3-64 karakter; küçük harf, rakam, nokta, tire ya da alt çizgi "
                "olmalı",
                "username must be 3-64 characters: lower-case letters, digits, dot, hyphen, "
                "underscore",
            )
        )
    elif await User.filter(username=username).exists():
        problems.add(already_exists("Kullanıcı adı", "Username", username, field="username"))
    if role not in PERSON_ROLES:
        problems.add(
            invalid("role", "bu rol bir kişiye verilemez", "this role cannot be given to a person")
        )
    if role in FIRM_ROLES and firm_id is None:
        problems.add(
            invalid(
                "firmId", "firma kullanıcısı bir firmaya bağlı olmalı", "a firm user needs a firm"
            )
        )
    if role in STAFF_ROLES and firm_id is not None:
        problems.add(
            invalid(
                "firmId", "Kurum personeli bir firmaya bağlanamaz", "staff cannot belong to a firm"
            )
        )
    elif firm_id is not None and not await Firm.filter(id=firm_id).exists():
        problems.add(not_found("Firma", "Firm", field="firmId"))
    full_name = problems.check(_required_text, full_name, "fullName") or full_name
    email = problems.check(_email, email, "email") or email
    if password is not None:
        problems.check(
            check_password_strength,
            password,
            personal_words(username, full_name, email),
            "password",
        )
    problems.raise_any()
    secret = password or temporary_password()
    password_hash = await hash_password(secret)
    async with in_transaction():
        # Checked again where it counts: a concurrent request may have taken the name.
        if firm_id is not None and not await Firm.filter(id=firm_id).exists():
            raise not_found("Firma", "Firm", field="firmId")
        if await User.filter(username=username).exists():
            raise already_exists("Kullanıcı adı", "Username", username, field="username")
        user = await User.create(
            username=username,
            full_name=full_name,
            email=email,
            role=role,
            firm_id=firm_id,
            password_hash=password_hash,
            must_change_password=True,
            created_at=clock.now(),
        )
        await audit.record(
            actor,
            "user.created",
            "User",
            user.id,
            {"username": username, "role": role.value},
            firm_id=firm_id,
        )
    return NewUser(user=user, temporary_password=secret)


async def reset_password(actor: Actor, user_id: int) -> NewUser:
    """A new temporary password; clears the account's login throttle and ends its sessions."""
    require_admin(actor)
    secret = temporary_password()
    password_hash = await hash_password(secret)
    async with in_transaction():
        user = await User.filter(id=user_id).select_for_update().first()
        if user is None:
            raise not_found("Kullanıcı", "User", field="userId")
        await remember_password(user)
        user.password_hash = password_hash
        user.must_change_password = True
        await user.save()
        await throttle.forget_account(user.username)
        await AccessToken.filter(user_id=user.id, revoked_at__isnull=True).update(
            revoked_at=clock.now()
        )
        await audit.record(actor, "user.password_reset", "User", user.id, firm_id=user.firm_id)
    sessions_changed()  # sessions may have ended: no cached actor outlives them
    return NewUser(user=user, temporary_password=secret)


async def set_user_active(actor: Actor, user_id: int, active: bool) -> User:
    require_admin(actor)
    async with in_transaction():
        user = await User.filter(id=user_id).select_for_update().first()
        if user is None:
            raise not_found("Kullanıcı", "User", field="userId")
        user.is_active = active
        await user.save(update_fields=["is_active"])
        if not active:
            await AccessToken.filter(user_id=user.id, revoked_at__isnull=True).update(
                revoked_at=clock.now()
            )
        await audit.record(
            actor, "user.updated", "User", user.id, {"isActive": active}, firm_id=user.firm_id
        )
    sessions_changed()  # sessions may have ended: no cached actor outlives them
    return user


async def get_user(actor: Actor, user_id: int) -> User:
    if actor.kind == "USER" and actor.id == user_id:
        return await User.get(id=user_id)
    if not (actor.is_staff or actor.has(Role.FIRM_SUPERVISOR)):
        raise not_found("Kullanıcı", "User", field="id")
    user = await visible_to(User.filter(id=user_id), actor).first()
    if user is None:
        raise not_found("Kullanıcı", "User", field="id")
    return user


async def list_users(
    actor: Actor, first: int, after: str | None, firm_id: int | None = None
) -> Page[User]:
    """Staff list everyone (optionally one firm's); a firm supervisor lists the firm's users."""
    if not (actor.is_staff or actor.has(Role.FIRM_SUPERVISOR)):
        raise DomainError(ErrorCode.FORBIDDEN)
    query = visible_to(User.all(), actor)
    if firm_id is not None:
        query = query.filter(firm_id=firm_id)
    return await paginate(query, first, after, newest_first=False, count=True)


# --- machine clients ---------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    token: str
    access_token: AccessToken


async def _issue_client_token(actor: Actor, client: MachineClient, label: str) -> IssuedToken:
    now = clock.now()
    token = new_token()
    access = await AccessToken.create(
        token_hash=hash_token(token),
        client_id=client.id,
        label=label.strip()[:255],
        created_at=now,
        expires_at=now + timedelta(days=get_settings().client_token_ttl_days),
    )
    await audit.record(
        actor, "client.token_issued", "MachineClient", client.id, {"tokenId": access.id}
    )
    return IssuedToken(token=token, access_token=access)


def _operator_code(kind: ClientKind, operator_code: str | None) -> str | None:
    """An operator client's code, normalised; other clients have none."""
    if kind == ClientKind.OPERATOR:
        code = (operator_code or "").strip().upper()
        if not OPERATOR_CODE_RE.match(code):
            raise invalid(
                "operatorCode",
                "operatör kodu 2-16 büyük harf, rakam ya da alt çizgi olmalı",
                "operator code must be 2-16 capital letters, digits or underscores",
            )
        return code
    if operator_code:
        raise invalid(
            "operatorCode",
            "operatör kodu yalnızca operatör istemcilerine verilir",
            "only operator clients have an operator code",
        )
    return None


async def create_client(
    actor: Actor,
    name: str,
    kind: ClientKind,
    operator_code: str | None = None,
    allowed_ips: Sequence[str] = (),
) -> tuple[MachineClient, IssuedToken]:
    """A machine client and its first token, shown once."""
    require_admin(actor)
    problems = Problems()  # every input error at once, each with its field
    name = problems.check(_required_text, name, "name") or name
    operator_code = problems.check(_operator_code, kind, operator_code)
    ips = problems.check(_allowlist, allowed_ips, "allowedIps") or []
    async with in_transaction():
        if await MachineClient.filter(name=name).exists():
            problems.add(already_exists("İstemci adı", "Client name", name, field="name"))
        if operator_code and await MachineClient.filter(operator_code=operator_code).exists():
            problems.add(
                already_exists("Operatör kodu", "Operator code", operator_code, "operatorCode")
            )
        problems.raise_any()
        client = await MachineClient.create(
            name=name,
            kind=kind,
            operator_code=operator_code,
            allowed_ips=ips,
            created_at=clock.now(),
        )
        await audit.record(
            actor,
            "client.created",
            "MachineClient",
            client.id,
            {"name": name, "kind": kind.value, "operatorCode": operator_code, "allowedIps": ips},
        )
        issued = await _issue_client_token(actor, client, "initial")
    return client, issued


async def issue_client_token(actor: Actor, client_id: int, label: str = "") -> IssuedToken:
    require_admin(actor)
    async with in_transaction():
        client = await MachineClient.get_or_none(id=client_id)
        if client is None:
            raise not_found("İstemci", "Client", field="clientId")
        return await _issue_client_token(actor, client, label)


async def update_client(
    actor: Actor,
    client_id: int,
    allowed_ips: Sequence[str] | None = None,
    is_active: bool | None = None,
) -> MachineClient:
    require_admin(actor)
    async with in_transaction():
        client = await MachineClient.filter(id=client_id).select_for_update().first()
        if client is None:
            raise not_found("İstemci", "Client", field="clientId")
        changes: dict[str, object] = {}
        if allowed_ips is not None:
            client.allowed_ips = _allowlist(allowed_ips, "allowedIps")
            changes["allowedIps"] = client.allowed_ips
        if is_active is not None:
            client.is_active = changes["isActive"] = is_active
        await client.save()
        await audit.record(actor, "client.updated", "MachineClient", client.id, changes)
    sessions_changed()  # sessions may have ended: no cached actor outlives them
    return client


async def revoke_token(actor: Actor, token_id: int) -> AccessToken:
    require_admin(actor)
    async with in_transaction():
        access = await AccessToken.filter(id=token_id).select_for_update().first()
        if access is None:
            raise not_found("Erişim anahtarı", "Token", field="tokenId")
        if access.revoked_at is None:
            access.revoked_at = clock.now()
            await access.save(update_fields=["revoked_at"])
        await audit.record(actor, "token.revoked", "AccessToken", access.id)
    sessions_changed()  # sessions may have ended: no cached actor outlives them
    return access


async def list_clients(actor: Actor, first: int, after: str | None) -> Page[MachineClient]:
    if not actor.is_staff:
        raise DomainError(ErrorCode.FORBIDDEN)
    return await paginate(MachineClient.all(), first, after, newest_first=False, count=True)


async def client_tokens(actor: Actor, client_id: int) -> list[AccessToken]:
    if not actor.is_staff:
        raise DomainError(ErrorCode.FORBIDDEN)
    return await AccessToken.filter(client_id=client_id).order_by("id")
