"""What the use cases count, for `GET /metrics` (Prometheus, through prometheus-client).

The collectors live here, below the gateway, so use cases record without knowing about HTTP;
the gateway renders them (gateway.metrics) and adds what is read from the database at scrape
time (`queue_snapshot`). Under `mcks serve --workers N` the supervisor sets
PROMETHEUS_MULTIPROC_DIR before the processes start, and prometheus-client keeps every value in
a per-process file that a scrape of any process adds up.

Label values are bounded: routes are the app's route templates, operations are names of the
schema's root fields (anything else is `other`), clients are the configured machine clients'
operator codes, verdicts and outcomes are enums.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from prometheus_client import Counter, Histogram

from models import clock
from models.jobs import Job, JobStatus
from models.notifications import Notification, NotificationStatus

OTHER = "other"

# Milliseconds matter on the operators' path; seconds for the slow mutations.
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
ANALYSIS_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0)

REQUESTS = Counter(
    "mcks_http_requests",
    "HTTP requests answered, by route template, GraphQL operation and status code",
    ("route", "operation", "status"),
)
LATENCY = Histogram(
    "mcks_http_request_duration_seconds",
    "Time from the request's arrival to the end of its answer",
    ("route", "operation"),
    buckets=LATENCY_BUCKETS,
)
IMEIS_CHECKED = Counter(
    "mcks_imeis_checked",
    "IMEIs answered by checkImeis, by verdict and client (operator code, or staff)",
    ("client", "verdict"),
)
ANALYSIS_SECONDS = Histogram(
    "mcks_analysis_duration_seconds",
    "Technical checks of one application (load, checks, write)",
    buckets=ANALYSIS_BUCKETS,
)
VERIFICATION_BATCHES = Counter(
    "mcks_verification_batches",
    "Calls of a verification batch to an authority, by authority and outcome",
    ("authority", "outcome"),
)
MAIL_ATTEMPTS = Counter(
    "mcks_mail_attempts", "Attempts to send an outbox e-mail, by outcome", ("outcome",)
)

# `labels()` takes a lock and hashes its arguments; the operators' path reuses the children.
_request_children: dict[tuple[str, str, int], tuple[object, object]] = {}
_check_children: dict[tuple[str, str], object] = {}


def request_observed(route: str, operation: str, status: int, seconds: float) -> None:
    key = (route, operation, status)
    children = _request_children.get(key)
    if children is None:
        children = (
            REQUESTS.labels(route, operation, str(status)),
            LATENCY.labels(route, operation),
        )
        _request_children[key] = children
    children[0].inc()  # type: ignore[attr-defined]
    children[1].observe(seconds)  # type: ignore[attr-defined]


def imeis_checked(client: str, verdicts: Sequence[StrEnum]) -> None:
    """`verdicts`: one per answered IMEI (a network attach asks for one: no tally then)."""
    tally = {verdicts[0]: 1} if len(verdicts) == 1 else Tally(verdicts)
    for verdict, count in tally.items():
        key = (client, verdict.value)
        child = _check_children.get(key)
        if child is None:
            child = _check_children[key] = IMEIS_CHECKED.labels(*key)
        child.inc(count)  # type: ignore[attr-defined]


def analysis_finished(seconds: float) -> None:
    ANALYSIS_SECONDS.observe(seconds)


def verification_batch(authority: str, outcome: str) -> None:
    """outcome: answered, retry, failed."""
    VERIFICATION_BATCHES.labels(authority, outcome).inc()


def mail_attempt(outcome: str) -> None:
    """outcome: sent, retry, failed."""
    MAIL_ATTEMPTS.labels(outcome).inc()


# --- read from the database at scrape time -------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    queued_jobs: int
    running_jobs: int
    dead_jobs: int
    # Seconds the longest-waiting due job has been waiting (0: none due).
    oldest_due_job_age_seconds: float
    mail_pending: int
    mail_failed: int
    oldest_pending_mail_age_seconds: float


def _age(since: datetime | None, now: datetime) -> float:
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0


async def queue_snapshot() -> QueueSnapshot:
    """A handful of indexed counts: cheap enough for a scrape every few seconds."""
    now = clock.now()
    oldest_job = (
        await Job.filter(status=JobStatus.QUEUED, run_after__lte=now)
        .order_by("run_after")
        .first()
        .values_list("run_after", flat=True)
    )
    oldest_mail = (
        await Notification.filter(status=NotificationStatus.PENDING)
        .order_by("created_at")
        .first()
        .values_list("created_at", flat=True)
    )
    return QueueSnapshot(
        queued_jobs=await Job.filter(status=JobStatus.QUEUED).count(),
        running_jobs=await Job.filter(status=JobStatus.RUNNING).count(),
        dead_jobs=await Job.filter(status=JobStatus.DEAD).count(),
        oldest_due_job_age_seconds=_age(oldest_job, now),  # type: ignore[arg-type]
        mail_pending=await Notification.filter(status=NotificationStatus.PENDING).count(),
        mail_failed=await Notification.filter(status=NotificationStatus.FAILED).count(),
        oldest_pending_mail_age_seconds=_age(oldest_mail, now),  # type: ignore[arg-type]
    )
