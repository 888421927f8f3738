"""Operations: /metrics (who may read it, what it counts), the access log in text and JSON,
request ids, and quiet e-signature checks without trust roots."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import signal
import subprocess
from dataclasses import replace
from pathlib import Path

import httpx
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from gateway.demo import load_demo
from gateway.logs import RequestIdFilter, formatter
from integrations.authorities.simulator import serve_simulator
from models import clock
from models.jobs import Job, JobStatus
from models.notifications import Notification, NotificationStatus
from resolvers.settings import configure, get_settings
from tests.support.api import gql, make_world
from tests.support.operators import CHECK, OPERATOR_TOKEN, imei, register_tac, whitelist
from tests.test_serve import (
    ROOT,
    free_port,
    healthy,
    serve_command,
    serve_env,
    server_processes,
    wait_for,
)

METRICS_TOKEN = "metrics-secret-0123456789"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    return sum(
        v for (n, ls), v in samples(text).items() if n == name and set(labels.items()) <= set(ls)
    )


async def scrape(client, token: str = METRICS_TOKEN) -> str:
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_metrics_are_off_unless_configured_and_guarded_by_token_and_address(
    make_client, settings
):
    client = make_client()
    assert (await client.get("/metrics")).status_code == 404

    configure(replace(settings, metrics_token=METRICS_TOKEN))
    assert (await client.get("/metrics")).status_code == 403
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    assert (
        await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    ).status_code == 200

    configure(replace(settings, metrics_allowed_ips=("10.1.0.0/16",)))
    assert (await make_client("192.0.2.7").get("/metrics")).status_code == 403
    assert (await make_client("10.1.2.3").get("/metrics")).status_code == 200

    # Both set: both needed.
    configure(replace(settings, metrics_token=METRICS_TOKEN, metrics_allowed_ips=("10.1.0.0/16",)))
    assert (await make_client("10.1.2.3").get("/metrics")).status_code == 403
    inside = make_client("10.1.2.3")
    ok = await inside.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert ok.status_code == 200
    outside = make_client("192.0.2.7")
    refused = await outside.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert refused.status_code == 403


async def test_metrics_count_requests_checks_and_read_the_queues(client, settings):
    configure(replace(settings, metrics_token=METRICS_TOKEN))
    await load_demo()
    await whitelist(imei(1))
    await register_tac()  # imei(2): unregistered, of a registry model (in grace)
    now = clock.now()
    await Job.create(kind="x", payload={}, run_after=now, created_at=now)
    await Job.create(kind="x", payload={}, status=JobStatus.DEAD, run_after=now, created_at=now)
    await Notification.create(
        recipient="a@example.com",
        subject="s",
        body="b",
        event="e",
        next_attempt_at=now,
        created_at=now,
    )
    await Notification.create(
        recipient="b@example.com",
        subject="s",
        body="b",
        event="e",
        status=NotificationStatus.FAILED,
        next_attempt_at=now,
        created_at=now,
    )
    before = await scrape(client)

    # The fast path (unnamed) and the general path (a named operation, an unknown name).
    body = await gql(client, CHECK, {"imeis": [imei(1), imei(2), "123"]}, token=OPERATOR_TOKEN)
    assert [a["verdict"] for a in body["data"]["checkImeis"]] == ["ALLOW", "ALLOW", "BLOCK"]
    named = "query CheckImeis($i: [String!]!) { checkImeis(imeis: $i) { imei ... on ImeiCheck { verdict } } }"
    await gql(client, named, {"i": [imei(1)]}, token=OPERATOR_TOKEN)
    await gql(client, "query MyOwnFancyName { __typename }", token=OPERATOR_TOKEN)
    after = await scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    route = {"route": "/graphql", "status": "200"}
    assert grew("mcks_http_requests_total", operation="checkImeis", **route) == 2
    assert grew("mcks_http_requests_total", operation="other", **route) == 1
    assert (
        grew("mcks_http_request_duration_seconds_count", route="/graphql", operation="checkImeis")
        == 2
    )
    assert grew("mcks_imeis_checked_total", client="DEMOGSM", verdict="ALLOW") == 3
    assert grew("mcks_imeis_checked_total", client="DEMOGSM", verdict="BLOCK") == 1
    # The scrape itself is counted under its route; raw paths never become labels.
    assert value(after, "mcks_http_requests_total", route="/metrics") >= 1
    assert value(after, "mcks_jobs", status="QUEUED") == 1
    assert value(after, "mcks_jobs", status="DEAD") == 1
    assert value(after, "mcks_jobs_oldest_due_age_seconds") >= 0
    assert value(after, "mcks_mail_outbox", status="PENDING") == 1
    assert value(after, "mcks_mail_outbox", status="FAILED") == 1
    await client.get("/no/such/path/12345")
    assert "/no/such/path" not in await scrape(client)


class Captured(logging.Handler):
    def __init__(self, fmt: str) -> None:
        super().__init__()
        self.addFilter(RequestIdFilter())
        self.setFormatter(formatter(fmt))
        self.stream = io.StringIO()

    def emit(self, record: logging.LogRecord) -> None:
        self.stream.write(self.format(record) + "\n")

    def lines(self) -> list[str]:
        return self.stream.getvalue().splitlines()


def capture(fmt: str) -> Captured:
    handler = Captured(fmt)
    logger = logging.getLogger("mcks.access")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return handler


def release(handler: Captured) -> None:
    logger = logging.getLogger("mcks.access")
    logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)


async def test_json_access_log_has_one_object_a_line_with_request_id_actor_operation(client):
    await load_demo()
    await whitelist(imei(1))
    handler = capture("json")
    try:
        await client.post(
            "/graphql",
            json={
                "query": "query Kontrol($i: [String!]!) { checkImeis(imeis: $i) { imei } }",
                "variables": {"i": [imei(1)]},
            },
            headers={"Authorization": f"Bearer {OPERATOR_TOKEN}", "X-Request-ID": "op-42.a_b"},
        )
        await client.get("/healthz")
    finally:
        release(handler)
    lines = handler.lines()
    assert len(lines) == 2
    check, health = (json.loads(line) for line in lines)
    assert check["level"] == "INFO" and check["logger"] == "mcks.access"
    assert check["time"].endswith("+00:00") or check["time"].endswith("Z")
    assert check["request_id"] == "op-42.a_b"
    assert check["actor"].startswith("client:")
    assert check["operation"] == "Kontrol"
    assert check["status"] == 200 and check["method"] == "POST" and check["path"] == "/graphql"
    assert isinstance(check["duration_ms"], float | int)
    assert health["actor"] == "anonymous" and health["operation"] is None
    assert len(health["request_id"]) == 32


async def test_text_access_log_is_one_readable_line(client):
    handler = capture("text")
    try:
        await gql(client, "query Hangi { __typename }")
    finally:
        release(handler)
    (line,) = handler.lines()
    assert "mcks.access" in line and '"POST /graphql" Hangi 200' in line and "anonymous" in line


async def test_a_request_id_is_kept_only_when_well_formed(client):
    good = "a1B2-c3.d4_e5"
    for sent, kept in (
        (good, True),
        ("x" * 64, True),
        ("x" * 65, False),
        ("has space", False),
        ("semi;colon", False),
        ("kötü", False),
        ("", False),
    ):
        response = await client.get("/healthz", headers={"X-Request-ID": sent.encode()})
        answered = response.headers["x-request-id"]
        if kept:
            assert answered == sent
        else:
            assert answered != sent and len(answered) == 32 and answered.isalnum()


async def test_an_embedded_simulator_leaves_the_gateways_loggers_alone(client):
    error_logger = logging.getLogger("uvicorn.error")
    before = (error_logger.level, list(error_logger.handlers), error_logger.propagate)
    error_logger.setLevel(logging.INFO)
    handler = capture("text")
    try:
        async with serve_simulator(port=0):
            await client.get("/healthz")
        assert error_logger.level == logging.INFO
        assert logging.getLogger("mcks.access").isEnabledFor(logging.INFO)
    finally:
        release(handler)
        error_logger.setLevel(before[0])
    assert any('"GET /healthz" 200' in line for line in handler.lines())


# --- two server processes ----------------------------------------------------------------


async def test_a_scrape_under_two_worker_processes_adds_up_both(db):
    await load_demo()
    await whitelist(imei(1))
    await asyncio.to_thread(two_workers_scenario, db, get_settings().secret_key)


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def _checked_per_process(directory: Path) -> dict[int, float]:
    """IMEIs checked, read from each process's own file."""
    counts = {}
    for path in directory.glob("counter_*.db"):
        pid = int(path.stem.split("_")[1])
        merged = MultiProcessCollector.merge([str(path)], accumulate=True)
        counts[pid] = sum(
            s.value
            for family in merged
            if family.name == "mcks_imeis_checked"
            for s in family.samples
            if s.name == "mcks_imeis_checked_total"
        )
    return counts


