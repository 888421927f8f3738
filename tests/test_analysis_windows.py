"""A list is checked a window of rows at a time (what the analysis holds is a window's, not
the list's): the firm sees the same results however many windows, an IMEI repeated in two
windows included; the windows' lookups run one at a time; a run that stops being current
between windows (a newer run queued) writes nothing more; one whose window cannot be
written is tried again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from models import clock
from models.applications import Application, DeviceFailure
from models.workflow import ApplicationStatus
from resolvers import bulk, jobs
from resolvers.applications import analysis
from resolvers.applications.checks import AnalysisContext
from tests.support.api import gql, login, make_world
from tests.support.operators import whitelist
from tests.support.uploads import imei, upload, xlsx
from tests.support.workflow import attach_documents
from tests.test_application_analysis import (
    APPLE,
    GROUPS,
    SAMSUNG,
    SUBMIT,
    TO_ANALYSIS,
    all_devices,
    create_draft,
    messy_list_in_analysis,
    seed_registry,
)


def _in_windows_of(monkeypatch: Any, rows: int) -> None:
    monkeypatch.setattr(analysis, "WHOLE_LIST_ROWS", 0)
    monkeypatch.setattr(analysis, "WINDOW_ROWS", rows)


async def _seen(client: Any, user: str, application_id: int) -> tuple[Any, ...]:
    devices, _ = await all_devices(client, user, application_id)
    groups = (await gql(client, GROUPS, {"id": application_id}, token=user))["data"][
        "applicationDeviceGroups"
    ]
    application = await Application.get(id=application_id)
    counts = (application.passed_device_count, application.failed_device_count)
    return devices, groups, counts, application.status


async def test_a_list_checked_in_windows_reads_as_one_checked_at_once(client, monkeypatch):
    user, application_id, expected = await messy_list_in_analysis(client)
    assert analysis.windows((2, 17), 2)[4:6] == [(9, 11), (11, 13)]  # rows 11, 12 apart
    _in_windows_of(monkeypatch, 2)
    windowed = []
    real_evaluate = analysis.evaluate

    async def evaluate(ctx: AnalysisContext, *args: Any, **kwargs: Any) -> Any:
        windowed.append((ctx.window, [d.row for d in ctx.devices]))
        return await real_evaluate(ctx, *args, **kwargs)

    monkeypatch.setattr(analysis, "evaluate", evaluate)
    assert await jobs.drain() == 1
    in_windows = await _seen(client, user, application_id)
    assert {d["rowNumber"]: [r["code"] for r in d["reasons"]] for d in in_windows[0]} == expected
    assert in_windows[2] == (4, 11)
    # Eight windows of two row numbers; each checked only its own devices (row 15 is the
    # blank row: the window holding it has one device).
    assert [w for w, _ in windowed] == analysis.windows((2, 17), 2)
    assert all(all(lo < row <= hi for row in rows) for (lo, hi), rows in windowed)
    assert sum(len(rows) for _, rows in windowed) == 15

    # The same list analysed again in one window: the same devices, groups and counts.
    monkeypatch.setattr(analysis, "WHOLE_LIST_ROWS", 1_000_000)
    application = await Application.get(id=application_id)
    application.status = ApplicationStatus.IN_ANALYSIS
    await application.save()
    windowed.clear()
    await analysis.analyse(application_id, application.analysis_run)
    assert len(windowed) == 1
    assert await _seen(client, user, application_id) == in_windows


async def test_the_windows_lookups_run_in_turn(client, monkeypatch):
    """One window's lookups at a time on SQLite (they share one connection); on PostgreSQL
    two windows' at most: a window's begin once the window two before has its answers.
    The registers and the other lists in progress, fewer IMEIs than a window has rows, are
    probed once for all windows."""
    _, application_id, _ = await messy_list_in_analysis(client)
    _in_windows_of(monkeypatch, 4)
    running, most, asked = 0, 0, []

    def counted(name: str, read: Any) -> Any:
        async def reading(self: AnalysisContext, *args: Any, **kwargs: Any) -> Any:
            nonlocal running, most
            running += 1
            most = max(most, running)
            asked.append((self.window, name))
            try:
                return await read(self, *args, **kwargs)
            finally:
                running -= 1

        return reading

    # A register smaller than the window is read from its side (`_staged_from_small`),
    # and so are the other lists in progress (`_pending_from_others`).
    small, pending = "_staged_from_small", "_pending_from_others"
    for name in ("_repeated_staged", "_staged", small, pending):
        monkeypatch.setattr(AnalysisContext, name, counted(name, getattr(AnalysisContext, name)))
    assert await jobs.drain() == 1
    # The repeated IMEIs a window; the whitelist, the held IMEIs, the blacklist and the
    # other lists once, by the window that asks first.
    windows = analysis.windows((2, 17), 4)
    own = [window for window, name in asked if name not in (small, pending)]
    assert sorted(own, key=windows.index) == windows
    assert sorted(name for _, name in asked if name in (small, pending)) == [pending, *[small] * 3]
    if bulk.is_postgres(bulk.current()):
        assert most == 2
        at = {window: [i for i, (w, _) in enumerate(asked) if w == window] for window in windows}
        assert all(max(at[a]) < min(at[b]) for a, b in zip(windows, windows[2:], strict=False))
    else:
        assert most == 1
        first = windows[0]
        assert asked == [(first, "_repeated_staged"), *[(first, small)] * 3, (first, pending)] + [
            (window, "_repeated_staged") for window in windows[1:]
        ]
    assert (await Application.get(id=application_id)).failed_device_count == 11


async def test_a_run_superseded_between_windows_writes_nothing_more(client, monkeypatch):
    user, application_id, _ = await messy_list_in_analysis(client)
    _in_windows_of(monkeypatch, 4)  # rows (1, 5], (5, 9], (9, 13], (13, 17]
    real_load = analysis.load_devices
    loads = 0

    async def load_devices(application_id: int, window: Any = None, *rest: Any) -> Any:
        nonlocal loads
        loads += 1
        # The first window is stored (the second is being stored while the third is
        # loaded): a new run is queued meanwhile.
        if loads == 3:
            application = await Application.get(id=application_id)
            await Application.filter(id=application_id).update(
                analysis_run=application.analysis_run + 1
            )
        return await real_load(application_id, window, *rest)

    monkeypatch.setattr(analysis, "load_devices", load_devices)
    assert await jobs.drain() == 1
    application = await Application.get(id=application_id)
    assert application.status == ApplicationStatus.IN_ANALYSIS  # left to the new run
    assert application.passed_device_count is None  # never marked analysed
    rows = set(
        await DeviceFailure.filter(application_id=application_id).values_list(
            "row_number", flat=True
        )
    )
    assert rows and max(rows) <= 9  # no reasons of the windows after
    devices, _ = await all_devices(client, user, application_id)
    assert all(d["passed"] is None for d in devices)  # and nobody reads them as results


async def test_a_window_that_cannot_be_written_fails_the_run_and_the_next_finishes_it(
    client, monkeypatch
):
    user, application_id, expected = await messy_list_in_analysis(client)
    _in_windows_of(monkeypatch, 4)
    real_store = analysis._store_window
    stores = 0

    async def store(*args: Any) -> bool:
        nonlocal stores
        stores += 1
        if stores == 2:
            raise ConnectionError("the database went away")
        return await real_store(*args)

    monkeypatch.setattr(analysis, "_store_window", store)
    clock.freeze(clock.now())
    assert await jobs.drain() == 1  # attempted; it fails and is tried again later
    application = await Application.get(id=application_id)
    assert application.status == ApplicationStatus.IN_ANALYSIS
    assert application.passed_device_count is None
    devices, _ = await all_devices(client, user, application_id)
    assert all(d["passed"] is None for d in devices)

    clock.advance(timedelta(minutes=10))
    assert await jobs.drain() == 1
    devices, _ = await all_devices(client, user, application_id)
    assert {d["rowNumber"]: [r["code"] for r in d["reasons"]] for d in devices} == expected
    assert (await Application.get(id=application_id)).failed_device_count == 11


async def test_the_in_memory_passes_over_slices_of_devices_read_as_one(client, monkeypatch):
    """The in-memory passes over all IMEIs (check digits, devices holding what a lookup
    found) go a slice of devices at a time: slices of two devices, whose
    IMEIs end mid-list, find the same devices, reasons and positions as one slice."""
    from resolvers.applications import checks

    user, application_id, expected = await messy_list_in_analysis(client)
    monkeypatch.setattr(checks, "_SLICE", 2)
    assert await jobs.drain() == 1
    sliced = await _seen(client, user, application_id)
    assert {d["rowNumber"]: [r["code"] for r in d["reasons"]] for d in sliced[0]} == expected
    monkeypatch.setattr(checks, "_SLICE", 1_000)
    application = await Application.get(id=application_id)
    application.status = ApplicationStatus.IN_ANALYSIS
    await application.save()
    await analysis.analyse(application_id, application.analysis_run)
    assert await _seen(client, user, application_id) == sliced


async def test_a_window_is_looked_up_in_the_imei_columns_its_list_fills(client, monkeypatch):
    """A window of a long list is looked up in a big table a part per IMEI column, and
    only in the columns the list fills (the most IMEIs one of its devices has, kept when
    the list is staged): a fourth IMEI on the whitelist is found, a list of single IMEIs
    reads its first column alone, and a list staged before the count was kept reads all."""
    await make_world()
    ids = await seed_registry()
    # More whitelist entries than a window has rows: probed from the list's side.
    extra = [imei(SAMSUNG + f"3000{n:02d}") for n in range(3)]
    await whitelist(*extra, brand="SAMSUNG", model="SM-G9359")
    user, supervisor = await login(client, "a.user"), await login(client, "a.super")
    wide_rows = [
        ("APPLE", "A2403", *(imei(APPLE + f"20000{n}") for n in (1, 2, 3)), ids["registered"]),
        ("SAMSUNG", "SM-G9359", imei(SAMSUNG + "200004")),
        ("SAMSUNG", "SM-G9359", imei(SAMSUNG + "200005")),
        ("APPLE", "A2403", imei(APPLE + "200006"), imei(APPLE + "200007")),
    ]
    narrow_rows = [
        ("SAMSUNG", "SM-G9359", imei(SAMSUNG + "200008")),
        ("SAMSUNG", "SM-G9359", extra[0]),
        ("SAMSUNG", "SM-G9359", imei(SAMSUNG + "200009")),
    ]
    wide, narrow = await create_draft(client, user), await create_draft(client, user)
    for application_id, rows in ((wide, wide_rows), (narrow, narrow_rows)):
        body = await upload(client, user, application_id, xlsx(rows))
        assert body["data"]["uploadDeviceList"]["errors"] == []
    assert (await Application.get(id=wide)).widest_device == 4
    assert (await Application.get(id=narrow)).widest_device == 1

    _in_windows_of(monkeypatch, 2)
    parts: dict[int, list[int]] = {wide: [], narrow: []}
    real_select = bulk.select_packed

    async def select_packed(sql: str, params: Any, *args: Any, **kwargs: Any) -> Any:
        if "whitelist_entry" in sql and "d.imei1 IS NOT NULL" in sql:
            parts[params[0]].append(sql.count("SELECT d.row_number"))
        return await real_select(sql, params, *args, **kwargs)

    monkeypatch.setattr(bulk, "select_packed", select_packed)

    async def analysed(application_id: int) -> dict[int, list[str]]:
        await gql(client, TO_ANALYSIS, {"id": application_id}, token=supervisor)
        assert await jobs.drain() == 1
        devices, _ = await all_devices(client, user, application_id)
        return {d["rowNumber"]: [r["code"] for r in d["reasons"]] for d in devices}

    for application_id in (wide, narrow):
        await attach_documents(client, user, application_id)
        await gql(client, SUBMIT, {"id": application_id}, token=user)
    assert "ALREADY_REGISTERED" in (await analysed(wide))[2]
    assert parts[wide] == [4, 4]  # two windows, four columns each
    seen = await analysed(narrow)
    assert seen == {2: [], 3: ["ALREADY_REGISTERED"], 4: []}
    assert parts[narrow] == [1, 1]

    # Staged before the count was kept: every column is read, to the same results.
    parts[narrow].clear()
    await Application.filter(id=narrow).update(
        widest_device=None, status=ApplicationStatus.IN_ANALYSIS
    )
    application = await Application.get(id=narrow)
    await analysis.analyse(narrow, application.analysis_run)
    devices, _ = await all_devices(client, user, narrow)
    assert {d["rowNumber"]: [r["code"] for r in d["reasons"]] for d in devices} == seen
    assert parts[narrow] == [4, 4]
