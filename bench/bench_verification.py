"""How many e-Devlet declarations one worker verifies per minute against the authorities.

    python bench/bench_verification.py                          # 10,000 declarations, SQLite
    python bench/bench_verification.py --declarations 50000 --batch-size 500
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench python bench/bench_verification.py

The authority simulator runs as its own process on loopback (as a real authority would be
elsewhere), so the time measured is the gateway's: one worker dispatching the batches,
sending each over HTTP and applying every answer in its transaction (requests, registration
statuses, whitelist status changes and removals, feed rows, audit events).

The declarations are citizens' (border records and population registry asked), half of them
with a customs declaration number (customs asked too); 5 % are refused by the border records
(their IMEIs are removed with the reason). On PostgreSQL the named database is emptied and
migrated.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.imei import luhn_check_digit
from resolvers.settings import Settings, configure, normalise_database_url

API_KEY = "bench-authority-key"
TAC = "35693803"


def imei(serial: int) -> str:
    body = f"{TAC}{serial:06d}"
    return body + luhn_check_digit(body)


def national_id(serial: int) -> str:
    digits = [int(ch) for ch in f"1{serial:08d}"]
    tenth = (sum(digits[0:9:2]) * 7 - sum(digits[1:8:2])) % 10
    return "".join(map(str, digits)) + f"{tenth}{(sum(digits) + tenth) % 10}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_simulator(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "integrations.authorities.simulator",
            "--port",
            str(port),
            "--api-key",
            API_KEY,
        ],
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=0.5).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the authority simulator did not start")


async def submit(count: int) -> None:
    from models import clock
    from models.roles import Role
    from models.tac import TacModel
    from resolvers.actor import Actor
    from resolvers.individuals import submissions

    now = clock.now()
    await TacModel.create(
        tac=TAC, brand="APPLE", model_code="A2403", imei_count=2, created_at=now, updated_at=now
    )
    edevlet = Actor(kind="CLIENT", role=Role.E_DEVLET, id=1, name="e-Devlet (bench)")
    entry = (now - timedelta(days=10)).date()
    for n in range(count):
        name = "Ayşe SIM-NO-ENTRY Yılmaz" if n % 20 == 0 else "Ayşe Yılmaz"
        await submissions.submit_edevlet_declaration(
            edevlet,
            submissions.Submission(
                client_reference=f"EDV-BENCH-{n}",
                applicant=submissions.ApplicantData(
                    full_name=name,
                    birth_date=entry.replace(year=1990),
                    national_id_number=national_id(n),
                ),
                device=submissions.DeviceData(imeis=[imei(n)], brand="Apple", model="iPhone 12"),
                entry_date=entry,
                customs_declaration_no=f"26341300IM{n:06d}" if n % 2 else None,
                purchase_country="DE",
            ),
        )


async def run(count: int, database_url: str) -> None:
    from gateway.db import close_db, init_db, migrate
    from models.individuals import Registration, RegistrationStatus, VerificationRequest
    from resolvers import jobs
    from resolvers.individuals import verification
    from resolvers.job_kinds import load_handlers

    load_handlers()
    await migrate(database_url)
    await init_db(database_url)
    try:
        started = time.perf_counter()
        await submit(count)
        submitted = time.perf_counter() - started
        requests = await VerificationRequest.all().count()
        print(
            f"  submitted {count:,} declarations ({requests:,} authority requests) "
            f"in {submitted:.1f} s"
        )

        t0 = time.perf_counter()
        batches = await verification.dispatch()
        t1 = time.perf_counter()
        ran = await jobs.drain("bench-worker", max_jobs=len(batches) + 10)
        t2 = time.perf_counter()

        verified = await Registration.filter(status=RegistrationStatus.VERIFIED).count()
        rejected = await Registration.filter(status=RegistrationStatus.REJECTED).count()
        assert verified + rejected == count, (verified, rejected)
        assert ran == len(batches)
        elapsed = t2 - t0
        print(f"  dispatch: {len(batches)} batches in {t1 - t0:.2f} s")
        print(f"  sent and applied: {t2 - t1:.1f} s ({verified:,} verified, {rejected:,} rejected)")
        print(
            f"  one worker: {count / elapsed * 60:,.0f} declarations/min "
            f"({requests / elapsed * 60:,.0f} authority requests/min)"
        )
    finally:
        await close_db()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--declarations", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()
    port = free_port()
    simulator = start_simulator(port)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = normalise_database_url(
                os.environ.get("DATABASE_URL", "") or f"sqlite://{tmp}/bench.sqlite3"
            )
            if url.startswith("postgres://"):
                dbname = url.rsplit("/", 1)[1]
                subprocess.run(
                    [
                        "psql",
                        url.replace("postgres://", "postgresql://").rsplit("/", 1)[0] + "/postgres",
                        "-qc",
                        f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)",
                        "-qc",
                        f"CREATE DATABASE {dbname}",
                    ],
                    check=True,
                )
            print(f"backend: {url.split('://')[0]}, batch size {args.batch_size}")
            base_url = f"http://127.0.0.1:{port}"
            configure(
                Settings(
                    env="test",
                    secret_key="bench",
                    database_url=url,
                    storage_dir=Path(tmp) / "files",
                    authority_customs_url=base_url,
                    authority_customs_api_key=API_KEY,
                    authority_border_records_url=base_url,
                    authority_border_records_api_key=API_KEY,
                    authority_population_registry_url=base_url,
                    authority_population_registry_api_key=API_KEY,
                    authority_timeout_seconds=60,
                    verification_batch_size=args.batch_size,
                    individual_device_limit=0,
                )
            )
            asyncio.run(run(args.declarations, url))
    finally:
        simulator.terminate()
        simulator.wait()


if __name__ == "__main__":
    main()
