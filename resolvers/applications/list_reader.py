"""Reading an uploaded device list while it is staged: batches of plain row tuples.

Parsing a million rows is about five seconds of pure Python. A small file is read in a
thread of this process; a bigger one in a process of its own, so the parsing runs on another
core and leaves this process's interpreter to the database driver and to the requests it
serves meanwhile. Rows cross as tuples (a hundredth of the pickling cost of row objects);
either way the queue between reader and stager is bounded, so memory stays flat.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import queue
import signal
import sys
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from resolvers.device_files import (
    DeviceFileError,
    DeviceFileErrorCode,
    DeviceFileLimits,
    Ek2Block,
    FileIssue,
    ImeiNote,
    ShortNumber,
    read_device_file,
)

BATCH = 5000
# Files from this size on are read in a process (about 15,000 rows of .xlsx, 7,000 of CSV):
# forked from the preloaded fork server it starts in milliseconds. Measured by the bench
# (upload of 20,000 / 50,000 / 100,000 xlsx rows): 0.5 / 1.2 / 2.4 s against 0.6 / 1.3-1.6
# / 2.7 s in a thread, and a third less of this process's CPU, which the requests it serves
# meanwhile share. At 10,000 rows the two are even.
PROCESS_MIN_BYTES = 256 * 1024
_QUEUED_BATCHES = 8
READER_NICENESS = 10
_PUT_WAIT = 0.5  # seconds a blocked reader waits before it looks whether to give up

#: row number, brand, model, IMEIs, notes, short numbers: what staging needs of a device
#: row (the row's own warnings are tallied in `Parsed`); the last two are empty, and cost
#: next to nothing to pickle, on all but messy rows.
Row = tuple[int, str, str, tuple[str, ...], tuple[ImeiNote, ...], tuple[ShortNumber, ...]]


_Context = multiprocessing.context.SpawnContext | multiprocessing.context.ForkServerContext


@dataclass(frozen=True)
class Parsed:
    """What the reader reports once every row is read."""

    issues: list[FileIssue]
    issue_count: int
    warnings: list[FileIssue]
    warning_count: int
    ek2_blocks: list[Ek2Block]


def _produce(
    path: str,
    filename: str,
    limits: DeviceFileLimits,
    put: Callable[[tuple[str, Any]], None],
    stopped: Callable[[], bool],
) -> None:
    """Read the file, handing on ("rows", batch)…, ("parsed", Parsed) or ("error", error),
    then ("done", None)."""
    try:
        with read_device_file(path, filename=filename, limits=limits) as device_file:
            batch: list[Row] = []
            for row in device_file.rows:
                batch.append(
                    (row.row_number, row.brand, row.model, row.imeis, row.notes, row.short_numbers)
                )
                if len(batch) >= BATCH:
                    # Once a batch, not once a row: a process's Event is a semaphore, and
                    # asking it a million times was a fifth of the reader's time.
                    if stopped():
                        return
                    put(("rows", batch))
                    batch = []
            if stopped():
                return
            if batch:
                put(("rows", batch))
            put(
                (
                    "parsed",
                    Parsed(
                        device_file.issues,
                        device_file.issue_count,
                        device_file.warnings,
                        device_file.warning_count,
                        device_file.ek2_blocks,
                    ),
                )
            )
    except BaseException as error:  # raised again on the stager's side
        put(("error", error))
    finally:
        put(("done", None))


async def read_rows(
    path: Path, size: int, filename: str, limits: DeviceFileLimits
) -> AsyncGenerator[list[Row] | Parsed, None]:
    """Batches of rows of the file at `path` (`size` bytes) in file order, then the
    `Parsed` tally; raises what reading raised (`DeviceFileError` for a refused file)."""
    reader = _in_process if size >= PROCESS_MIN_BYTES else _in_thread
    async for item in reader(str(path), filename, limits):
        yield item


class ReadAhead:
    """`read_rows` started at once: its first batch is read while the caller does other
    work (an .xlsx is parsed whole before its first row: 2 s for a million rows, while a
    replaced list of that size takes 1.5 s to delete), then the rest as they come.
    `aclose` stops the reader wherever it is."""

    def __init__(self, rows: AsyncGenerator[list[Row] | Parsed, None]) -> None:
        self._rows = rows
        self._first: asyncio.Future[list[Row] | Parsed] = asyncio.ensure_future(anext(rows))

    async def __aiter__(self) -> AsyncIterator[list[Row] | Parsed]:
        try:
            first = await self._first
        except StopAsyncIteration:
            return
        yield first
        async for item in self._rows:
            yield item

    async def aclose(self) -> None:
        if not self._first.done():
            self._first.cancel()  # the reader's own clean-up runs in the cancelled step
        with contextlib.suppress(BaseException):
            await self._first  # taken: what it raised was seen, or was no longer wanted
        with contextlib.suppress(RuntimeError):  # still running: the cancel stops it
            await self._rows.aclose()


async def _in_thread(
    path: str, filename: str, limits: DeviceFileLimits
) -> AsyncIterator[list[Row] | Parsed]:
    out: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=_QUEUED_BATCHES)
    stop = threading.Event()
    thread = threading.Thread(
        target=_produce, args=(path, filename, limits, out.put, stop.is_set), daemon=True
    )
    thread.start()
    try:
        while True:
            kind, value = await asyncio.to_thread(out.get)
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        while thread.is_alive():  # drain so a blocked reader can see `stop` and finish
            try:
                out.get_nowait()
            except queue.Empty:
                await asyncio.sleep(0.01)


def _child(path: str, filename: str, limits: DeviceFileLimits, out: Any, stop: Any) -> None:
    """The reader process: deaf to Ctrl-C (the server stops it), gone when the server is."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Batch work: where cores are short, the server's requests go first (a reader forked
    # from the fork server has its niceness already).
    with contextlib.suppress(OSError):
        os.nice(max(0, READER_NICENESS - os.nice(0)))
    parent = os.getppid()

    def stopped() -> bool:
        return bool(stop.is_set()) or os.getppid() != parent

    def put(item: tuple[str, Any]) -> None:
        kind, value = item
        if kind == "error":
            item = ("error", _portable(value))
        while not stopped():
            try:
                out.put(item, timeout=_PUT_WAIT)
                return
            except queue.Full:
                continue

    _produce(path, filename, limits, put, stopped)


