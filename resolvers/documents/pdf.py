"""HTML → PDF rendering with an embedded Turkish-complete font.

Why this module exists rather than calling xhtml2pdf directly:

* The PDF base-14 fonts (Helvetica, Times, Courier) have no ğ ş ı İ, so every document must
  embed a TrueType family. DejaVu Sans ships in ``fonts/`` (four faces, Bitstream Vera/Arev
  licence in ``fonts/LICENSE.txt``) so a fresh machine needs nothing from apt.
* xhtml2pdf 0.2.28 confines local reads to a resource policy; the font directory is its only
  allowed root and the network is off, so user text that slips into the markup cannot make the
  renderer read files or fetch URLs.
* xhtml2pdf reports problems (a font it could not read, a glyph no font has, a broken table) as
  warnings and still writes a PDF. An official document with blank letters is worse than no
  document, so every reported problem raises :class:`PdfRenderError`.
* ReportLab keeps fonts and caches in module globals and is not thread-safe; xhtml2pdf takes a
  process-wide lock, so threads would only queue behind each other while holding the GIL. The
  async entry point therefore renders in a small pool of worker processes: the event loop stays
  responsive and two documents really do render at once on a 2-core machine.
"""

from __future__ import annotations

import asyncio
import ctypes
import io
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus.tables import CellStyle
from xhtml2pdf import pisa
from xhtml2pdf.config.resources import ResourceAccessPolicy
from xhtml2pdf.default import DEFAULT_CSS, DEFAULT_FONT

from resolvers.documents.seal import SignRequest, sign_pdf_sync

__all__ = [
    "FONT_DIR",
    "FONT_FAMILY",
    "FONT_FILES",
    "PdfRenderError",
    "render_pdf",
    "render_pdf_sync",
    "shutdown_renderer",
    "start_renderer",
]

FONT_DIR: Final[Path] = Path(__file__).resolve().parent / "fonts"

#: The CSS family every element is drawn with.
FONT_FAMILY: Final[str] = "DejaVu Sans"

#: (file, font-weight, font-style) for the four faces. All four are needed: xhtml2pdf silently
#: draws <b>/<i> with the regular face when a weight or style is missing.
FONT_FILES: Final[tuple[tuple[str, str, str], ...]] = (
    ("DejaVuSans.ttf", "normal", "normal"),
    ("DejaVuSans-Bold.ttf", "bold", "normal"),
    ("DejaVuSans-Oblique.ttf", "normal", "italic"),
    ("DejaVuSans-BoldOblique.ttf", "bold", "italic"),
)

#: Every name xhtml2pdf maps to a base-14 text font (Arial, Verdana, sans-serif, Courier New,
#: monospace, ...), registered as an alias of the embedded family, so a stray
#: ``font-family: Arial`` in a template or the default ``<pre>`` font still draws Turkish letters
#: instead of boxes. Symbol and ZapfDingbats stay: xhtml2pdf draws list bullets with them.
#: Style-specific names (helvetica-bold) get the regular face; CSS weight still picks bold.
_FONT_ALIASES: Final[tuple[str, ...]] = tuple(
    name for name, face in DEFAULT_FONT.items() if face not in {"Symbol", "ZapfDingbats"}
)

#: Elements given the family explicitly, so nothing inherits a base-14 default from
#: xhtml2pdf's own stylesheet (which names Helvetica for html and Courier New for pre/code).
_TEXT_ELEMENTS: Final[str] = (
    "html, body, div, span, p, a, b, strong, i, em, u, s, small, big, sub, sup, "
    "h1, h2, h3, h4, h5, h6, table, thead, tbody, tfoot, tr, th, td, caption, "
    "ul, ol, li, dl, dt, dd, blockquote, address, pre, code, kbd, samp, tt, label"
)

#: Render workers, one per core up to four. Each is ~72 MB resident with the fonts loaded; on
#: the project's 2-core machines that is two workers.
_WORKERS: Final[int] = max(1, min(4, os.cpu_count() or 1))


class PdfRenderError(RuntimeError):
    """xhtml2pdf could not render the document, or reported a problem with it.

    ``problems`` holds xhtml2pdf's own messages. The arguments are kept in ``args`` so the error
    survives being pickled back from a worker process.
    """

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message, problems)
        self.message = message
        self.problems = problems

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        return self.message + ":\n- " + "\n- ".join(self.problems)


