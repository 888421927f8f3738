"""Firm applications and their device lists."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.workflow import ApplicationKind, ApplicationStatus, Channel


class Application(Model):
    id = fields.IntField(primary_key=True)
    firm_id = fields.IntField(db_index=True)
    kind = fields.CharEnumField(ApplicationKind, max_length=16)
    channel = fields.CharEnumField(Channel, max_length=16, default=Channel.ELECTRONIC)
    status = fields.CharEnumField(ApplicationStatus, max_length=32, default=ApplicationStatus.DRAFT)
    created_by = fields.CharField(max_length=255)
    # Import (art. 8(2)) / manufacture (art. 8(3)) data.
    import_date = fields.DateField(null=True)
    customs_declaration_no = fields.CharField(max_length=64, null=True)
    origin_country = fields.CharField(max_length=2, null=True)
    production_date = fields.DateField(null=True)
    invoice_no = fields.CharField(max_length=64, null=True)
    invoice_date = fields.DateField(null=True)
    # Art. 12(3): the customs declaration states the devices are test or sample devices.
    test_devices_declared = fields.BooleanField(default=False)
    notes = fields.TextField(default="")
    # The current device list and what the analysis made of it.
    device_list_file_id = fields.IntField(null=True)
    device_count = fields.IntField(default=0)
    imei_count = fields.IntField(default=0)
    # The most IMEIs a device of the list has, set when the list is staged (None: staged
    # before it was kept; see `imei_columns`).
    widest_device = fields.IntField(null=True)
    passed_device_count = fields.IntField(null=True)
    failed_device_count = fields.IntField(null=True)
    analysis_run = fields.IntField(default=0)
    analysis_started_at = fields.DatetimeField(null=True)
    analysis_finished_at = fields.DatetimeField(null=True)
    status_reason = fields.TextField(null=True)
    # The same reason in English when the system wrote it (staff write theirs in one language).
    status_reason_en = fields.TextField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "application"
        indexes = (("status", "firm_id"),)


#: The device table's IMEI columns, in position order (a device's IMEIs fill them from
#: the first).
DEVICE_IMEI_COLUMNS = ("imei1", "imei2", "imei3", "imei4")


def imei_columns(widest_device: int | None) -> tuple[str, ...]:
    """The IMEI columns a list's devices fill, from the most IMEIs one has (None: not
    known, all of them): a query over a column no device fills reads the list in vain.
    The first is there whatever: every device has one."""
    if widest_device is None:
        return DEVICE_IMEI_COLUMNS
    return DEVICE_IMEI_COLUMNS[: max(1, widest_device)]


class Device(Model):
    """One row of the device list: up to four IMEIs and what the analysis said.

    Rows are found by application and row number, or by application, brand and model,
    never by id: on PostgreSQL the id has no index (migration 0021; a 7.7 million-row
    upload maintained it for 6 s)."""

    id = fields.BigIntField(primary_key=True)
    # No index of its own: the unique (application_id, row_number) serves it, and a million-row
    # list then maintains one index fewer.
    application_id = fields.IntField()
    row_number = fields.IntField()
    brand = fields.CharField(max_length=128)
    model_code = fields.CharField(max_length=128)
    imei1 = fields.CharField(max_length=32)
    imei2 = fields.CharField(max_length=32, null=True)
    imei3 = fields.CharField(max_length=32, null=True)
    imei4 = fields.CharField(max_length=32, null=True)
    # No outcome column: a device of an analysed list failed when it has DeviceFailure rows
    # (its reasons) and passed otherwise (resolvers.applications.outcome).
    # What the TAC registry said the device is, written by analyses before issue 18: shown
    # only for their reasons that name no IMEI positions. It is now read off the registry
    # with the reasons (resolvers.applications.results), not written for every mismatch.
    tac_brand = fields.CharField(max_length=128, null=True)
    tac_model = fields.CharField(max_length=128, null=True)
    # Set at upload: whether the device can pass the TAC and model match (its group's colour
    # before the analysis); null when not looked at (test devices).
    tac_match = fields.BooleanField(null=True)
    # Set at upload: the IMEIs that cannot be IMEIs, each with its cell and why (JSON).
    imei_notes = fields.TextField(null=True)

    class Meta:
        table = "device"
        unique_together = (("application_id", "row_number"),)
        # Covers the list's brand/model groups (the declared-count comparison, the CE
        # requirements, the group views): no table lookups, no sort. On SQLite only:
        # PostgreSQL hashes the groups as fast without it (migration 0023).
        indexes = (("application_id", "brand", "model_code"),)


class DeviceImei(Model):
    """Every IMEI of every listed device, indexed, for set-based checks across applications.

    Rows are found by IMEI or by application and IMEI, never by id: on PostgreSQL the id
    has no index (migration 0020; a million-IMEI upload maintained it for 2-3 s), so rows
    are written and deleted set-wise, not saved or deleted one by one through the ORM."""

    id = fields.BigIntField(primary_key=True)
    application_id = fields.IntField()
    row_number = fields.IntField()  # the device's row in its application's list
    imei = fields.CharField(max_length=32, db_index=True)
    # The IMEI is in its list more than once (in one device or in several): settled when
    # the list is staged, and the repeated rows have an index of their own (by application
    # and row number, migration 0022) that the analysis reads.
    repeated = fields.BooleanField(default=False)

    class Meta:
        table = "device_imei"
        indexes = (("application_id", "imei"),)


class DeviceFailure(Model):
    """One reason one device failed the analysis (a device has as many rows as reasons)."""

    id = fields.BigIntField(primary_key=True)
    application_id = fields.IntField()
    row_number = fields.IntField()
    code = fields.CharField(max_length=32)
    # Which of the device's IMEIs fail this check, by position ("2", "1,3": IMEI1..IMEI4;
    # positions, as a cell that is no IMEI may hold any character); null for the device as
    # a whole (its SIM count).
    imei_positions = fields.CharField(max_length=16, null=True)

    class Meta:
        table = "device_failure"
        indexes = (("application_id", "code"), ("application_id", "row_number"))


class DeclaredDevice(Model):
    """One line of what the firm declares it imported or made (Ek-1's MARKA / MODEL / ADET
    table, Tebliğ art. 8(2)(ç)-(d), 8(3)(c)-(ç), 9(2)(a)); the analysis compares it with the
    device list."""

    id = fields.BigIntField(primary_key=True)
    application_id = fields.IntField(db_index=True)
    position = fields.IntField()  # the line's place in the firm's table
    brand = fields.CharField(max_length=128)
    model_code = fields.CharField(max_length=128)
    device_count = fields.IntField()

    class Meta:
        table = "declared_device"
        unique_together = (("application_id", "position"),)


class DeclarationDifference(Model):
    """A brand/model whose declared count differs from the device list's (art. 10(3)),
    written by the analysis run that found it."""

    id = fields.BigIntField(primary_key=True)
    application_id = fields.IntField(db_index=True)
    brand = fields.CharField(max_length=128)
    model_code = fields.CharField(max_length=128)
    declared_count = fields.IntField()  # 0: listed but not declared
    listed_count = fields.IntField()  # 0: declared but not in the list

    class Meta:
        table = "declaration_difference"
