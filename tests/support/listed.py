"""A device row of an application's list, staged as an upload stages it: the device and one
`device_imei` row per IMEI."""

from __future__ import annotations

from models.applications import Device, DeviceImei


async def listed_device(application_id: int, row_number: int, *imeis: str) -> None:
    columns = dict(zip(("imei1", "imei2", "imei3", "imei4"), imeis, strict=False))
    await Device.create(
        application_id=application_id,
        row_number=row_number,
        brand="APPLE",
        model_code="A2403",
        **columns,
    )
    await DeviceImei.bulk_create(
        [DeviceImei(application_id=application_id, row_number=row_number, imei=v) for v in imeis]
    )
