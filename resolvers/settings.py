"""One typed settings object, read from the environment once.

Every knob has a safe default; `MCKS_ENV=development` (what `make run` sets) relaxes only
what a developer needs on a laptop (introspection for everyone, a fixed dev secret).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from models.ip_rules import normalise_allowlist

T = TypeVar("T")

DEV_SECRET = "dev-only-secret-do-not-use-in-production"


def _parsed(name: str, default: T, parse: Callable[[str], T], what: str) -> T:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return parse(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be {what}, got {raw!r}") from exc


def _int(name: str, default: int) -> int:
    return _parsed(name, default, int, "a whole number")


def _float(name: str, default: float) -> float:
    return _parsed(name, default, float, "a number")


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() not in ("0", "false", "no", "off")


def _list(name: str) -> tuple[str, ...]:
    raw = os.environ.get(name, "")
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _days_list(
    name: str, default: tuple[int, ...], *, none_allowed: bool = False
) -> tuple[int, ...]:
    """Comma-separated days (e.g. `30,7`), each once, longest first, from 1 to 366;
    `none_allowed`: `0` or `none` means none at all."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    if none_allowed and raw.strip().lower() in ("0", "none"):
        return ()
    try:
        days = sorted({int(part) for part in raw.split(",") if part.strip()}, reverse=True)
    except ValueError as exc:
        raise SettingsError(f"{name} must be whole days separated by commas, got {raw!r}") from exc
    if not days or any(day < 1 or day > 366 for day in days):
        raise SettingsError(f"{name} must be days from 1 to 366, got {raw!r}")
    return tuple(days)


def _entries(name: str) -> tuple[str, ...]:
    """Entries separated by semicolons (an entry such as "Bank: IBAN" may hold commas)."""
    raw = os.environ.get(name, "")
    return tuple(part.strip() for part in raw.split(";") if part.strip())


class SettingsError(RuntimeError):
    """The environment asks for something the gateway cannot run with."""


