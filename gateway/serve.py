"""Serving the app: one uvicorn process, or several behind one port.

Several processes are how the gateway uses more than one core (operators' checks are CPU
bound in Python). uvicorn's own `--workers` shares one listening socket, and a burst of new
connections goes to whichever process wakes first: 50 operator connections opened together
were measured split 44/6, so one process queued while the other idled. Here each process
gets its own socket bound with SO_REUSEPORT to the same address, and the kernel spreads new
connections across them. The sockets are opened by this supervisor and handed down, so a
process that dies is replaced on the same socket and the connections that arrive meanwhile
wait in its backlog instead of being refused.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

import uvicorn

from resolvers.settings import Settings, get_settings

log = logging.getLogger("mcks.serve")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

BACKLOG = 2048
# uvicorn's exit code for a server that never started (bad configuration, the database
# unreachable): restarting it would fail the same way.
STARTUP_FAILURE = 3
# How long a process that was never ready may take to get ready before it is replaced.
STARTUP_GRACE_SECONDS = 120.0


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    log_level: str
    access_log: bool
    # A process not ready (database through its pool) this long is replaced; 0 = never.
    unready_restart_seconds: float = 0.0
    log_format: str = "text"


def uvicorn_config(options: ServeOptions) -> uvicorn.Config:
    return uvicorn.Config(
        "gateway.app:create_app",
        factory=True,
        host=options.host,
        port=options.port,
        proxy_headers=False,  # our middleware decides whom to believe (MCKS_TRUSTED_PROXIES)
        log_level=options.log_level.lower(),
        # The access log is ours (gateway.observability: actor, operation, duration, JSON).
        access_log=False,
        # Logging is ours (gateway.logs): uvicorn must not replace the handlers.
        log_config=None,
        # A WebSocket frame is one protocol message: subscriptions are small documents.
        ws_max_size=get_settings().ws_max_message_bytes,
        # No permessage-deflate: a feed page goes to every subscriber, and compressing it once
        # per socket would cost more CPU than the whole fan-out.
        ws_per_message_deflate=False,
    )


def serve(options: ServeOptions, workers: int) -> int:
    # One process runs under the supervisor too when it must be replaced once wedged.
    if workers <= 1 and options.unready_restart_seconds <= 0:
        server = uvicorn.Server(uvicorn_config(options))
        server.run()
        return 0 if server.started else STARTUP_FAILURE
    return Supervisor(options, workers).run()


def listening_socket(host: str, port: int, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock


def _child(options: ServeOptions, sock: socket.socket, supervisor: int, beat: Any) -> None:
    from gateway import readiness
    from gateway.logs import configure_logging

    configure_logging(options.log_level, options.log_format)
    threading.Thread(target=_follow_supervisor, args=(supervisor,), daemon=True).start()
    readiness.BEAT = beat  # the app beats it while ready (gateway.readiness)
    server = uvicorn.Server(uvicorn_config(options))
    server.run(sockets=[sock])
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def _follow_supervisor(supervisor: int) -> None:
    """A supervisor killed outright (SIGKILL, OOM) cannot stop its processes: each one
    notices it is orphaned and shuts itself down gracefully."""
    while os.getppid() == supervisor:
        time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGTERM)


class Supervisor:
    def __init__(self, options: ServeOptions, workers: int) -> None:
        self.options = options
        self.workers = workers
        self.stopping = False
        self.context = multiprocessing.get_context("spawn")
        # Linux balances connections across SO_REUSEPORT sockets; elsewhere the processes
        # share one socket, as uvicorn's own workers do.
        balanced = sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")
        first = listening_socket(options.host, options.port, reuse_port=balanced)
        port = first.getsockname()[1]  # the real port when 0 was asked for
        self.sockets = [first] + [
            listening_socket(options.host, port, reuse_port=True) if balanced else first
            for _ in range(workers - 1)
        ]
        self.processes: list[BaseProcess | None] = [None] * workers
        # Each process's last ready moment (time.monotonic, shared memory).
        self.beats = [self.context.Value("d", 0.0, lock=False) for _ in range(workers)]
        self.started_at = [0.0] * workers
        self.served = False  # some process was ready once: later startup failures are retried
        self.failures = [0] * workers
        self.next_start = [0.0] * workers

    def _start(self, index: int) -> None:
        # Counted from the start: a process that never gets ready is replaced as well.
        self.started_at[index] = self.beats[index].value = time.monotonic()
        process = self.context.Process(
            target=_child,
            args=(self.options, self.sockets[index], os.getpid(), self.beats[index]),
            name=f"mcks-serve-{index}",
        )
        process.start()
        self.processes[index] = process
        log.info("server process %s started (pid %s)", index, process.pid)

    def _watch_readiness(self, index: int, process: BaseProcess) -> None:
        limit = self.options.unready_restart_seconds
        last = self.beats[index].value
        if process.pid is None or limit <= 0:
            return
        if last > self.started_at[index]:
            self.served = True
            self.failures[index] = 0
        else:
            # Not ready yet since it started: starting (imports, the pool) takes a while on a
            # loaded machine, and a start that fails exits by itself.
            limit = max(limit, STARTUP_GRACE_SECONDS)
        unready = time.monotonic() - last
        if unready > limit:
            log.error(
                "server process %s (pid %s) not ready for %.0f s: replacing it",
                index,
                process.pid,
                unready,
            )
            # A wedged process cannot finish its requests: graceful shutdown would hang.
            process.kill()
            process.join(10)

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def run(self) -> int:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._stop)
        with metrics_directory():
            return self._run()

    def _run(self) -> int:
        for index in range(self.workers):
            self._start(index)
        failed = False
        while not self.stopping:
            time.sleep(0.5)
            for index, process in enumerate(self.processes):
                if process is None or self.stopping:
                    continue
                if process.is_alive():
                    self._watch_readiness(index, process)
                    continue
                if process.exitcode == STARTUP_FAILURE and not self.served:
                    log.error("server process %s failed at startup: stopping", index)
                    failed = True
                    self.stopping = True
                    break
                _process_dead(process)
                if process.exitcode == STARTUP_FAILURE:
                    # It served before, so the database went away since: retry, slower each time.
                    if not self.next_start[index]:
                        self.failures[index] += 1
                        delay = min(2.0 ** self.failures[index], 30.0)
                        self.next_start[index] = time.monotonic() + delay
                        log.error("server process %s cannot start: retry in %.0f s", index, delay)
                    if time.monotonic() < self.next_start[index]:
                        continue
                    self.next_start[index] = 0.0
                else:
                    log.error(
                        "server process %s died (exit %s): restarting", index, process.exitcode
                    )
                self._start(index)
        self._shutdown()
        return 1 if failed else 0

    def _shutdown(self) -> None:
        alive = [p for p in self.processes if p is not None and p.is_alive()]
        for process in alive:
            process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        deadline = time.monotonic() + 30
        for process in alive:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        for stopped in self.processes:
            if stopped is not None:
                _process_dead(stopped)
        for sock in {id(s): s for s in self.sockets}.values():
            sock.close()


@contextlib.contextmanager
def metrics_directory() -> Iterator[None]:
    """prometheus-client's multi-process mode for the processes about to be spawned: each
    writes its counters to files in a fresh directory (the variable is read when a process
    imports prometheus_client, so it is set before they start); removed when serving ends."""
    if os.environ.get(MULTIPROC_ENV):
        yield  # an operator chose the directory: theirs to manage
        return
    with tempfile.TemporaryDirectory(prefix="mcks-metrics-") as directory:
        os.environ[MULTIPROC_ENV] = directory
        try:
            yield
        finally:
            del os.environ[MULTIPROC_ENV]


def _process_dead(process: BaseProcess) -> None:
    """A dead process's gauges must not be summed any more (its counters stay counted)."""
    if process.pid is not None and os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(process.pid)


def options_from(settings: Settings, host: str | None, port: int | None) -> ServeOptions:
    return ServeOptions(
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level,
        access_log=settings.access_log,
        unready_restart_seconds=settings.unready_restart_seconds,
        log_format=settings.log_format,
    )