def two_workers_scenario(database_url: str, secret_key: str) -> None:
    port = free_port()
    env = {**serve_env(database_url, secret_key), "MCKS_METRICS_TOKEN": METRICS_TOKEN}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    supervisor = subprocess.Popen(serve_command(port), cwd=ROOT, env=env)
    try:
        wait_for(lambda: len(server_processes(supervisor.pid)) == 2 and healthy(port))
        pids = server_processes(supervisor.pid)
        directories = {_environ(pid).get("PROMETHEUS_MULTIPROC_DIR") for pid in pids}
        assert len(directories) == 1 and None not in directories
        directory = Path(directories.pop())  # type: ignore[arg-type]

        sent = 0

        def check_once() -> dict[int, float] | None:
            nonlocal sent
            # A new connection each time: the kernel spreads connections, not requests.
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
                answer = http.post(
                    "/graphql",
                    json={"query": CHECK, "variables": {"imeis": [imei(1)]}},
                    headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
                )
            assert answer.json()["data"]["checkImeis"][0]["verdict"] == "ALLOW"
            sent += 1
            per_process = _checked_per_process(directory)
            both = [pid for pid in pids if per_process.get(pid, 0) > 0]
            return per_process if len(both) == 2 else None

        per_process = wait_for(check_once, 60)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            text = http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
        # Whichever process answered, the scrape holds both processes' counts.
        assert value(text, "mcks_imeis_checked_total", client="DEMOGSM") == sent
        assert sum(per_process.values()) == sent
        assert (
            value(text, "mcks_http_requests_total", route="/graphql", operation="checkImeis")
            == sent
        )
        assert value(text, "mcks_jobs", status="QUEUED") >= 0

        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=40) == 0
        assert not directory.exists()  # the supervisor's directory goes with it
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()