def _portable(error: BaseException) -> tuple[str, Any]:
    """An error as plain values (DeviceFileError's own arguments do not pickle back)."""
    if isinstance(error, DeviceFileError):
        return ("refused", (error.code.value, error.message_tr, error.message_en, error.row,
                            error.column))  # fmt: skip
    return ("failed", f"{type(error).__name__}: {error}")


def _raised(portable: tuple[str, Any]) -> BaseException:
    kind, value = portable
    if kind == "refused":
        code, message_tr, message_en, row, column = value
        return DeviceFileError(DeviceFileErrorCode(code), message_tr, message_en, row, column)
    return RuntimeError(f"the device list reader failed: {value}")


def _context() -> _Context:
    """Where reader processes come from: a fork server, which forks each from a process
    that has already imported what a reader needs, and `__main__`.

    Not fork: this process has threads (asyncio, database drivers), and forking a process
    with threads can copy a lock mid-acquire into the child. Not spawn, but where there is
    no fork server: a spawned child imports `__main__` again before it starts, and the
    server's `__main__` (`mcks serve`) imports the whole gateway (about 2 s, on every
    upload of a big list). The server starts the fork server while it starts
    (`start_reader_server`); otherwise the first big upload does."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    with _starting:
        context = multiprocessing.get_context("forkserver")
        if not _fork_server.is_set():
            _start_fork_server(context)
    return context


_starting = threading.Lock()
_fork_server = threading.Event()  # started (by whichever thread asked first)


def _start_fork_server(context: _Context) -> None:
    from multiprocessing import forkserver

    from resolvers.applications import reader_preload

    context.set_forkserver_preload([__name__, reader_preload.__name__])
    main_path = getattr(sys.modules["__main__"], "__file__", None)
    if main_path:
        os.environ[reader_preload.MAIN_PATH_VARIABLE] = os.path.abspath(main_path)
    try:
        forkserver.ensure_running()  # it inherits the environment as it is now
    finally:
        os.environ.pop(reader_preload.MAIN_PATH_VARIABLE, None)
    _fork_server.set()


def start_reader_server() -> None:
    """Start the fork server of the reader processes now, not on the first big upload
    (it returns once the server answers, not once its imports are done)."""
    _context()


async def _in_process(
    path: str, filename: str, limits: DeviceFileLimits
) -> AsyncIterator[list[Row] | Parsed]:
    context = _context()
    out = context.Queue(maxsize=_QUEUED_BATCHES)
    stop = context.Event()
    child = context.Process(target=_child, args=(path, filename, limits, out, stop), daemon=True)
    child.start()
    try:
        while True:
            kind, value = await asyncio.to_thread(_next, out, child)
            if kind == "done":
                return
            if kind == "error":
                raise _raised(value)
            yield value
    finally:
        stop.set()
        # Drain while it stops: a child whose queue is full cannot flush it and exit.
        for _ in range(500):
            if not child.is_alive():
                break
            try:
                out.get_nowait()
            except queue.Empty:
                await asyncio.sleep(0.01)
        if child.is_alive():
            child.kill()
        await asyncio.to_thread(child.join)
        out.close()


def _next(out: Any, child: Any) -> tuple[str, Any]:
    while True:
        try:
            return out.get(timeout=1)  # type: ignore[no-any-return]
        except queue.Empty:
            if not child.is_alive():  # killed (out of memory, a signal): no "done" comes
                try:
                    return out.get_nowait()  # type: ignore[no-any-return]
                except queue.Empty:
                    return ("error", ("failed", f"exit code {child.exitcode}"))
