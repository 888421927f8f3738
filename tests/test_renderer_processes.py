"""The PDF renderer's processes die with the process that started them, however it dies:
SIGKILL (the OOM killer) leaves no orphan, Ctrl-C and SIGTERM stop them cleanly."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# A stand-in for a gateway process: starts the renderer pool, says which processes it
# started, then serves until a signal ends it (SIGTERM: the app's shutdown path).
HOST = """
import asyncio, os, signal, sys
from pathlib import Path
from resolvers.documents import render_pdf, shutdown_renderer, start_renderer

def children():
    me, found = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == me:
                    found.append(entry.name)
            except (OSError, IndexError, ValueError):
                pass
    return found

async def main():
    await start_renderer()
    assert (await render_pdf("<p>ğüşıöç</p>")).startswith(b"%PDF-")
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print(" ".join(children()), flush=True)
    await stop.wait()
    shutdown_renderer()
    print("stopped", flush=True)

try:
    asyncio.run(main())
except KeyboardInterrupt:
    shutdown_renderer()
    print("interrupted", flush=True)
"""

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")


@contextlib.contextmanager
def renderer_host() -> Iterator[tuple[subprocess.Popen[str], list[int]]]:
    """The host process and the processes it started; none of them outlives the test."""
    host = subprocess.Popen(
        [sys.executable, "-c", HOST],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    children: list[int] = []
    try:
        assert host.stdout is not None
        line = host.stdout.readline()  # blocks until the renderer runs (or the host died)
        children = [int(pid) for pid in line.split()]
        assert children, host.stderr.read() if host.stderr else "no renderer started"
        yield host, children
    finally:
        if host.poll() is None:
            host.kill()
        for pid in children:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie is dead, only not yet reaped by its (new) parent


def ignores_sigint(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    ignored = int(
        next(line for line in status.splitlines() if line.startswith("SigIgn:")).split()[1], 16
    )
    return bool(ignored & (1 << (signal.SIGINT - 1)))


def wait_until_gone(pids: list[int], seconds: float = 60.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = [pid for pid in pids if alive(pid)]
        if not left:
            return []
        time.sleep(0.2)
    return [pid for pid in pids if alive(pid)]


def test_renderer_processes_die_with_a_gateway_killed_by_sigkill():
    with renderer_host() as (host, children):
        assert all(alive(pid) for pid in children)
        os.kill(host.pid, signal.SIGKILL)  # no handler, no atexit: only the kernel knows
        host.wait(timeout=30)
        assert wait_until_gone(children) == []


@pytest.mark.parametrize(
    ("signum", "group", "said"),
    [(signal.SIGTERM, False, "stopped"), (signal.SIGINT, True, "interrupted")],
    ids=["sigterm", "ctrl-c"],
)
def test_sigterm_and_ctrl_c_stop_the_renderer_cleanly(signum, group, said):
    with renderer_host() as (host, children):
        # Ctrl-C reaches the whole foreground group: the workers ignore it and leave the
        # shutdown to their parent, which stops them in order.
        if group:
            # A worker still starting (the pool hands out tasks before every worker has run
            # its initializer) would die of the interrupt: wait until all of them ignore it.
            deadline = time.monotonic() + 60
            while not all(ignores_sigint(pid) for pid in children):
                assert time.monotonic() < deadline, "renderer processes never ignored SIGINT"
                time.sleep(0.1)
            os.killpg(host.pid, signum)
        else:
            os.kill(host.pid, signum)
        out, err = host.communicate(timeout=60)
        assert said in out
        assert host.returncode == 0, err
        assert "Traceback" not in err  # no worker died of the interrupt mid-task
        assert wait_until_gone(children) == []
