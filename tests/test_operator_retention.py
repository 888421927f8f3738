"""Network observations (IMSI, MSISDN: personal data) are deleted after the retention period
by a daily job; the batches stay so an old retry is still a replay."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from gateway.demo import load_demo
from models import clock
from models.audit import AuditEvent
from models.jobs import Job
from models.network import NetworkObservation, ObservationBatch
from resolvers import jobs
from resolvers.job_kinds import load_handlers
from resolvers.operators import retention
from resolvers.settings import Settings, SettingsError, updated
from tests.support.api import gql
from tests.support.operators import OPERATOR_TOKEN, imei

NOW = datetime(2026, 9, 1, 3, 0, tzinfo=UTC)
SUBMIT = """
mutation($key: String!, $observations: [ObservationInput!]!) {
  submitObservations(batchKey: $key, observations: $observations) {
    receipt { accepted replayed } errors { code }
  }
}"""


@pytest.fixture(autouse=True)
async def operator(db):
    clock.freeze(NOW)
    await load_demo()


def seen(serial: int, days_ago: float) -> dict:
    at = (NOW - timedelta(days=days_ago)).isoformat()
    return {"imei": imei(serial), "imsi": "286010000000001", "msisdn": "905331112233", "seenAt": at}


async def submit(client, key, observations):
    body = await gql(
        client, SUBMIT, {"key": key, "observations": observations}, token=OPERATOR_TOKEN
    )
    return body["data"]["submitObservations"]["receipt"]


async def test_observations_older_than_the_retention_are_deleted_and_audited(client):
    updated(observation_retention_days=90)
    await submit(client, "old", [seen(1, 120), seen(2, 91)])
    await submit(client, "mixed", [seen(3, 95), seen(4, 89), seen(5, 1)])

    assert await retention.purge_observations() == 3
    left = await NetworkObservation.all().order_by("imei").values_list("imei", flat=True)
    assert left == [imei(4), imei(5)]
    [event] = await AuditEvent.filter(action="observations.purged")
    assert event.details == {"count": 3, "retentionDays": 90}
    assert event.actor_name == "observation-retention"
    # Nothing more to do: no second event.
    assert await retention.purge_observations() == 0
    assert await AuditEvent.filter(action="observations.purged").count() == 1

    # The emptied batch is still known: its retry is a replay, nothing is stored again.
    assert await ObservationBatch.filter(batch_key="old").exists()
    receipt = await submit(client, "old", [seen(1, 120), seen(2, 91)])
    assert receipt["replayed"] is True
    assert await NetworkObservation.all().count() == 2


async def test_large_purges_go_in_chunks(client, monkeypatch):
    monkeypatch.setattr(retention, "CHUNK", 2)
    updated(observation_retention_days=30)
    await submit(client, "many", [seen(n, 40) for n in range(5)])
    assert await retention.purge_observations() == 5
    events = await AuditEvent.filter(action="observations.purged").order_by("id")
    assert [e.details["count"] for e in events] == [2, 2, 1]


async def test_retention_zero_keeps_everything_and_schedules_nothing(client):
    updated(observation_retention_days=0)
    await submit(client, "kept", [seen(1, 3000)])
    await retention.schedule_periodic()
    assert not await Job.filter(kind=retention.JOB_KIND).exists()
    assert await retention.purge_observations() == 0
    assert await NetworkObservation.all().count() == 1


async def test_the_purge_runs_as_a_daily_job(client):
    load_handlers()
    updated(observation_retention_days=10)
    await submit(client, "daily", [seen(1, 11), seen(2, 9)])
    await retention.schedule_periodic()
    await retention.schedule_periodic()  # the same day: nothing more
    assert await Job.filter(kind=retention.JOB_KIND).count() == 1
    assert await jobs.drain() >= 1
    assert await NetworkObservation.all().count() == 1
    clock.advance(timedelta(hours=20))  # 23:00 the same day
    await retention.schedule_periodic()
    assert await Job.filter(kind=retention.JOB_KIND).count() == 1
    clock.advance(timedelta(hours=2))  # the next day
    await retention.schedule_periodic()
    assert await Job.filter(kind=retention.JOB_KIND).count() == 2


def test_the_retention_must_cover_the_clone_window(monkeypatch):
    monkeypatch.setattr(os, "environ", {"MCKS_ENV": "test", "MCKS_CLONE_WINDOW_HOURS": "72"})
    monkeypatch.setitem(os.environ, "MCKS_OBSERVATION_RETENTION_DAYS", "2")
    with pytest.raises(SettingsError, match="MCKS_OBSERVATION_RETENTION_DAYS"):
        Settings.from_env()
    monkeypatch.setitem(os.environ, "MCKS_OBSERVATION_RETENTION_DAYS", "3")
    assert Settings.from_env().observation_retention_days == 3
    monkeypatch.setitem(os.environ, "MCKS_OBSERVATION_RETENTION_DAYS", "0")  # kept: allowed
    assert Settings.from_env().observation_retention_days == 0
