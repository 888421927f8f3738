"""A device's outcome is derived, not stored (issue #18: storing it rewrote every row of a
million-device list on each analysis):

- passed: its application's list has been analysed and it has no `device_failure` row;
- failed: analysed, and it has at least one (the analysis' reasons, or the payment race's);
- not analysed (None): the list has not been analysed, yet or any more.

"Analysed" is `application.passed_device_count IS NOT NULL`. The analysis sets it in the
transaction that writes the failure rows; `queue_analysis` (a new run: the old rows stay
until it writes its own) and `upload_device_list` (a new list, its rows deleted) clear it;
the payment race only lowers it. `analysis_finished_at` is not the marker: it says when the
last run ended, and a new upload leaves it set.
"""

from __future__ import annotations

from models.applications import Application


def analysed(application: Application) -> bool:
    return application.passed_device_count is not None


def analysed_sql(application_id: str) -> str:
    """`analysed` in SQL, for the application whose id is `application_id` (a placeholder
    or a column): an EXISTS on the application's primary key."""
    return (
        f"EXISTS (SELECT 1 FROM application WHERE application.id = {application_id} "
        "AND application.passed_device_count IS NOT NULL)"
    )


def failing_sql(device: str) -> str:
    """SQL true when the device (table alias `device`) has a failure row: one probe of the
    (application_id, row_number) index. Failed when analysed; passed is its NOT."""
    return (
        "EXISTS (SELECT 1 FROM device_failure f WHERE f.application_id = "
        f"{device}.application_id AND f.row_number = {device}.row_number)"
    )