def normalise_database_url(url: str) -> str:
    """Tortoise spells PostgreSQL `postgres://`; accept the usual `postgresql://` too."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "asyncpg://"):
        if url.startswith(prefix):
            return "postgres://" + url[len(prefix) :]
    return url


@dataclass(frozen=True)
class Settings:
    env: str = "production"
    database_url: str = "sqlite://var/mcks.sqlite3"
    storage_dir: Path = Path("var/files")
    secret_key: str = ""
    # Lifetimes of bearer tokens: people log in for a working day, machine clients for long.
    token_ttl_minutes: int = 480
    client_token_ttl_days: int = 365
    # A file's download link (a URL a browser tab opens without a header) lives this long.
    download_link_minutes: int = 10
    # Failed logins are throttled, never hard-locked (resolvers/accounts/throttle.py): each
    # counter allows a few failures, then every further one makes the next attempt wait a
    # delay that doubles from the base up to a cap. Per account and address (what one
    # guesser gets), per address (spraying many accounts), and per account over all
    # addresses with a much lower cap, so strangers can slow the owner only briefly.
    login_failures_before_delay: int = 3
    login_address_failures_before_delay: int = 20
    login_account_failures_before_delay: int = 10
    login_delay_base_seconds: int = 2
    login_max_delay_seconds: int = 900
    login_account_max_delay_seconds: int = 60
    # A counter counts the failures of this long a period, then starts afresh (an hourly job
    # deletes the finished ones), so a busy office's occasional typos do not add up.
    login_failure_memory_hours: int = 24
    # Addresses an account logged in from within this many days skip the account-wide delay.
    login_known_address_days: int = 30
    # New passwords: zxcvbn score at least this (0-4), and unlike the last few passwords.
    password_min_score: int = 3
    password_history: int = 5
    trusted_proxies: tuple[str, ...] = ()
    # argon2id cost; RFC 9106's second recommended profile by default.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4
    # Hashes computed at once per process (each takes argon2_memory_kib and a core).
    argon2_max_concurrency: int = 2
    # PostgreSQL connections per process. Operator checks run as many queries at once as
    # there are requests in flight: a pool smaller than that queues them, and a query
    # queued behind a descheduled one waits for it (the closed-loop p99 fell from ~35 ms to
    # ~20 ms going from 5 to 25). Mind max_connections: processes × max, plus the worker.
    db_pool_min: int = 2
    db_pool_max: int = 25
    max_query_depth: int = 12
    max_aliases: int = 30
    max_query_tokens: int = 3000
    # Bodies are capped by who sends them, known from the Authorization header before a
    # byte of the body is read: a stranger may send a small query, a caller a bounded JSON
    # request (10,000 IMEIs are ~200 KB, 10,000 observations ~1.2 MB; a parse holds the
    # event loop ~15 ms per MB), and only an authenticated multipart request (the uploads) up
    # to max_request_bytes.
    max_request_bytes: int = 640 * 1024 * 1024
    anonymous_max_body_bytes: int = 64 * 1024
    max_json_body_bytes: int = 2 * 1024 * 1024
    # WebSocket sessions (graphql-transport-ws): connection_init must come this soon; an open
    # session re-checks its token this often (ends sessions logged out in another process;
    # this process's own logouts end them at once); frames and operations are bounded.
    ws_init_timeout_seconds: int = 10
    ws_recheck_seconds: int = 30
    ws_max_message_bytes: int = 64 * 1024
    ws_max_operations: int = 20
    # Subscriptions (the push channel): sockets one client (user or machine client) may hold
    # open in one process; a socket with no subscription running this long is closed; each
    # subscription queues at most this many undelivered pages (of up to `first` items) while
    # it follows live changes, and a consumer further behind is closed (4413) to resume from
    # its last cursor. 0 = no limit.
    ws_max_connections_per_client: int = 10
    ws_idle_timeout_seconds: int = 300
    subscription_queue_pages: int = 64
    # The event log behind the subscriptions keeps this many days (0 = kept for ever).
    event_retention_days: int = 90
    graphql_ide: bool = True
    # Run the job worker inside the server process (the embedded default's single worker).
    in_process_worker: bool = True
    worker_poll_seconds: float = 1.0
    # A running job's lease is renewed by its worker's heartbeat (every third of it); a
    # worker that dies loses its jobs to another worker about this long after.
    job_lease_seconds: int = 60
    # Readiness: /readyz fails when the database does not answer through the pool within
    # this deadline; `mcks serve` replaces a process unready this long (0 = never).
    ready_timeout_seconds: float = 2.0
    unready_restart_seconds: float = 30.0
    # TAC import: a full import may retire at most this share of the active registry
    # unless forced (a truncated file must not wipe the registry).
    tac_max_retire_share: float = 0.10
    # A CSV list is read as a stream: 10,000,000 devices (about 400 MB) in one upload. An
    # xlsx is held to its unpacked size below (and Excel's 1,048,576 rows).
    max_device_file_bytes: int = 512 * 1024 * 1024
    max_device_rows: int = 10_000_000
    # An xlsx is a zip: its parts' declared unpacked size is capped before parsing (a
    # million-row sheet is ~210 MB of XML; the reader needs about twice that in memory).
    max_device_file_unpacked_bytes: int = 400 * 1024 * 1024
    # Operators: an unregistered IMEI is allowed this long after its first attach (an
    # operator's check with the subscriber's msisdn, or an observation; the visitors' rule;
    # 0 = no grace period). Operators warn their subscribers these many days before the end
    # (`graceEndingSoon`); a first attach is deleted this many days after its grace ended
    # (personal data; 0 = kept), after which a new attach starts a new clock.
    grace_period_days: int = 120
    grace_warning_days: tuple[int, ...] = (15, 1)
    first_attach_retention_days: int = 365
    # Operators' quota: IMEIs a machine client may check per minute (`checkImeis`, every
    # alias counted), counted across processes in the database; staff set it per client
    # (`setClientCheckQuota`), this is the default (0 = unlimited). Per-minute usage rows are
    # kept this many days for the staff's daily figures.
    check_quota_per_minute: int = 600_000
    check_usage_retention_days: int = 400
    # Clone detection: several IMSIs for one IMEI inside this window make a suspect; the
    # detector runs once per scan interval.
    clone_window_hours: int = 24
    clone_scan_minutes: int = 15
    # Network observations carry IMSI and MSISDN (personal data): deleted this many days
    # after they were seen (0 = kept). At least the clone window, which reads them.
    observation_retention_days: int = 90
    # Stored files no row uses, and file rows nothing refers to, are deleted by a daily
    # sweep once untouched this long (0 = never swept); uploads in flight are never older.
    file_sweep_grace_hours: int = 24
    # The public IMEI query: requests per minute per client address (in each process).
    public_query_rate_per_minute: int = 30
    # How long a bearer token's actor may be served from the process's memory (0 = never):
    # a revocation made by another process takes effect within this many seconds.
    token_cache_seconds: int = 0
    # Verification authorities (Tebliğ art. 5(3)(b)), HTTP/JSON each; an authority without a
    # URL is not asked (its requests wait, and the dispatcher logs that it is unconfigured).
    authority_customs_url: str = ""
    authority_customs_api_key: str = ""
    authority_border_records_url: str = ""
    authority_border_records_api_key: str = ""
    authority_population_registry_url: str = ""
    authority_population_registry_api_key: str = ""
    authority_timeout_seconds: float = 10.0
    # The payment provider (virtual POS, guide §4): unset URL = online payment is off. The
    # callback secret signs its callbacks (HMAC); the callback URL is this gateway's
    # `/payments/callback` as the provider reaches it.
    payment_provider_url: str = ""
    payment_provider_api_key: str = ""
    payment_callback_secret: str = ""
    payment_callback_url: str = ""
    payment_provider_timeout_seconds: float = 10.0
    # Declarations are sent to each authority every interval, at most this many per request
    # (capped at the protocol's 500); a batch is given up after this many failed attempts.
    verification_interval_minutes: int = 60
    verification_batch_size: int = 500
    verification_max_attempts: int = 8
    # A declaration whose batch was given up goes into the next periodic batch, up to this
    # many batches in all; then it waits in its last batch for staff (`retryJob`).
    verification_max_batches: int = 5
    # A declaration still unverified this many days after submission is blocked on the
    # networks (`VERIFICATION_OVERDUE`) until the authorities answer (0 = no deadline).
    verification_deadline_days: int = 30
    # Individual registrations: one person may register this many devices per period (the
    # rule for phones brought from abroad: one every three years), within so many days of
    # entering the country (0 = no limit).
    individual_device_limit: int = 1
    individual_limit_period_days: int = 1095
    individual_max_days_after_entry: int = 120
    # Firm workflow: customs documents are due this many months after the payment (guide §6).
    customs_documents_months: int = 6
    # The firm is reminded this many days before that deadline (each once), and told on
    # the day it passes (guide §6).
    customs_reminder_days: tuple[int, ...] = (30, 7)
    # Uploaded PDFs and scans other than device lists (signed documents, customs papers).
    max_document_bytes: int = 20 * 1024 * 1024
    # E-signatures must chain to a CA certificate in this directory (PEM or DER files);
    # unset: only integrity is checked and the audit trail says "trust not verified".
    # Production refuses to start without it unless `signature_integrity_only` says so.
    signature_trust_roots: Path | None = None
    # The Kurum's own signing key (PKCS#12: key, certificate and its chain) with which it
    # signs what it issues (fee notices, permits, letters; guide §5 "elektronik imzalı").
    # Required in production; development and tests make a local CA under var/signing/.
    signing_key_file: Path | None = None
    signing_key_passphrase: str = ""
    # Who signs, as printed under the documents; empty: the certificate's name and title.
    signatory_name: str = ""
    signatory_title: str = ""
    # Where the public verifies a document's code (printed on every signed document).
    public_url: str = "http://127.0.0.1:8000"
    # The Kurum's bank accounts printed on fee notices ("Bank: IBAN"; MCKS_BANK_ACCOUNTS,
    # separated by semicolons). The defaults are demo accounts, not real ones.
    bank_accounts: tuple[str, ...] = (
        "Kooperatif Merkez Bankası: TR33 0006 1005 1978 6457 8413 26",
        "Limasol Türk Kooperatif Bankası: TR04 0020 5000 0093 1234 5600 01",
    )
    # A fee notice is to be paid within this many days of its date.
    fee_payment_days: int = 30
    signature_integrity_only: bool = False
    # Mail to firms. Without an SMTP host, development and tests keep mail in memory; in
    # production the notifications wait in the outbox until a server is configured.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    smtp_timeout_seconds: float = 15.0
    mail_from: str = "MCKS <mcks-noreply@localhost>"
    host: str = "127.0.0.1"
    port: int = 8000
    # Server processes behind the port (`mcks serve`): one per core for operator traffic.
    workers: int = 1
    access_log: bool = True
    log_level: str = "INFO"
    # `text` (one readable line) or `json` (one JSON object a line, for log collectors).
    log_format: str = "text"
    # GET /metrics: off unless a token or an address list is set; when both are set, a
    # scraper needs both (the token in `Authorization: Bearer …`).
    metrics_token: str = ""
    metrics_allowed_ips: tuple[str, ...] = ()
    # The regulator's clock: times in messages and documents are shown in this zone.
    time_zone: str = "Europe/Istanbul"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def development(self) -> bool:
        return self.env == "development"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite://")

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ.get("MCKS_ENV", "production").strip().lower()
        if env not in ("production", "development", "test"):
            raise SettingsError(f"MCKS_ENV must be production, development or test, got {env!r}")
        secret = os.environ.get("MCKS_SECRET_KEY", "")
        if not secret:
            if env == "production":
                raise SettingsError(
                    "MCKS_SECRET_KEY is required in production (it keys the token hashes)"
                )
            secret = DEV_SECRET
        settings = cls(
            env=env,
            database_url=normalise_database_url(
                os.environ.get("DATABASE_URL", "") or cls.database_url
            ),
            storage_dir=Path(os.environ.get("MCKS_STORAGE_DIR", "") or cls.storage_dir),
            secret_key=secret,
            token_ttl_minutes=_int("MCKS_TOKEN_TTL_MINUTES", cls.token_ttl_minutes),
            client_token_ttl_days=_int("MCKS_CLIENT_TOKEN_TTL_DAYS", cls.client_token_ttl_days),
            download_link_minutes=_int("MCKS_DOWNLOAD_LINK_MINUTES", cls.download_link_minutes),
            login_failures_before_delay=_int(
                "MCKS_LOGIN_FAILURES_BEFORE_DELAY", cls.login_failures_before_delay
            ),
            login_address_failures_before_delay=_int(
                "MCKS_LOGIN_ADDRESS_FAILURES_BEFORE_DELAY", cls.login_address_failures_before_delay
            ),
            login_account_failures_before_delay=_int(
                "MCKS_LOGIN_ACCOUNT_FAILURES_BEFORE_DELAY", cls.login_account_failures_before_delay
            ),
            login_delay_base_seconds=max(
                1, _int("MCKS_LOGIN_DELAY_BASE_SECONDS", cls.login_delay_base_seconds)
            ),
            login_max_delay_seconds=_int(
                "MCKS_LOGIN_MAX_DELAY_SECONDS", cls.login_max_delay_seconds
            ),
            login_account_max_delay_seconds=_int(
                "MCKS_LOGIN_ACCOUNT_MAX_DELAY_SECONDS", cls.login_account_max_delay_seconds
            ),
            login_failure_memory_hours=max(
                1, _int("MCKS_LOGIN_FAILURE_MEMORY_HOURS", cls.login_failure_memory_hours)
            ),
            login_known_address_days=_int(
                "MCKS_LOGIN_KNOWN_ADDRESS_DAYS", cls.login_known_address_days
            ),
            password_min_score=_int("MCKS_PASSWORD_MIN_SCORE", cls.password_min_score),
            password_history=max(0, _int("MCKS_PASSWORD_HISTORY", cls.password_history)),
            trusted_proxies=_list("MCKS_TRUSTED_PROXIES"),
            argon2_time_cost=_int("MCKS_ARGON2_TIME_COST", cls.argon2_time_cost),
            argon2_memory_kib=_int("MCKS_ARGON2_MEMORY_KIB", cls.argon2_memory_kib),
            argon2_parallelism=_int("MCKS_ARGON2_PARALLELISM", cls.argon2_parallelism),
            argon2_max_concurrency=max(
                1, _int("MCKS_ARGON2_MAX_CONCURRENCY", cls.argon2_max_concurrency)
            ),
            db_pool_min=max(1, _int("MCKS_DB_POOL_MIN", cls.db_pool_min)),
            db_pool_max=max(1, _int("MCKS_DB_POOL_MAX", cls.db_pool_max)),
            max_query_depth=_int("MCKS_MAX_QUERY_DEPTH", cls.max_query_depth),
            max_aliases=_int("MCKS_MAX_ALIASES", cls.max_aliases),
            max_query_tokens=_int("MCKS_MAX_QUERY_TOKENS", cls.max_query_tokens),
            max_request_bytes=_int("MCKS_MAX_REQUEST_BYTES", cls.max_request_bytes),
            anonymous_max_body_bytes=_int(
                "MCKS_ANONYMOUS_MAX_BODY_BYTES", cls.anonymous_max_body_bytes
            ),
            max_json_body_bytes=_int("MCKS_MAX_JSON_BODY_BYTES", cls.max_json_body_bytes),
            ws_init_timeout_seconds=_int(
                "MCKS_WS_INIT_TIMEOUT_SECONDS", cls.ws_init_timeout_seconds
            ),
            ws_recheck_seconds=_int("MCKS_WS_RECHECK_SECONDS", cls.ws_recheck_seconds),
            ws_max_message_bytes=_int("MCKS_WS_MAX_MESSAGE_BYTES", cls.ws_max_message_bytes),
            ws_max_operations=_int("MCKS_WS_MAX_OPERATIONS", cls.ws_max_operations),
            ws_max_connections_per_client=_int(
                "MCKS_WS_MAX_CONNECTIONS_PER_CLIENT", cls.ws_max_connections_per_client
            ),
            ws_idle_timeout_seconds=_int(
                "MCKS_WS_IDLE_TIMEOUT_SECONDS", cls.ws_idle_timeout_seconds
            ),
            subscription_queue_pages=_int(
                "MCKS_SUBSCRIPTION_QUEUE_PAGES", cls.subscription_queue_pages
            ),
            event_retention_days=_int("MCKS_EVENT_RETENTION_DAYS", cls.event_retention_days),
            graphql_ide=_bool("MCKS_GRAPHQL_IDE", True),
            in_process_worker=_bool("MCKS_IN_PROCESS_WORKER", True),
            worker_poll_seconds=_float("MCKS_WORKER_POLL_SECONDS", cls.worker_poll_seconds),
            job_lease_seconds=max(3, _int("MCKS_JOB_LEASE_SECONDS", cls.job_lease_seconds)),
            ready_timeout_seconds=_float("MCKS_READY_TIMEOUT_SECONDS", cls.ready_timeout_seconds),
            unready_restart_seconds=_float(
                "MCKS_UNREADY_RESTART_SECONDS", cls.unready_restart_seconds
            ),
            tac_max_retire_share=_float("MCKS_TAC_MAX_RETIRE_SHARE", cls.tac_max_retire_share),
            max_device_file_bytes=_int("MCKS_MAX_DEVICE_FILE_BYTES", cls.max_device_file_bytes),
            max_device_rows=_int("MCKS_MAX_DEVICE_ROWS", cls.max_device_rows),
            max_device_file_unpacked_bytes=_int(
                "MCKS_MAX_DEVICE_FILE_UNPACKED_BYTES", cls.max_device_file_unpacked_bytes
            ),
            grace_period_days=_int("MCKS_GRACE_PERIOD_DAYS", cls.grace_period_days),
            grace_warning_days=_days_list("MCKS_GRACE_WARNING_DAYS", cls.grace_warning_days),
            first_attach_retention_days=_int(
                "MCKS_FIRST_ATTACH_RETENTION_DAYS", cls.first_attach_retention_days
            ),
            check_quota_per_minute=max(
                0, _int("MCKS_CHECK_QUOTA_PER_MINUTE", cls.check_quota_per_minute)
            ),
            check_usage_retention_days=_int(
                "MCKS_CHECK_USAGE_RETENTION_DAYS", cls.check_usage_retention_days
            ),
            clone_window_hours=_int("MCKS_CLONE_WINDOW_HOURS", cls.clone_window_hours),
            clone_scan_minutes=_int("MCKS_CLONE_SCAN_MINUTES", cls.clone_scan_minutes),
            observation_retention_days=_int(
                "MCKS_OBSERVATION_RETENTION_DAYS", cls.observation_retention_days
            ),
            file_sweep_grace_hours=_int("MCKS_FILE_SWEEP_GRACE_HOURS", cls.file_sweep_grace_hours),
            public_query_rate_per_minute=_int(
                "MCKS_PUBLIC_QUERY_RATE_PER_MINUTE", cls.public_query_rate_per_minute
            ),
            token_cache_seconds=_int("MCKS_TOKEN_CACHE_SECONDS", cls.token_cache_seconds),
            authority_customs_url=os.environ.get("MCKS_AUTHORITY_CUSTOMS_URL", "").strip(),
            authority_customs_api_key=os.environ.get("MCKS_AUTHORITY_CUSTOMS_API_KEY", ""),
            authority_border_records_url=os.environ.get(
                "MCKS_AUTHORITY_BORDER_RECORDS_URL", ""
            ).strip(),
            authority_border_records_api_key=os.environ.get(
                "MCKS_AUTHORITY_BORDER_RECORDS_API_KEY", ""
            ),
            authority_population_registry_url=os.environ.get(
                "MCKS_AUTHORITY_POPULATION_REGISTRY_URL", ""
            ).strip(),
            authority_population_registry_api_key=os.environ.get(
                "MCKS_AUTHORITY_POPULATION_REGISTRY_API_KEY", ""
            ),
            authority_timeout_seconds=_float(
                "MCKS_AUTHORITY_TIMEOUT_SECONDS", cls.authority_timeout_seconds
            ),
            payment_provider_url=os.environ.get("MCKS_PAYMENT_PROVIDER_URL", "").strip(),
            payment_provider_api_key=os.environ.get("MCKS_PAYMENT_PROVIDER_API_KEY", ""),
            payment_callback_secret=os.environ.get("MCKS_PAYMENT_CALLBACK_SECRET", ""),
            payment_callback_url=os.environ.get("MCKS_PAYMENT_CALLBACK_URL", "").strip(),
            payment_provider_timeout_seconds=_float(
                "MCKS_PAYMENT_PROVIDER_TIMEOUT_SECONDS", cls.payment_provider_timeout_seconds
            ),
            verification_interval_minutes=_int(
                "MCKS_VERIFICATION_INTERVAL_MINUTES", cls.verification_interval_minutes
            ),
            verification_batch_size=_int(
                "MCKS_VERIFICATION_BATCH_SIZE", cls.verification_batch_size
            ),
            verification_max_attempts=_int(
                "MCKS_VERIFICATION_MAX_ATTEMPTS", cls.verification_max_attempts
            ),
            verification_max_batches=max(
                1, _int("MCKS_VERIFICATION_MAX_BATCHES", cls.verification_max_batches)
            ),
            verification_deadline_days=_int(
                "MCKS_VERIFICATION_DEADLINE_DAYS", cls.verification_deadline_days
            ),
            individual_device_limit=_int(
                "MCKS_INDIVIDUAL_DEVICE_LIMIT", cls.individual_device_limit
            ),
            individual_limit_period_days=_int(
                "MCKS_INDIVIDUAL_LIMIT_PERIOD_DAYS", cls.individual_limit_period_days
            ),
            individual_max_days_after_entry=_int(
                "MCKS_INDIVIDUAL_MAX_DAYS_AFTER_ENTRY", cls.individual_max_days_after_entry
            ),
            customs_documents_months=_int(
                "MCKS_CUSTOMS_DOCUMENTS_MONTHS", cls.customs_documents_months
            ),
            customs_reminder_days=_days_list(
                # 0 / none: no reminder before the deadline (the notice on the day is sent).
                "MCKS_CUSTOMS_REMINDER_DAYS",
                cls.customs_reminder_days,
                none_allowed=True,
            ),
            max_document_bytes=_int("MCKS_MAX_DOCUMENT_BYTES", cls.max_document_bytes),
            signature_trust_roots=(
                Path(os.environ["MCKS_SIGNATURE_TRUST_ROOTS"])
                if os.environ.get("MCKS_SIGNATURE_TRUST_ROOTS", "").strip()
                else None
            ),
            signing_key_file=(
                Path(os.environ["MCKS_SIGNING_KEY_FILE"])
                if os.environ.get("MCKS_SIGNING_KEY_FILE", "").strip()
                else None
            ),
            signing_key_passphrase=os.environ.get("MCKS_SIGNING_KEY_PASSPHRASE", ""),
            signatory_name=os.environ.get("MCKS_SIGNATORY_NAME", "").strip(),
            signatory_title=os.environ.get("MCKS_SIGNATORY_TITLE", "").strip(),
            public_url=(os.environ.get("MCKS_PUBLIC_URL", "").strip() or cls.public_url).rstrip(
                "/"
            ),
            bank_accounts=_entries("MCKS_BANK_ACCOUNTS") or cls.bank_accounts,
            fee_payment_days=max(1, _int("MCKS_FEE_PAYMENT_DAYS", cls.fee_payment_days)),
            signature_integrity_only=_bool("MCKS_SIGNATURE_INTEGRITY_ONLY", False),
            smtp_host=os.environ.get("MCKS_SMTP_HOST", cls.smtp_host).strip(),
            smtp_port=_int("MCKS_SMTP_PORT", cls.smtp_port),
            smtp_username=os.environ.get("MCKS_SMTP_USERNAME", cls.smtp_username),
            smtp_password=os.environ.get("MCKS_SMTP_PASSWORD", cls.smtp_password),
            smtp_starttls=_bool("MCKS_SMTP_STARTTLS", cls.smtp_starttls),
            smtp_ssl=_bool("MCKS_SMTP_SSL", cls.smtp_ssl),
            smtp_timeout_seconds=_float("MCKS_SMTP_TIMEOUT_SECONDS", cls.smtp_timeout_seconds),
            mail_from=os.environ.get("MCKS_MAIL_FROM", "") or cls.mail_from,
            host=os.environ.get("MCKS_HOST", cls.host),
            port=_int("MCKS_PORT", cls.port),
            workers=max(1, _int("MCKS_WORKERS", cls.workers)),
            access_log=_bool("MCKS_ACCESS_LOG", cls.access_log),
            log_level=os.environ.get("MCKS_LOG_LEVEL", cls.log_level).upper(),
            log_format=os.environ.get("MCKS_LOG_FORMAT", "").strip().lower() or cls.log_format,
            metrics_token=os.environ.get("MCKS_METRICS_TOKEN", "").strip(),
            metrics_allowed_ips=_list("MCKS_METRICS_ALLOWED_IPS"),
            time_zone=os.environ.get("MCKS_TIME_ZONE", "").strip() or cls.time_zone,
        )
        try:
            normalise_allowlist(settings.metrics_allowed_ips)
        except ValueError as exc:
            raise SettingsError(
                f"MCKS_METRICS_ALLOWED_IPS: {exc} is not an address or a network"
            ) from exc
        if settings.log_format not in ("text", "json"):
            raise SettingsError(
                f"MCKS_LOG_FORMAT must be text or json, got {settings.log_format!r}"
            )
        try:
            ZoneInfo(settings.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError(
                f"MCKS_TIME_ZONE must be an IANA zone such as Europe/Istanbul, "
                f"got {settings.time_zone!r}"
            ) from exc
        longest_delay = max(
            settings.login_max_delay_seconds, settings.login_account_max_delay_seconds
        )
        if longest_delay > settings.login_failure_memory_hours * 3600:
            # A delay must not outlive the counter that imposes it (the cleanup deletes both).
            raise SettingsError(
                "MCKS_LOGIN_FAILURE_MEMORY_HOURS must cover MCKS_LOGIN_MAX_DELAY_SECONDS and "
                "MCKS_LOGIN_ACCOUNT_MAX_DELAY_SECONDS"
            )
        if settings.env == "production":
            _require_signing_key(settings)
        _check_trust_roots(settings)
        if settings.download_link_minutes < 1:
            raise SettingsError("MCKS_DOWNLOAD_LINK_MINUTES must be at least 1")
        retention = settings.observation_retention_days
        if 0 < retention * 24 < settings.clone_window_hours:
            raise SettingsError(
                f"MCKS_OBSERVATION_RETENTION_DAYS ({retention}) must cover the clone window "
                f"(MCKS_CLONE_WINDOW_HOURS = {settings.clone_window_hours})"
            )
        return settings


def _require_signing_key(settings: Settings) -> None:
    """Production issues no unsigned permit: refuse to start without the Kurum's key."""
    key = settings.signing_key_file
    if key is None:
        raise SettingsError(
            "MCKS_SIGNING_KEY_FILE is required in production: the Kurum signs the fee notices, "
            "permits and letters it issues with it (a PKCS#12 file with the key and certificate; "
            "its passphrase in MCKS_SIGNING_KEY_PASSPHRASE)"
        )
    if not key.is_file():
        raise SettingsError(f"MCKS_SIGNING_KEY_FILE {str(key)!r} is not a readable file")


