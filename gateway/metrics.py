"""`GET /metrics`: Prometheus text for the operations team.

Off unless configured (404): a scraper shows a token (`MCKS_METRICS_TOKEN`, sent as
`Authorization: Bearer …`) and/or comes from an allowed address (`MCKS_METRICS_ALLOWED_IPS`);
when both are set both are required, and a caller that fails either gets 403. Under
`mcks serve --workers N` every process writes its counters to PROMETHEUS_MULTIPROC_DIR (set
by gateway.serve) and whichever process answers the scrape adds all of them up. The queue
gauges are read from the database on each scrape, so they are the same whichever answers.
"""

from __future__ import annotations

import hmac
import os

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from models.ip_rules import ip_allowed
from resolvers import metrics as recorded
from resolvers.settings import get_settings

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class _Snapshot(Collector):
    """The database gauges of one scrape, already read (collectors are synchronous)."""

    def __init__(self, snapshot: recorded.QueueSnapshot) -> None:
        self.snapshot = snapshot

    def collect(self):  # type: ignore[no-untyped-def]
        s = self.snapshot
        jobs = GaugeMetricFamily("mcks_jobs", "Background jobs by status", labels=("status",))
        jobs.add_metric(("QUEUED",), s.queued_jobs)
        jobs.add_metric(("RUNNING",), s.running_jobs)
        jobs.add_metric(("DEAD",), s.dead_jobs)
        yield jobs
        yield GaugeMetricFamily(
            "mcks_jobs_oldest_due_age_seconds",
            "How long the longest-waiting due job has waited (0: none due)",
            value=s.oldest_due_job_age_seconds,
        )
        mail = GaugeMetricFamily("mcks_mail_outbox", "Outbox e-mails by status", labels=("status",))
        mail.add_metric(("PENDING",), s.mail_pending)
        mail.add_metric(("FAILED",), s.mail_failed)
        yield mail
        yield GaugeMetricFamily(
            "mcks_mail_outbox_oldest_pending_age_seconds",
            "How long the oldest unsent e-mail has waited (0: none)",
            value=s.oldest_pending_mail_age_seconds,
        )


def _refusal(request: Request) -> Response | None:
    settings = get_settings()
    if not settings.metrics_token and not settings.metrics_allowed_ips:
        return PlainTextResponse("Not Found", status_code=404)
    if settings.metrics_allowed_ips:
        ip = request.scope.get("state", {}).get("client_ip", "")
        if not ip_allowed(ip, settings.metrics_allowed_ips):
            return PlainTextResponse("Forbidden", status_code=403)
    if settings.metrics_token:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(), settings.metrics_token.encode()
        ):
            return PlainTextResponse("Forbidden", status_code=403)
    return None


async def metrics_endpoint(request: Request) -> Response:
    refused = _refusal(request)
    if refused is not None:
        return refused
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        counted = generate_latest(registry)
    else:
        counted = generate_latest(REGISTRY)
    gauges = CollectorRegistry()
    gauges.register(_Snapshot(await recorded.queue_snapshot()))
    return Response(counted + generate_latest(gauges), media_type=CONTENT_TYPE_LATEST)
