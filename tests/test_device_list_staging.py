"""A big device list is read in a process of its own, a small one in a thread: the firm sees
the same devices, the same warnings and the same refusals either way."""

from __future__ import annotations

import asyncio
import multiprocessing
from typing import Any

import pytest

from models import clock
from models.applications import Device, DeviceImei
from models.tac import TacModel
from resolvers.applications import list_reader
from resolvers.device_files import DEFAULT_LIMITS, DeviceFileError
from tests.support.api import login, make_world
from tests.support.uploads import imei, upload, xlsx
from tests.test_application_analysis import (
    APPLE,
    IMPORT_DATA,
    SAMSUNG,
    create_draft,
    seed_registry,
)

# 5,003 devices: more than one batch crosses from the reader to the staging.
ROWS = 5003
ZERO_TAC = "01234567"


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
    # Leading zeros lost by Excel: a warning, the device is kept with the zero restored; a
    # cell that cannot be an IMEI: the device is kept with the cell and its note.
    warned = (
        await upload(
            client,
            user,
            application_id,
            xlsx(
                [
                    ("APPLE", "A2403", int(imei(ZERO_TAC + "000001"))),
                    ("SAMSUNG", "SM-G9359", "35A000221"),
                ]
            ),
        )
    )["data"]["uploadDeviceList"]
    messy = (
        await Device.filter(application_id=application_id)
        .order_by("row_number")
        .values_list("row_number", "imei1", "tac_match", "imei_notes")
    )
    broken = (await upload(client, user, application_id, xlsx([("APPLE", "A2403", None)])))["data"][
        "uploadDeviceList"
    ]
    refused = (
        await upload(client, user, application_id, b"MARKA;MODEL\nAPPLE;A2403\n", "liste.csv")
    )["data"]["uploadDeviceList"]
    kept = await Device.filter(application_id=application_id).count()
    return {
        "good": (good["errors"], good["deviceCount"], good["imeiCount"]),
        "devices": devices,
        "staged": staged,
        "warned": (warned["errors"], warned["warnings"], warned["deviceCount"]),
        "messy": messy,
        "broken": broken["errors"],
        "refused": refused["errors"],
        "kept": kept,
    }


async def test_a_list_read_in_a_process_gives_what_a_thread_gives(client, monkeypatch):
    await make_world()
    # A TAC that starts with 0: a number that lost it is settled to the registered one.
    now = clock.now()
    await TacModel.create(
        tac=ZERO_TAC,
        brand="APPLE",
        model_code="A2403",
        imei_count=1,
        created_at=now,
        updated_at=now,
    )
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
    assert errors == [] and count == 2 and warnings[0]["row"] == 2
    (restored, _, _, no_notes), (kept, cell, _, notes) = by_process["messy"]
    assert (restored, no_notes) == (2, None)
    assert by_process["messy"][0][1] == imei(ZERO_TAC + "000001")
    assert (kept, cell) == (3, "35A000221") and "35A000221" in notes
    assert [e["field"] for e in by_process["broken"]] == ["file[row=2][column=C]"]
    assert by_process["refused"][0]["field"] == "file"
    assert "IMEI1" in by_process["refused"][0]["message"]
    # The refused uploads left the accepted one in place.
    assert by_process["kept"] == 2


def test_the_collector_is_paused_for_staging_and_analyses_and_runs_again_after_the_last():
    import gc

    from resolvers.interpreter import collector_paused as paused

    assert gc.isenabled()
    with paused():
        with paused():  # a second analysis in the same process
            assert not gc.isenabled()
        assert not gc.isenabled()  # the first one still runs
    assert gc.isenabled()
    with pytest.raises(RuntimeError), paused():
        raise RuntimeError("an analysis that fails")
    assert gc.isenabled()


def test_switches_are_short_while_checks_run_in_a_thread_and_as_before_after_the_last():
    import sys

    from resolvers.interpreter import SHORT_SWITCH_INTERVAL, short_switches

    before = sys.getswitchinterval()
    assert before > SHORT_SWITCH_INTERVAL
    with short_switches():
        with short_switches():
            assert sys.getswitchinterval() == pytest.approx(SHORT_SWITCH_INTERVAL)
        assert sys.getswitchinterval() == pytest.approx(SHORT_SWITCH_INTERVAL)
    assert sys.getswitchinterval() == before
    with pytest.raises(RuntimeError), short_switches():
        raise RuntimeError("an analysis that fails")
    assert sys.getswitchinterval() == before


