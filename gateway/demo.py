"""Demo data for the embedded default: one account of every kind, with known credentials.

Only for development: the demo passwords and machine tokens are printed in the README.
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass
from decimal import Decimal

from tortoise.transactions import in_transaction

from models import clock
from models.accounts import AccessToken, Firm, MachineClient, User
from models.fees import FeeYear
from models.roles import ClientKind, FirmKind, Role
from models.tac import TacModel
from resolvers.accounts.credentials import hash_password, hash_token
from resolvers.settings import get_settings, updated

log = logging.getLogger("mcks.demo")

DEMO_PASSWORD = "Demo.Sifre.2026"


@dataclass(frozen=True)
class DemoPerson:
    username: str
    full_name: str
    role: Role
    firm_tax_number: str | None


DEMO_FIRMS = (
    ("Anadolu Mobil İthalat A.Ş.", "1234567890", FirmKind.IMPORTER, "ithalat@anadolumobil.example"),
    ("Kıbrıs Cihaz Üretim Ltd.", "9876543210", FirmKind.MANUFACTURER, "uretim@kibriscihaz.example"),
)

# What each demo firm's Ek-1 petition prints: address, phone, authorised signatory and title.
DEMO_FIRM_CONTACTS = {
    "1234567890": (
        "Organize Sanayi Bölgesi, 3. Cadde No: 12, Lefkoşa",
        "+90 392 600 10 20",
        "Mehmet Öztürk",
        "Genel Müdür",
    ),
    "9876543210": (
        "Sanayi Sitesi, Fabrika Sokak No: 4, Gazimağusa",
        "+90 392 600 30 40",
        "Zeynep Çelik",
        "Üretim Müdürü",
    ),
}

DEMO_PEOPLE = (
    DemoPerson("firma.kullanici", "Ayşe Yılmaz", Role.FIRM_USER, "1234567890"),
    DemoPerson("firma.yonetici", "Mehmet Öztürk", Role.FIRM_SUPERVISOR, "1234567890"),
    DemoPerson("uretici.kullanici", "Zeynep Çelik", Role.FIRM_USER, "9876543210"),
    DemoPerson("kurum.inceleme", "Elif Şahin", Role.STAFF_REVIEWER, None),
    DemoPerson("kurum.arsiv", "Gökhan Işık", Role.STAFF_ARCHIVE, None),
    DemoPerson("kurum.yonetici", "İbrahim Güneş", Role.STAFF_ADMIN, None),
)

# A few registry models, so a demo device list passes the technical checks.
DEMO_TACS = (
    ("35407115", "APPLE", "A2403", "iPhone 12", "Smartphone", 2),
    ("35332811", "SAMSUNG", "SM-G9359", "Galaxy S7 Edge", "Smartphone", 2),
    ("86012345", "XIAOMI", "2201117TG", "Redmi Note 11", "Smartphone", 2),
    ("35123456", "NOKIA", "TA-1203", "Nokia 105", "Feature phone", 1),
)

DEMO_FEES = (
    (2025, 250_000, None),  # 2,500.00 TL per IMEI
    (2026, None, Decimal("0.4379")),
    (2027, None, Decimal("0.3000")),
)

DEMO_CLIENTS = (
    ("Demo GSM Operatörü", ClientKind.OPERATOR, "DEMOGSM", "mcks_demo_operator_token"),
    ("e-Devlet Kapısı", ClientKind.E_DEVLET, None, "mcks_demo_edevlet_token"),
)


AUTHORITY_KINDS = ("customs", "border_records", "population_registry")


async def start_demo_authorities(stack: AsyncExitStack) -> str | None:
    """In development with no authority configured, serve the authorities' simulator on
    loopback and point the verification adapters at it, so the demo verifies declarations
    end to end (markers like `SIM-NO-ENTRY` in a name reach the refusal paths)."""
    settings = get_settings()
    if any(getattr(settings, f"authority_{kind}_url") for kind in AUTHORITY_KINDS):
        return None
    from integrations.authorities.simulator import DEFAULT_API_KEY, serve_simulator

    url: str = await stack.enter_async_context(serve_simulator(port=0))
    updated(
        **{f"authority_{kind}_url": url for kind in AUTHORITY_KINDS},
        **{f"authority_{kind}_api_key": DEFAULT_API_KEY for kind in AUTHORITY_KINDS},
        verification_interval_minutes=1,
    )
    log.info("demo: verification authorities simulated at %s", url)
    return url


async def start_demo_payments(stack: AsyncExitStack) -> str | None:
    """In development with no payment provider configured, serve the virtual POS simulator
    on loopback and point online payment at it, its callbacks at this server: the demo pays
    by card end to end (card 4242 4242 4242 4242 is charged, 4000 0000 0000 0002 declined).
    One server process only: the simulator keeps its orders in that process's memory."""
    settings = get_settings()
    if settings.payment_provider_url or settings.workers != 1:
        return None
    from integrations.payments.simulator import DEFAULT_API_KEY, DEFAULT_SECRET, serve_simulator

    simulator = await stack.enter_async_context(serve_simulator(port=0))
    updated(
        payment_provider_url=simulator.base_url,
        payment_provider_api_key=DEFAULT_API_KEY,
        payment_callback_secret=DEFAULT_SECRET,
        payment_callback_url=f"http://{settings.host}:{settings.port}/payments/callback",
    )
    log.info("demo: virtual POS simulated at %s", simulator.base_url)
    return simulator.base_url


