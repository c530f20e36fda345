"""The report as a PDF: the same HTML document, printed by headless Chromium with a print stylesheet.

The page is the report's own HTML (``render_html`` with plotly.js inlined, so nothing is fetched),
loaded into Debian's Chromium through Playwright. ``PRINT_CSS`` lays it out for A4: the navigation and
the per-year values table and the register's indicator rows (complete in the workbook and the
JSON; the impact per loan table has the same figures) are left out, tables are set small,
their header rows repeat on every page (a ``<thead>`` is a table-header-group) and rows never split;
charts are drawn at the width of the page. Chromium's footer numbers the pages ("3 / 18").

The document's Content-Security-Policy allows only its own scripts and styles by hash, so the print
stylesheet is added with the browser's CSP bypass: the page's scripts are still only its own.

When Chromium (or Playwright) is missing, :class:`PdfUnavailable` says so and how to fix it; the web
answers it with a 503.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path
from typing import Final

DEFAULT_CHROMIUM: Final = "/usr/bin/chromium"
#: how long the charts may take to draw before printing anyway (ms)
_CHART_WAIT_MS: Final = 20_000
#: the charts' heights on paper, as a share of the page's (a row of three charts a third of a page)
_CHART_SCALE: Final = 0.65
#: the printable width of A4 landscape between 10 mm margins, in CSS pixels
_PRINT_WIDTH: Final = 1046

PRINT_CSS: Final = """
@page { size: A4 landscape; margin: 12mm 10mm 14mm 10mm; }
html, body { background: #fff !important; }
body { font-size: 8pt; line-height: 1.25; max-width: none !important; margin: 0 !important;
       padding: 0 !important; }
h1 { font-size: 16pt; margin: 0 0 4pt; }
h2 { font-size: 12pt; margin: 10pt 0 4pt; break-after: avoid; page-break-after: avoid; }
h3 { font-size: 10pt; margin: 8pt 0 3pt; break-after: avoid; page-break-after: avoid; }
p, li, dd, dt { orphans: 3; widows: 3; }
nav, .site-header, .no-print, form, button, #table-impact-values, .downloads,
[data-print="skip"] { display: none !important; }
.charts { display: grid !important; grid-template-columns: repeat(3, minmax(0, 1fr)) !important;
          gap: 4pt 8pt !important; }
.charts > figure, figure { margin: 0 !important; }
.comparison { display: grid; grid-template-columns: minmax(0, 5fr) minmax(0, 6fr); gap: 0 10pt;
              break-inside: avoid; page-break-inside: avoid; }
.comparison > *:not(table):not(figure) { grid-column: 1 / -1; }
.comparison > table { grid-column: 1; }
.comparison > figure { grid-column: 2; grid-row: span 1; }
.table-wrap, .scroll, figure, .table-scroll { overflow: visible !important; max-width: none !important; }
table { border-collapse: collapse; width: 100%; font-size: 6.5pt; page-break-inside: auto; }
/* the register's indicators repeat the impact per loan table's figures: on paper, that table */
.table-wrap:has(> #table-register-indicators) { display: none !important; }
thead { display: table-header-group; }
tfoot { display: table-footer-group; }
tr, td, th { break-inside: avoid; page-break-inside: avoid; }
th, td { padding: 1.5pt 3pt !important; }
details { display: block; }
details > summary { list-style: none; font-weight: bold; }
.chart, .js-plotly-plot { break-inside: avoid; page-break-inside: avoid; }
.modebar, .modebar-container { display: none !important; }
a { color: inherit; text-decoration: none; }
"""

#: Chromium's footer: the page number and the page count, right-aligned
_FOOTER: Final = (
    '<div style="font-size:7pt;width:100%;padding:0 10mm;text-align:right;color:#555">'
    '<span class="pageNumber"></span> / <span class="totalPages"></span></div>'
)
_HEADER: Final = '<div style="font-size:7pt;width:100%;padding:0 10mm;color:#555">{title}</div>'


class PdfUnavailable(RuntimeError):
    """No PDF can be made here: Chromium or Playwright is missing or would not start."""

    def __init__(self, detail: str) -> None:
        message = (
            "The PDF cannot be made: headless Chromium is not available "
            f"({detail}). Install Debian's chromium (apt-get install chromium) or set "
            "LANPORTFOLJ_CHROMIUM to a Chromium executable."
        )
        super().__init__(message)
        self.detail = detail
        self.message_en = message
        self.message_sv = (
            "PDF-filen kan inte skapas: headless Chromium finns inte "
            f"({detail}). Installera Debians chromium (apt-get install chromium) eller ange "
            "LANPORTFOLJ_CHROMIUM som sökväg till en Chromium."
        )


def chromium_path() -> str:
    """The Chromium executable: ``$LANPORTFOLJ_CHROMIUM``, else Debian's."""
    return os.environ.get("LANPORTFOLJ_CHROMIUM") or DEFAULT_CHROMIUM


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


_PDF_DATE: Final = re.compile(rb"/(CreationDate|ModDate) \(D:\d{14}")


def dated(pdf: bytes, day: date) -> bytes:
    """``pdf`` with its creation and modification dates set to ``day`` (midnight): Chromium stamps
    the time of printing, which would make every rendering of the same report different bytes.
    The date keeps its length, so the file's cross-reference offsets stay right."""
    stamp = day.strftime("%Y%m%d").encode() + b"000000"
    return _PDF_DATE.sub(lambda m: b"/" + m.group(1) + b" (D:" + stamp, pdf)


def html_to_pdf(html: str, *, title: str = "", day: date | None = None) -> bytes:
    """The HTML document ``html`` printed to PDF bytes (A4 landscape, page numbers in the footer),
    dated ``day`` when given (see :func:`dated`).

    Raises :class:`PdfUnavailable` when Chromium cannot be started.
    """
    content = _print(html, title)
    return dated(content, day) if day is not None else content


def _print(html: str, title: str) -> bytes:
    executable = chromium_path()
    if not Path(executable).exists():
        raise PdfUnavailable(f"{executable} does not exist")
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - playwright is a dependency
        raise PdfUnavailable(f"Playwright is not installed: {exc}") from None
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=executable, args=["--no-sandbox", "--disable-gpu"]
            )
            try:
                context = browser.new_context(
                    bypass_csp=True, viewport={"width": _PRINT_WIDTH, "height": 740}
                )
                page = context.new_page()
                page.emulate_media(media="print")
                page.set_content(html, wait_until="load")
                page.add_style_tag(content=PRINT_CSS)
                _wait_for_charts(page)
                return page.pdf(
                    format="A4",
                    landscape=True,
                    print_background=True,
                    display_header_footer=True,
                    header_template=_HEADER.format(title=_escape(title)),
                    footer_template=_FOOTER,
                    margin={"top": "14mm", "bottom": "14mm", "left": "10mm", "right": "10mm"},
                )
            finally:
                browser.close()
    except PlaywrightError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "Executable doesn't exist" in str(exc) or "Failed to launch" in str(exc):
            raise PdfUnavailable(first_line) from None
        raise


def _wait_for_charts(page: object) -> None:
    """Until every chart placeholder has its plotly SVG (or the wait runs out), then a resize so
    plotly lays each chart out at the print width."""
    from playwright.sync_api import Page
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    assert isinstance(page, Page)
    try:
        page.wait_for_function(
            """() => {
                const charts = document.querySelectorAll('.plotly-graph-div');
                return Array.from(charts).every(c => c.querySelector('.main-svg'));
            }""",
            timeout=_CHART_WAIT_MS,
        )
    except PlaywrightTimeout:
        return  # print what is drawn rather than nothing
    page.evaluate(
        """(scale) => {
            if (!window.Plotly) return Promise.resolve();
            const done = [];
            for (const c of document.querySelectorAll('.plotly-graph-div')) {
                const height = (c.layout && c.layout.height) || c.offsetHeight || 300;
                c.style.height = '';
                try {
                    done.push(window.Plotly.relayout(c, {
                        autosize: true, height: Math.max(160, Math.round(height * scale)),
                    }));
                } catch (e) {}
            }
            return Promise.all(done);
        }""",
        _CHART_SCALE,
    )
