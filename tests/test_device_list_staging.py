"""A big device list is read in a process of its own, a small one in a thread: the firm sees
the same devices, the same warnings and the same refusals either way."""

from __future__ import annotations

from typing import Any

import pytest

from models.applications import Device, DeviceImei
from resolvers.applications import list_reader
from tests.support.api import login, make_world
from tests.support.uploads import imei, upload, xlsx
from tests.test_application_analysis import APPLE, SAMSUNG, create_draft

# 5,003 devices: more than one batch crosses from the reader to the staging.
ROWS = 5003


def _csv() -> bytes:
    lines = ["MARKA;MODEL;IMEI1;IMEI2"]
    for n in range(ROWS):
        if n % 2:
            lines.append(f"apple;a2403;{imei(APPLE + f'{n:06d}')};{imei(APPLE + f'9{n:05d}')}")
        else:
            lines.append(f"Samsung;SM-G9359;{imei(SAMSUNG + f'{n:06d}')};")
    return ("\n".join(lines) + "\n").encode()


async def _uploaded(client: Any, reader: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What a firm user sees of a good list, a list with row problems and a refused file."""
    threshold = 0 if reader == "process" else 1 << 40
    monkeypatch.setattr(list_reader, "PROCESS_MIN_BYTES", threshold)
    user = await login(client, "a.user")
    application_id = await create_draft(client, user)
    good = (await upload(client, user, application_id, _csv(), "liste.csv"))["data"][
        "uploadDeviceList"
    ]
    devices = (
        await Device.filter(application_id=application_id)
        .order_by("row_number")
        .values_list("row_number", "brand", "model_code", "imei1", "imei2")
    )
    staged = await DeviceImei.filter(application_id=application_id).count()
    # Leading zeros lost by Excel: a warning, the device is kept.
    warned = (
        await upload(
            client,
            user,
            application_id,
            xlsx([("APPLE", "A2403", int(imei("01234567000001")))]),
        )
    )["data"]["uploadDeviceList"]
    broken = (
        await upload(
            client,
            user,
            application_id,
            xlsx([("APPLE", "A2403", None), ("SAMSUNG", "SM-G9359", "35A000221")]),
        )
    )["data"]["uploadDeviceList"]
    refused = (
        await upload(client, user, application_id, b"MARKA;MODEL\nAPPLE;A2403\n", "liste.csv")
    )["data"]["uploadDeviceList"]
    kept = await Device.filter(application_id=application_id).count()
    return {
        "good": (good["errors"], good["deviceCount"], good["imeiCount"]),
        "devices": devices,
        "staged": staged,
        "warned": (warned["errors"], warned["warnings"], warned["deviceCount"]),
        "broken": broken["errors"],
        "refused": refused["errors"],
        "kept": kept,
    }


async def test_a_list_read_in_a_process_gives_what_a_thread_gives(client, monkeypatch):
    await make_world()
    by_process = await _uploaded(client, "process", monkeypatch)
    by_thread = await _uploaded(client, "thread", monkeypatch)

    assert by_process == by_thread
    assert by_process["good"] == ([], ROWS, ROWS + ROWS // 2)
    assert by_process["staged"] == ROWS + ROWS // 2
    assert by_process["devices"][:2] == [
        (2, "SAMSUNG", "SM-G9359", imei(SAMSUNG + "000000"), None),
        (3, "APPLE", "A2403", imei(APPLE + "000001"), imei(APPLE + "900001")),
    ]
    assert by_process["devices"][-1][0] == ROWS + 1
    errors, warnings, count = by_process["warned"]
    assert errors == [] and count == 1 and warnings[0]["row"] == 2
    assert [e["field"] for e in by_process["broken"]] == [
        "file[row=2][column=C]",
        "file[row=3][column=C]",
    ]
    assert by_process["refused"][0]["field"] == "file"
    assert "IMEI1" in by_process["refused"][0]["message"]
    # The refused uploads left the accepted one in place.
    assert by_process["kept"] == 1


def test_the_collector_is_paused_for_analyses_and_runs_again_after_the_last():
    import gc

    from resolvers.applications.analysis import _collector_paused

    assert gc.isenabled()
    with _collector_paused():
        with _collector_paused():  # a second analysis in the same process
            assert not gc.isenabled()
        assert not gc.isenabled()  # the first one still runs
    assert gc.isenabled()
    with pytest.raises(RuntimeError), _collector_paused():
        raise RuntimeError("an analysis that fails")
    assert gc.isenabled()