async def test_big_containers_are_freed_off_the_event_loop_with_short_switches(monkeypatch):
    import sys
    import threading

    from resolvers import interpreter

    monkeypatch.setattr(interpreter, "RELEASED_AT_ONCE", 3)
    freed: list[tuple[int, float, int]] = []  # (thread, switch interval, size left)
    devices: list[Any] = []

    class Item:
        def __del__(self) -> None:
            freed.append((threading.get_ident(), sys.getswitchinterval(), len(devices)))

    devices += [Item() for _ in range(10)]
    reasons = {n: [Item()] for n in range(7)}
    before = sys.getswitchinterval()
    await interpreter.release(devices, reasons)
    assert devices == [] and reasons == {} and len(freed) == 17
    assert threading.get_ident() not in {thread for thread, _, _ in freed}
    assert {interval for _, interval, _ in freed} == {interpreter.SHORT_SWITCH_INTERVAL}
    assert sys.getswitchinterval() == before
    # A slice per step, from the end: the list was 7 long while its last 3 went.
    assert [left for _, _, left in freed[:10]] == [7, 7, 7, 4, 4, 4, 1, 1, 1, 0]


async def test_an_analysed_windows_devices_and_groups_are_let_go(client):
    from resolvers.applications.checks import AnalysisContext, DeviceLine

    lines = [DeviceLine(n, "APPLE", "A2403", (imei(APPLE + f"{n:06d}"),)) for n in range(2, 9)]
    ctx = AnalysisContext(application_id=None, devices=list(lines))
    [group] = await ctx.tac_groups()
    assert len(group.members) == 7
    devices = ctx.devices
    await ctx.let_go()
    assert ctx.devices == [] and devices == [] and group.members == []
    assert await ctx.tac_groups() == []  # nothing left of the window


async def test_the_analysis_loads_every_row_of_a_list_with_gaps_in_its_row_numbers(
    client, monkeypatch
):
    """Blank rows leave gaps in the row numbers; the list is loaded range by range."""
    from resolvers.applications import analysis

    monkeypatch.setattr(analysis, "LOAD_ROWS", 3)
    await make_world()
    user = await login(client, "a.user")
    application_id = await create_draft(client, user)
    rows = [2, 3, 4, 9, 10, 11, 12, 40, 41]
    await Device.bulk_create(
        [
            Device(
                application_id=application_id,
                row_number=row,
                brand="APPLE",
                model_code="A2403",
                imei1=imei(APPLE + f"{row:06d}"),
                imei2=imei(APPLE + f"9{row:05d}") if row % 2 else None,
            )
            for row in reversed(rows)
        ]
    )
    devices = await analysis.load_devices(application_id)
    assert [d.row for d in devices] == rows
    assert [len(d.imeis) for d in devices] == [1 + row % 2 for row in rows]
    # One string per distinct name, however many rows hold it.
    assert len({id(d.brand) for d in devices}) == 1
    assert await analysis.load_devices(application_id + 1000) == []


async def test_a_lookup_that_fails_fails_the_analysis_and_the_rest_are_stopped(client, monkeypatch):
    """The big-table lookups run one after the other beside the checks: a database error
    in one reaches the analysis (its job is tried again), and none is left running."""
    from resolvers.applications import analysis
    from resolvers.applications.checks import ALL_CHECKS, AnalysisContext, evaluate

    await make_world()
    user = await login(client, "a.user")
    application_id = await create_draft(client, user)
    await upload(client, user, application_id, _csv(), "liste.csv")

    async def database_away(self, table, also=None):
        raise ConnectionError("the database went away")

    monkeypatch.setattr(AnalysisContext, "_staged_found_in", database_away)
    ctx = AnalysisContext(application_id=application_id, devices=[], staged=True)
    ctx.prefetch()
    try:
        ctx.devices = await analysis.load_devices(application_id)
        assert len(ctx.devices) == ROWS
        with pytest.raises(ConnectionError, match="went away"):
            await evaluate(ctx, ALL_CHECKS, in_thread=True)
    finally:
        ctx.discard()
    assert ctx._runner is not None
    await asyncio.wait_for(ctx._runner, timeout=60)
    assert all(answer.done() for answer in ctx._lookups.values())
    # The repeated IMEIs were read first (this list has none), the registered ones
    # failed; after the failure none started.
    assert ctx._lookups["repeated"].result() == []
    assert isinstance(ctx._lookups["registered"].exception(), ConnectionError)
    assert ctx._lookups["blacklisted"].cancelled() and ctx._lookups["pending"].cancelled()


