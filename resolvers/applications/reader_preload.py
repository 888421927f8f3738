"""Imported only by the fork server of the device-list readers (`list_reader._context`):
the server's `__main__` (the `mcks` script, which imports the whole gateway), loaded once
there so that the reader processes forked from it need not import it again.

This is what `set_forkserver_preload(["__main__"])` should do, but on Python 3.11 the
fork server never receives the main module's path (CPython gh-126631 / gh-137996, fixed
in 3.13): every forked reader re-ran `mcks` and imported the gateway, about 2 s before it
read a cell. The path comes in the environment the fork server started with.
"""

from __future__ import annotations

import contextlib
import os
from multiprocessing import current_process, spawn

from resolvers.applications.list_reader import READER_NICENESS

MAIN_PATH_VARIABLE = "MCKS_READER_SERVER_MAIN"

_path = os.environ.pop(MAIN_PATH_VARIABLE, None)
if _path:  # in the fork server only: the server sets it for the fork server's start
    # Batch work, as the readers are (they inherit it): the imports yield to requests.
    with contextlib.suppress(OSError):
        os.nice(READER_NICENESS)
    # As the fork server's own preloading does: the module runs as `__mp_main__`, and
    # knows it is being imported for a child, not run.
    current_process()._inheriting = True  # type: ignore[attr-defined]
    try:
        spawn.import_main_path(_path)
    except Exception:  # each reader then imports it itself, as spawned ones do
        pass
    finally:
        del current_process()._inheriting  # type: ignore[attr-defined]
