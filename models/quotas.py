"""Operators' check quotas: IMEIs checked per client per calendar minute, in the database so
every gateway process counts against the same number.

`reserved` is what the processes took for that minute (a process takes a block of the quota
at a time and spends it locally, so a single check rarely touches the database); it never
exceeds the client's quota. `checked` is what was actually checked (flushed by the
processes), the figure staff see per day. `day` is the regulator's calendar day of the minute.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class CheckQuotaWindow(Model):
    id = fields.BigIntField(primary_key=True)
    client_id = fields.IntField()
    minute = fields.BigIntField()  # minutes since the Unix epoch (UTC)
    day = fields.CharField(max_length=10)  # YYYY-MM-DD in the regulator's time zone
    reserved = fields.IntField(default=0)
    checked = fields.IntField(default=0)

    class Meta:
        table = "check_quota_window"
        unique_together = (("client_id", "minute"),)
        indexes = (("day", "client_id"),)