async def test_the_development_server_logs_requests_with_the_demo_simulator_running(db):
    """What `make run` does: development mode serves the authorities' simulator inside the
    gateway's process; the gateway's startup and access lines still show, in JSON here."""
    await asyncio.to_thread(development_scenario, db)


def development_scenario(database_url: str) -> None:
    port = free_port()
    env = {
        **serve_env(database_url, log_level="INFO"),
        "MCKS_ENV": "development",
        "MCKS_LOG_FORMAT": "json",
        # As `make run`: the worker, and so the simulated authorities, in this process.
        "MCKS_IN_PROCESS_WORKER": "1",
    }
    command = [*serve_command(port)[:-2], "--workers", "1"]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL
    )
    try:
        wait_for(lambda: healthy(port))
        httpx.get(f"http://127.0.0.1:{port}/readyz", headers={"X-Request-ID": "run-1"}, timeout=5)
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=40)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    records = [json.loads(line) for line in err.decode().splitlines() if line.startswith("{")]
    assert records and len(records) == len(err.decode().splitlines())  # every line is JSON
    messages = [r["message"] for r in records]
    assert any("demo: verification authorities simulated" in m for m in messages)
    assert any("Application startup complete" in m for m in messages)
    (ready,) = [r for r in records if r.get("path") == "/readyz"]
    assert ready["logger"] == "mcks.access" and ready["request_id"] == "run-1"
    assert ready["status"] == 200


async def test_an_e_signature_without_trust_roots_logs_one_line_not_a_traceback(
    db, settings, caplog
):
    from reportlab.pdfgen import canvas

    from resolvers.workflow.signatures import verify_signed_pdf
    from tests.support.signing import TestCa

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(100, 100, "Başvuru")
    page.save()
    issued = buffer.getvalue()
    firm = (await make_world()).firm_a
    ca = TestCa.create()
    await ca.register_for(firm.id)
    signed = await ca.sign(issued)
    configure(replace(settings, signature_trust_roots=None))
    with caplog.at_level(logging.DEBUG):
        check = await verify_signed_pdf(
            signed, issued, "başvuru dokümanı", "application document", firm_id=firm.id
        )
    assert check.trusted is None
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.name for r in warnings] == ["mcks.signatures"]
    assert "trust not verified" in warnings[0].getMessage()
    assert not any(r.exc_info for r in caplog.records)


def test_operation_labels_are_bounded_by_the_schemas_root_fields():
    from schema.observability import OTHER, operation_label

    known = frozenset({"checkImeis", "jobs", "createApplication"})
    assert operation_label("CheckImeis", ("checkImeis",), known) == "checkImeis"
    assert (
        operation_label("createApplication", ("createApplication",), known) == "createApplication"
    )
    assert operation_label(None, ("jobs",), known) == "jobs"
    assert operation_label(None, ("jobs", "checkImeis"), known) == OTHER
    assert operation_label("Kontrol", ("checkImeis",), known) == OTHER
    assert operation_label("x" * 10_000, (), known) == OTHER


def test_the_supervisor_makes_and_removes_the_metrics_directory(monkeypatch):
    from gateway.serve import MULTIPROC_ENV, metrics_directory

    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    with metrics_directory():
        made = Path(os.environ[MULTIPROC_ENV])
        assert made.is_dir()
    assert MULTIPROC_ENV not in os.environ and not made.exists()
    monkeypatch.setenv(MULTIPROC_ENV, "/chosen/by/operator")
    with metrics_directory():
        assert os.environ[MULTIPROC_ENV] == "/chosen/by/operator"


async def test_a_request_id_with_a_trailing_newline_is_replaced(app):
    """Below the HTTP parser (which refuses such a header): the middleware's own check."""
    sent: list[dict] = []

    async def receive():  # type: ignore[no-untyped-def]
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):  # type: ignore[no-untyped-def]
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/healthz",
        "raw_path": b"/healthz",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"x-request-id", b"forged\n")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    headers = dict(sent[0]["headers"])
    assert headers[b"x-request-id"] != b"forged\n" and len(headers[b"x-request-id"]) == 32