def test_a_reader_told_to_stop_hands_on_no_batch_after(tmp_path):
    """The reader asks whether to stop once a batch (not once a row: asking a process's
    event a million times was a fifth of its time), and stops before the next batch."""
    path = tmp_path / "liste.csv"
    path.write_bytes(_csv())
    handed: list[tuple[str, Any]] = []
    asked = 0

    def stopped() -> bool:
        nonlocal asked
        asked += 1
        return bool(handed)  # stop as soon as the first batch is handed on

    list_reader._produce(
        str(path), "liste.csv", list_reader.DeviceFileLimits(), handed.append, stopped
    )
    assert [kind for kind, _ in handed] == ["rows", "done"]
    assert len(handed[0][1]) == list_reader.BATCH
    assert asked == 2  # before the first batch and at the end, never per row


READER_MAIN = """
import asyncio, os, sys
sys.path.insert(0, {root!r})
with open({marks!r}, "a") as marks:  # every run of this file, as main or imported as main
    marks.write(f"{{os.getpid()}}\\n")
from resolvers.applications import list_reader
from resolvers.device_files import DEFAULT_LIMITS

async def read(path):
    rows = 0
    async for item in list_reader.read_rows(path, 1, path.name, DEFAULT_LIMITS):
        if isinstance(item, list):
            rows += len(item)
    return rows

if __name__ == "__main__":
    from pathlib import Path
    list_reader.PROCESS_MIN_BYTES = 0
    list_reader.start_reader_server()
    print(asyncio.run(read(Path(sys.argv[1]))), asyncio.run(read(Path(sys.argv[1]))))
"""