def _font_face_css() -> str:
    rules = []
    families = ", ".join(f'"{name}"' for name in (FONT_FAMILY, *_FONT_ALIASES))
    for file_name, weight, style in FONT_FILES:
        path = FONT_DIR / file_name
        # A quote or backslash in the install path would end the CSS string early.
        if any(char in str(path) for char in '"\\\n'):
            raise RuntimeError(f"font path cannot be written into CSS: {path}")
        rules.append(
            f'@font-face {{ font-family: {families}; src: url("{path}"); '
            f"font-weight: {weight}; font-style: {style}; }}"
        )
    rules.append(f'{_TEXT_ELEMENTS} {{ font-family: "{FONT_FAMILY}"; }}')
    return "\n".join(rules)


#: xhtml2pdf's user-agent sheet plus the fonts. Passed as default_css rather than placed in each
#: document, so any HTML handed to render_pdf gets the fonts, and a document's own <style> still
#: overrides sizes and colours.
_BASE_CSS: Final[str] = DEFAULT_CSS + "\n" + _font_face_css()

#: Local reads only from the font directory, no network at all. server() also turns on
#: xhtml2pdf's limits on document size, nesting depth and render time (60 s).
_POLICY: Final[ResourceAccessPolicy] = ResourceAccessPolicy.server(
    None, extra_roots=(FONT_DIR,), allow_remote=False
)

#: Serializes renders in this process. xhtml2pdf 0.2.28 has a lock of its own, but that is an
#: implementation detail; ReportLab's globals are the reason and this makes it explicit.
_RENDER_LOCK = threading.Lock()

_XHTML2PDF_LOGGER = logging.getLogger("xhtml2pdf")

#: ReportLab starts every page, and every table cell, with "BT /Fn 10 Tf ET" in its default
#: font, Helvetica. No text is drawn with it, but it then sits in the PDF's font list,
#: unembedded, which PDF/A validators and anyone running pdffonts read as "Helvetica is used".
#: A TrueType font as the default writes no such operator, so the PDF lists only DejaVu.
_DEFAULT_FONT: Final[str] = "MCKS-DejaVuSans"


@contextmanager
def _truetype_defaults() -> Iterator[None]:
    """Swap ReportLab's two base-14 defaults for DejaVu for one render.

    Both are process-global, so this only runs under the render lock, and restores them.
    """
    if _DEFAULT_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(_DEFAULT_FONT, str(FONT_DIR / FONT_FILES[0][0])))
    saved = rl_config.canvas_basefontname, CellStyle.fontname
    rl_config.canvas_basefontname = CellStyle.fontname = _DEFAULT_FONT
    try:
        yield
    finally:
        rl_config.canvas_basefontname, CellStyle.fontname = saved


class _ProblemCollector(logging.Handler):
    """Collects xhtml2pdf's warnings and errors raised on one thread during one render.

    Some problems (a resource refused by the policy, a file that failed to read) are only
    logged, never counted on the pisa context, so the logger is the complete record.
    """

    def __init__(self, thread_id: int) -> None:
        super().__init__(level=logging.WARNING)
        self.thread_id = thread_id
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread_id:
            self.messages.append(record.getMessage().strip())


def _render_locked(html: str) -> bytes:
    collector = _ProblemCollector(threading.get_ident())
    _XHTML2PDF_LOGGER.addHandler(collector)
    out = io.BytesIO()
    try:
        with _truetype_defaults():
            context = pisa.pisaDocument(
                html, dest=out, default_css=_BASE_CSS, resource_policy=_POLICY
            )
    except Exception as exc:
        raise PdfRenderError(f"xhtml2pdf failed: {type(exc).__name__}: {exc}") from exc
    finally:
        _XHTML2PDF_LOGGER.removeHandler(collector)

    problems = list(dict.fromkeys(collector.messages))
    if (context.err or context.warn) and not problems:
        # Counted on the context but not logged (e.g. the logger was silenced): use the
        # context's own record, which has the message template and the HTML fragment.
        problems = [f"{mode}: {msg} near {fragment!r}" for mode, _, msg, fragment in context.log]
    if context.err or problems:
        raise PdfRenderError("xhtml2pdf reported problems with the document", tuple(problems))

    pdf = out.getvalue()
    if not pdf.startswith(b"%PDF-") or b"%%EOF" not in pdf[-1024:]:
        raise PdfRenderError("xhtml2pdf returned something that is not a complete PDF")
    return pdf


