"""Durable background jobs: rows claimed with a lease, retried with backoff, never lost."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class JobStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    # Gave up after the allowed attempts: listed for staff.
    DEAD = "DEAD"


class Job(Model):
    id = fields.BigIntField(primary_key=True)
    kind = fields.CharField(max_length=64)
    payload: dict[str, Any] = fields.JSONField(default=dict)  # type: ignore[assignment]
    # One live job per key (e.g. one analysis per application) — set while queued/running.
    dedupe_key = fields.CharField(max_length=128, null=True, unique=True)
    status = fields.CharEnumField(JobStatus, max_length=16, default=JobStatus.QUEUED)
    attempts = fields.IntField(default=0)
    max_attempts = fields.IntField(default=5)
    run_after = fields.DatetimeField()
    locked_by = fields.CharField(max_length=128, null=True)
    lease_until = fields.DatetimeField(null=True)
    last_error = fields.TextField(null=True)
    created_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "job"
        indexes = (("status", "run_after"),)
