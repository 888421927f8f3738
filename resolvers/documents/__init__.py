"""PDF documents in Turkish: the base layout and the renderer.

Build HTML with :func:`render_document` (escaping user text with :func:`escape` or
:func:`table_html`), then turn it into PDF bytes with ``await render_pdf(html)``.
"""

from resolvers.documents.layout import (
    DEFAULT_ISSUER,
    escape,
    format_count,
    format_date,
    format_moment,
    regulator_zone,
    render_document,
    table_html,
    upper_tr,
)
from resolvers.documents.pdf import (
    PdfRenderError,
    render_pdf,
    render_pdf_sync,
    shutdown_renderer,
    start_renderer,
)

__all__ = [
    "DEFAULT_ISSUER",
    "PdfRenderError",
    "escape",
    "format_count",
    "format_date",
    "format_moment",
    "regulator_zone",
    "render_document",
    "render_pdf",
    "render_pdf_sync",
    "shutdown_renderer",
    "start_renderer",
    "table_html",
    "upper_tr",
]