def render_pdf_sync(html: str) -> bytes:
    """Render ``html`` to PDF bytes in this process, one render at a time.

    For scripts, CLIs and tests. A server should await :func:`render_pdf`, which does not hold
    the event loop's thread for the render: about 30 ms for a one-page letter, 0.4 s for four
    pages of table.

    Raises :class:`PdfRenderError` when xhtml2pdf fails or reports any problem.
    """
    with _RENDER_LOCK:
        return _render_locked(html)


# --- process pool ---------------------------------------------------------------------------

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


_PR_SET_PDEATHSIG: Final[int] = 1


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def die_with_parent(parent: int, pdeathsig: bool) -> None:
    """Make this worker process end when `parent` does, however it ends (SIGKILL, the OOM
    killer): otherwise each killed gateway leaves its ~130 MB renderers running for ever.

    Linux's parent-death signal acts at once, but it fires when the *thread* that started the
    worker ends, so it is only asked for when that was the main thread; a thread watching the
    parent id covers the rest (and other systems) within half a second.
    """
    if pdeathsig and sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(1)  # the parent died before we could ask: no one would stop us
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _warm_worker(parent: int = 0, pdeathsig: bool = False) -> None:
    """Pool initializer: bound to the parent's life, deaf to Ctrl-C (the parent stops the pool
    in order), then parse the fonts once per worker, not on the first real request."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent:
        die_with_parent(parent, pdeathsig)
    render_pdf_sync("<p>Hazır: ğüşıöçİĞÜŞÖÇ <b>b</b> <i>i</i> <b><i>bi</i></b></p>")


def _get_pool() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            # spawn, not fork: the server process has threads (asyncio, DB drivers), and forking
            # a process with threads can copy a lock mid-acquire into the child.
            _pool = ProcessPoolExecutor(
                max_workers=_WORKERS,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_warm_worker,
                initargs=(os.getpid(), threading.current_thread() is threading.main_thread()),
            )
        return _pool


def _discard_pool(broken: ProcessPoolExecutor) -> None:
    global _pool
    with _pool_lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


def _render_job(html: str, sign: SignRequest | None) -> bytes:
    pdf = render_pdf_sync(html)
    return pdf if sign is None else sign_pdf_sync(pdf, sign)


async def render_pdf(html: str, sign: SignRequest | None = None) -> bytes:
    """Render ``html`` to PDF bytes in a worker process; with ``sign``, the same worker then
    signs it (PAdES, `resolvers.documents.seal`).

    Safe to call concurrently: each worker renders one document at a time, up to one worker per
    core. The first call starts the pool (about 0.4 s: a fresh interpreter imports xhtml2pdf and
    parses the fonts); call :func:`start_renderer` at application start-up to pay that before
    the first request.

    Raises :class:`PdfRenderError` when xhtml2pdf fails or reports any problem, or when a worker
    died (the pool is then replaced for the next call).
    """
    pool = _get_pool()
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(pool, _render_job, html, sign)
    except BrokenProcessPool as exc:
        # A worker was killed (out of memory, signal). The executor is unusable from now on, so
        # replace it rather than failing every later render; this document is not retried in
        # case it is what killed the worker.
        _discard_pool(pool)
        raise PdfRenderError("a PDF worker process died or could not start") from exc


async def start_renderer() -> None:
    """Start the worker pool and load the fonts in every worker (for application start-up)."""
    pool = _get_pool()
    loop = asyncio.get_running_loop()
    # One trivial task per worker makes the executor spawn all of them; each runs the
    # initializer (font loading) before taking the task.
    await asyncio.gather(*(loop.run_in_executor(pool, os.getpid) for _ in range(_WORKERS)))


def shutdown_renderer() -> None:
    """Stop the worker processes (application shutdown, end of a test session)."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)