def test_reader_processes_do_not_run_the_servers_main_again(tmp_path):
    """A spawned process imports `__main__` again before it starts: for `mcks serve` the
    whole gateway, seconds per upload. Readers come from a fork server that imported it
    once."""
    import subprocess
    import sys
    from pathlib import Path

    marks = tmp_path / "marks"
    script = tmp_path / "serve.py"
    script.write_text(READER_MAIN.format(root=str(Path(__file__).parent.parent), marks=str(marks)))
    listing = tmp_path / "liste.csv"
    listing.write_bytes(_csv())
    done = subprocess.run(
        [sys.executable, str(script), str(listing)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(ROWS), str(ROWS)]
    runs = marks.read_text().split()
    # The script itself, and the fork server once: not once more for each of the readers.
    assert len(runs) == 2 and runs[0] != runs[1]


@pytest.mark.parametrize("reader", ["thread", "process"])
async def test_a_list_read_ahead_gives_every_batch_and_a_refusal_as_read_rows(
    tmp_path, monkeypatch, reader
):
    """The upload starts reading before it deletes the list it replaces: the same batches
    come, the first included, and a refused file's error comes where the rows would."""
    monkeypatch.setattr(list_reader, "PROCESS_MIN_BYTES", 0 if reader == "process" else 1 << 40)
    path = tmp_path / "liste.csv"
    path.write_bytes(_csv())
    size = path.stat().st_size

    async def items(rows: Any) -> list[Any]:
        return [item async for item in rows]

    direct = await items(list_reader.read_rows(path, size, path.name, DEFAULT_LIMITS))
    ahead = list_reader.ReadAhead(list_reader.read_rows(path, size, path.name, DEFAULT_LIMITS))
    await asyncio.sleep(0)  # the reader under way before it is asked for anything
    read = await items(ahead)
    await ahead.aclose()
    assert [len(b) for b in read[:-1]] == [len(b) for b in direct[:-1]] == [5000, 3]
    assert read[:-1] == direct[:-1]
    assert isinstance(read[-1], list_reader.Parsed)

    refused = tmp_path / "liste.xlsx"
    refused.write_bytes(b"PK\x03\x04 not a workbook")
    ahead = list_reader.ReadAhead(list_reader.read_rows(refused, 1, refused.name, DEFAULT_LIMITS))
    with pytest.raises(DeviceFileError):
        await items(ahead)
    await ahead.aclose()


async def test_a_list_read_ahead_and_never_taken_stops_its_reader(tmp_path, monkeypatch):
    """An upload refused before it takes a row (the draft was submitted meanwhile) stops
    the reader it started: no process is left reading the file."""
    monkeypatch.setattr(list_reader, "PROCESS_MIN_BYTES", 0)
    path = tmp_path / "liste.csv"
    path.write_bytes(_csv() * 20)  # batches enough to fill the queue and block the reader
    before = set(multiprocessing.active_children())
    ahead = list_reader.ReadAhead(
        list_reader.read_rows(path, path.stat().st_size, path.name, DEFAULT_LIMITS)
    )
    await asyncio.sleep(0)  # the reading's first step starts the process
    assert set(multiprocessing.active_children()) - before
    await ahead.aclose()
    assert not set(multiprocessing.active_children()) - before


@pytest.mark.parametrize("kind", ["IMPORT", "TEST"])
async def test_each_device_row_stores_what_it_holds_whatever_columns_it_fills(client, kind):
    """Rows are inserted grouped by the columns they fill (a NULL is no bound value): one to
    four IMEIs, a cell that is no IMEI (its note), a group that cannot match the registry;
    every column as the row holds it, in row order. A test device's match is not looked at
    (NULL). Each IMEI's row says whether the list repeats it."""
    await make_world()
    await seed_registry()
    user = await login(client, "a.user")
    data = IMPORT_DATA if kind == "IMPORT" else {**IMPORT_DATA, "testDevicesDeclared": True}
    application_id = await create_draft(client, user, kind, data)
    one, two, three, four = (imei(APPLE + f"{n:06d}") for n in (1, 2, 3, 4))
    listed = [
        ("APPLE", "A2403", one, two),
        ("SAMSUNG", "SM-G9359", imei(SAMSUNG + "000001")),
        ("APPLE", "A2403", three, "35A000221"),
        ("NOKIA", "9999", imei(APPLE + "000005"), imei(APPLE + "000006"), three, four),
        ("APPLE", "A2403", four),
    ]
    body = await upload(client, user, application_id, xlsx(listed))
    assert body["data"]["uploadDeviceList"]["errors"] == []
    stored = await Device.filter(application_id=application_id).order_by("row_number").values_list(
        "row_number", "brand", "model_code", "imei1", "imei2", "imei3", "imei4", "tac_match",
        "imei_notes", "tac_brand", "tac_model",
    )  # fmt: skip
    assert [r[:7] for r in stored] == [
        (n, *row[:2], *row[2:], *([None] * (6 - len(row)))) for n, row in enumerate(listed, start=2)
    ]
    matches = [r[7] for r in stored]
    assert matches == ([True, True, False, False, True] if kind == "IMPORT" else [None] * 5)
    notes = [r[8] for r in stored]
    assert notes[:2] == [None, None] and notes[3:] == [None, None]
    assert "35A000221" in notes[2] and "IMEI2" in notes[2]
    assert {r[9:] for r in stored} == {(None, None)}
    assert await DeviceImei.filter(application_id=application_id).count() == 10
    # Its IMEIs the list holds twice are flagged as staged, on both backends.
    repeated = await DeviceImei.filter(application_id=application_id, repeated=True).values_list(
        "row_number", "imei"
    )
    assert sorted(repeated) == [(4, three), (5, three), (5, four), (6, four)]


async def test_the_imeis_indexed_are_those_of_every_column_some_device_fills(client):
    """Only the IMEI columns a device of the list fills are read into `device_imei`; the
    widest device may come in the last batch, or a list may hold single IMEIs only."""
    await make_world()
    user = await login(client, "a.user")
    application_id = await create_draft(client, user)
    lines = ["MARKA;MODEL;IMEI1;IMEI2;IMEI3"]
    lines += [f"Samsung;SM-G9359;{imei(SAMSUNG + f'{n:06d}')};;" for n in range(ROWS - 1)]
    wide = [imei(APPLE + f"{n:06d}") for n in (1, 2, 3)]
    lines.append("apple;a2403;" + ";".join(wide))
    body = await upload(client, user, application_id, ("\n".join(lines) + "\n").encode(), "l.csv")
    assert body["data"]["uploadDeviceList"]["errors"] == []
    staged = await DeviceImei.filter(application_id=application_id).values_list(
        "row_number", "imei"
    )
    assert len(staged) == ROWS - 1 + 3
    assert sorted(i for row, i in staged if row == ROWS + 1) == sorted(wide)

    single = await create_draft(client, user)
    body = await upload(client, user, single, xlsx([("APPLE", "A2403", wide[0])]))
    assert body["data"]["uploadDeviceList"]["errors"] == []
    assert await DeviceImei.filter(application_id=single).values_list("row_number", "imei") == [
        (2, wide[0])
    ]