# The files a trust roots directory's certificates are read from.
CERTIFICATE_SUFFIXES = (".pem", ".crt", ".cer", ".der")


def _check_trust_roots(settings: Settings) -> None:
    """Safe by default: production checks e-signatures against known CAs, or says
    explicitly that it checks only their integrity (any self-made certificate passes)."""
    roots = settings.signature_trust_roots
    if roots is not None and settings.signature_integrity_only:
        raise SettingsError(
            "set either MCKS_SIGNATURE_TRUST_ROOTS or MCKS_SIGNATURE_INTEGRITY_ONLY, not both"
        )
    if roots is None:
        if settings.env == "production" and not settings.signature_integrity_only:
            raise SettingsError(
                "MCKS_SIGNATURE_TRUST_ROOTS is required in production: a directory of the CA "
                "certificates firms' e-signatures must chain to. To accept e-signatures on "
                "their integrity only, set MCKS_SIGNATURE_INTEGRITY_ONLY=true explicitly"
            )
        return
    if not roots.is_dir():
        raise SettingsError(f"MCKS_SIGNATURE_TRUST_ROOTS: {roots} is not a directory")
    if not any(p.suffix.lower() in CERTIFICATE_SUFFIXES for p in roots.iterdir() if p.is_file()):
        raise SettingsError(
            f"MCKS_SIGNATURE_TRUST_ROOTS: {roots} holds no certificate "
            f"({', '.join(CERTIFICATE_SUFFIXES)} files): nothing would be trusted"
        )


_active: Settings | None = None


def get_settings() -> Settings:
    global _active
    if _active is None:
        _active = Settings.from_env()
    return _active


def configure(settings: Settings) -> Settings:
    """Install settings explicitly (tests, CLI flags)."""
    global _active
    _active = settings
    return settings


def updated(**changes: object) -> Settings:
    """Install a copy of the active settings with some fields changed."""
    return configure(replace(get_settings(), **changes))  # type: ignore[arg-type]
