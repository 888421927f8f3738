"""Accounts: firms, their users, staff, machine clients and their bearer tokens."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.roles import ClientKind, FirmKind, Role


class Firm(Model):
    """An importer or manufacturer (Tebliğ art. 8(1)): a legal entity with several users."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=255)
    tax_number = fields.CharField(max_length=20, unique=True)
    kind = fields.CharEnumField(FirmKind, max_length=32)
    contact_email = fields.CharField(max_length=254)
    # Contact details and the authorised signatory the Ek-1 petition prints (Tebliğ art.
    # 8(1)(a): "firma kaşesi ... iletişim bilgileri", "firma yetkilisinin unvanı").
    address = fields.TextField(default="")
    phone = fields.CharField(max_length=32, default="")
    signatory_name = fields.CharField(max_length=255, default="")
    signatory_title = fields.CharField(max_length=255, default="")
    # Static IPs or CIDRs the firm's users may connect from (guide §1); empty = anywhere.
    allowed_ips: list[str] = fields.JSONField(default=list)  # type: ignore[assignment]
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "firm"


class User(Model):
    """A person: a firm's user or supervisor, or a member of the regulator's staff."""

    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=64, unique=True)
    full_name = fields.CharField(max_length=255)
    email = fields.CharField(max_length=254)
    role = fields.CharEnumField(Role, max_length=32)
    firm: fields.ForeignKeyNullableRelation[Firm] = fields.ForeignKeyField(
        "models.Firm", related_name="users", null=True, on_delete=fields.RESTRICT
    )
    password_hash = fields.CharField(max_length=255)
    must_change_password = fields.BooleanField(default=True)
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField()
    last_login_at = fields.DatetimeField(null=True)

    firm_id: int | None

    class Meta:
        table = "user_account"


class MachineClient(Model):
    """A system that calls us: an operator's network/AKM systems or the e-Devlet adapter."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=255, unique=True)
    kind = fields.CharEnumField(ClientKind, max_length=16)
    operator_code = fields.CharField(max_length=16, null=True, unique=True)
    allowed_ips: list[str] = fields.JSONField(default=list)  # type: ignore[assignment]
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField()
    # IMEIs this client may check per minute (`checkImeis`, every alias counted); None: the
    # default in settings (`check_quota_per_minute`).
    checks_per_minute = fields.IntField(null=True)

    class Meta:
        table = "machine_client"


class AccessToken(Model):
    """A bearer token: only its keyed hash is stored, the token itself is shown once."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="tokens", null=True, on_delete=fields.CASCADE
    )
    client: fields.ForeignKeyNullableRelation[MachineClient] = fields.ForeignKeyField(
        "models.MachineClient", related_name="tokens", null=True, on_delete=fields.CASCADE
    )
    label = fields.CharField(max_length=255, default="")
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    user_id: int | None
    client_id: int | None

    class Meta:
        table = "access_token"


class PasswordHistory(Model):
    """A password a user had before: a new one must not repeat the last few."""

    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="password_history", on_delete=fields.CASCADE
    )
    password_hash = fields.CharField(max_length=255)
    replaced_at = fields.DatetimeField()

    user_id: int

    class Meta:
        table = "password_history"


class LoginThrottle(Model):
    """A failed-login counter: per account and address, per address, or per account.

    In the database, so every gateway process shares it (resolvers/accounts/throttle.py).
    """

    id = fields.BigIntField(primary_key=True)
    # A hash of the scope and what is counted: attacker-chosen usernames are not stored.
    key = fields.CharField(max_length=64, unique=True)
    scope = fields.CharField(max_length=16)
    # The account's hash on its counters, so staff resetting a password can clear them all.
    account = fields.CharField(max_length=64, null=True, db_index=True)
    failures = fields.IntField(default=0)
    # Bumped by every write: updates are compare-and-set on it, so concurrent attempts in
    # any process each count once without locks (SQLite and PostgreSQL alike).
    version = fields.IntField(default=0)
    # The count covers failures since this moment; it starts afresh once the memory period
    # is over (a busy office's occasional typos must not add up for ever).
    started_at = fields.DatetimeField(db_index=True)
    updated_at = fields.DatetimeField()
    blocked_until = fields.DatetimeField(null=True)
    # Per account and address: the last successful login from there.
    succeeded_at = fields.DatetimeField(null=True)

    class Meta:
        table = "login_throttle"