async def load_demo() -> list[str]:
    """Create what is missing (idempotent); returns lines describing the credentials."""
    now = clock.now()
    password_hash = await hash_password(DEMO_PASSWORD)
    async with in_transaction():
        firms: dict[str, Firm] = {}
        for name, tax, firm_kind, email in DEMO_FIRMS:
            firm = await Firm.get_or_none(tax_number=tax)
            if firm is None:
                address, phone, signatory, title = DEMO_FIRM_CONTACTS[tax]
                firm = await Firm.create(
                    name=name,
                    tax_number=tax,
                    kind=firm_kind,
                    contact_email=email,
                    created_at=now,
                    address=address,
                    phone=phone,
                    signatory_name=signatory,
                    signatory_title=title,
                )
            firms[tax] = firm
        for person in DEMO_PEOPLE:
            if not await User.filter(username=person.username).exists():
                await User.create(
                    username=person.username,
                    full_name=person.full_name,
                    email=f"{person.username}@demo.example",
                    role=person.role,
                    firm_id=firms[person.firm_tax_number].id if person.firm_tax_number else None,
                    password_hash=password_hash,
                    # Demo accounts are ready to use; real accounts must change at first login.
                    must_change_password=False,
                    created_at=now,
                )
        for tac, brand, model, marketing, device_type, count in DEMO_TACS:
            if not await TacModel.filter(tac=tac).exists():
                await TacModel.create(
                    tac=tac,
                    brand=brand,
                    model_code=model,
                    marketing_name=marketing,
                    device_type=device_type,
                    imei_count=count,
                    created_at=now,
                    updated_at=now,
                )
        # Art. 15 fees: a base year's fee, then the yearly revaluation rates.
        for year, fee_kurus, rate in DEMO_FEES:
            if not await FeeYear.filter(year=year).exists():
                await FeeYear.create(
                    year=year,
                    fee_kurus=fee_kurus,
                    revaluation_rate=rate,
                    updated_by="demo",
                    updated_at=now,
                )
        for name, kind, code, token in DEMO_CLIENTS:
            client = await MachineClient.get_or_none(name=name)
            if client is None:
                client = await MachineClient.create(
                    name=name, kind=kind, operator_code=code, created_at=now
                )
            if not await AccessToken.filter(token_hash=hash_token(token)).exists():
                await AccessToken.create(
                    token_hash=hash_token(token),
                    client_id=client.id,
                    label="demo",
                    created_at=now,
                    expires_at=now.replace(year=now.year + 10),
                )
    lines = [f"  password for every demo person: {DEMO_PASSWORD}"]
    lines += [f"  {p.username:<18} {p.role.value}" for p in DEMO_PEOPLE]
    lines += [
        f"  {name:<18} {kind.value:<9} Authorization: Bearer {token}"
        for name, kind, _, token in DEMO_CLIENTS
    ]
    return lines
