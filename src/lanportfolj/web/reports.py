"""The bond reports on the web: investors read published reports, analysts preview drafts and publish.

* ``GET /reports``: every bond with its published reports (and, for staff, a draft form);
* ``GET /reports/{isin}/{date}``: the published report page, rendered from its frozen data only;
  ``…/report.html``, ``…/report.xlsx``, ``…/report.pdf``, ``…/register.csv`` (the ICMA project
  register) and ``…/report.json`` are the downloads;
* ``GET /reports/{isin}/draft?date=``: the live draft (staff; investors get 404, they never see
  drafts), with ``format=html|xlsx|json|pdf|register-csv`` for the bare report or a download;
* ``POST /reports/{isin}/publish``: first a confirmation page, then (``confirm=yes``) the publication;
  a date published already is published again only with ``revise=yes`` (a revised version).
"""

from __future__ import annotations

import gzip
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Annotated, Any

import anyio.to_thread
from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException, ServiceUnavailableException
from litestar.params import Body
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from lanportfolj.config import Settings
from lanportfolj.models import Report, SocialBond
from lanportfolj.reporting.pdf import PdfUnavailable
from lanportfolj.services import rendered_reports, reports
from lanportfolj.services.reports import ReportError
from lanportfolj.web.access import CurrentUser, allow
from lanportfolj.web.auth import flash
from lanportfolj.web.downloads import attachment_headers
from lanportfolj.web.i18n import get_language
from lanportfolj.web.i18n import gettext as _
from lanportfolj.web.page_cache import KeptOnce, PageCache
from lanportfolj.web.security import allowed_script_hashes, content_security_policy

log = logging.getLogger(__name__)

READERS = allow("investor", "analyst", "admin")
STAFF = allow("analyst", "admin")
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)


def _settings(request: Request[Any, Any, Any]) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _bond_or_404(db: Session, isin: str) -> SocialBond:
    bond = reports.get_bond(db, isin)
    if bond is None:
        raise NotFoundException("There is no such bond.")
    return bond


def _date_or_404(raw: str) -> date:
    try:
        return reports.parse_report_date(raw)
    except ReportError:
        raise NotFoundException("There is no such report.") from None


#: what the user reads when the server cannot print PDFs (the log has the reason)
NO_PDF = (
    "The PDF cannot be made on this server: headless Chromium is not installed. The other "
    "downloads (XLSX, JSON, CSV) work; ask the administrator to install Debian's chromium."
)


def _no_pdf(exc: PdfUnavailable) -> ServiceUnavailableException:
    log.warning("no PDF: %s", exc.detail)
    return ServiceUnavailableException(detail=NO_PDF)


def _download(content: bytes, fmt: str, filename: str, *, attachment: bool) -> Response[bytes]:
    headers = attachment_headers(filename) if attachment else {}
    return Response(content=content, media_type=reports.FORMATS[fmt], headers=headers)


@get("/reports", opt=READERS, sync_to_thread=True, include_in_schema=False)
def reports_page(db: Session, user: CurrentUser) -> Template:
    """Every bond and its published reports, newest first; staff also get the draft form."""
    bonds = db.exec(select(SocialBond).order_by(col(SocialBond.issue_date))).all()
    published: dict[int, list[Report]] = {}
    for report in db.exec(
        select(Report)
        .where(Report.status == reports.PUBLISHED)
        .order_by(col(Report.reporting_date).desc())
    ).all():
        published.setdefault(report.bond_id, []).append(report)
    ids = [r.id for rs in published.values() for r in rs if r.id is not None]
    return Template(
        "reports/list.html",
        context={
            "bonds": [(bond, published.get(bond.id or 0, [])) for bond in bonds],
            "frozen_files": reports.frozen_hashes(db, ids),
            "is_staff": user.is_staff,
            "today": date.today().isoformat(),
        },
    )


@dataclass(frozen=True)
class _Kept:
    """A published rendering as served: its bytes, the CSP hashes of its plotly figure calls (HTML), and
    the bytes gzipped once (HTML: ~8 MB of tables and chart data for the national bond; a browser takes
    it gzipped, so each request sends a fraction of that)."""

    content: bytes
    script_hashes: tuple[str, ...]
    gzipped: bytes | None


#: Published renderings held in this process by (SHA-256, format, language): the page's policy then
#: needs no scan of megabytes of HTML per request, nor its compression; concurrent first requests wait
#: for one read of the files. The renderings themselves are made once for all processes
#: (``services.rendered_reports``).
_RENDERED: KeptOnce[_Kept] = KeptOnce(size=8)


def _rendering(
    settings: Settings, sha256: str, fmt: str, lang: str, frozen: Callable[[], bytes]
) -> _Kept:
    """The published report as ``fmt`` in ``lang``, with its CSP script hashes and gzipped bytes (HTML)."""
    return _RENDERED.get_or_make(
        (sha256, fmt, lang), lambda: _made(settings, sha256, fmt, lang, frozen)
    )


def _made(
    settings: Settings,
    sha256: str,
    fmt: str,
    lang: str,
    frozen: Callable[[], bytes],
    data: dict[str, Any] | None = None,
) -> _Kept:
    """The rendering and, for HTML, its CSP hashes and gzipped bytes: read from the files every
    process shares, or made into them once (from ``data``, the report's dict as it reads back from
    its frozen JSON, when given; else from the frozen JSON)."""
    # FILE: the downloaded report.html, a rendering of its own kept beside the page's ("file…")
    prefix = "file" if fmt == FILE else ""
    if fmt == FILE:
        fmt = "html"
        content = rendered_reports.derived(
            settings, sha256, fmt, lang, "file", lambda: _standalone(frozen(), lang)
        )
    elif data is not None:
        content = rendered_reports.rendered_from(settings, sha256, fmt, lang, lambda: data)
    else:
        content = rendered_reports.rendered(settings, sha256, fmt, lang, frozen)
    if fmt != "html":
        return _Kept(content, (), None)  # a workbook is a zip already
    hashes = rendered_reports.derived(
        settings,
        sha256,
        fmt,
        lang,
        prefix + "csp",
        lambda: " ".join(allowed_script_hashes(content.decode("utf-8"))).encode(),
    )
    gzipped = rendered_reports.derived(
        settings,
        sha256,
        fmt,
        lang,
        prefix + "gz",
        lambda: gzip.compress(content, compresslevel=6, mtime=0),
    )
    return _Kept(content, tuple(hashes.decode().split()), gzipped)


#: The published report as a file to keep (``report.html``): opened from disk, it has no server to
#: load plotly.js from nor to send a policy, so it inlines the library and carries its own policy
#: (``reporting.html.report_policy``: only its own scripts run).
FILE = "file"


def _standalone(frozen: bytes, lang: str) -> bytes:
    return reports.render(reports.parse_frozen(frozen), fmt="html", lang=lang, plotly_js="inline")


def prerender(
    engine: Engine, settings: Settings, report_id: int, langs: tuple[str, ...] = ("sv", "en")
) -> None:
    """A just-published report's page made ready in ``langs``: the rendering, its CSP hashes and its
    gzipped bytes, all kept as files for every worker. Scanning 8 MB of HTML for its hashes and
    compressing it take seconds at national scale, as long as the rendering itself; done here (the
    web publish's background thread, the CLI's publish), the first reader never waits for them.

    A failure only means the first request makes what is missing instead.
    """
    try:
        with Session(engine) as db:
            report = db.get(Report, report_id)
            if report is None or report.sha256 is None:
                return
            for lang in langs:
                # the files themselves, whatever this process holds in memory: they are for the
                # other processes
                _made(settings, report.sha256, "html", lang, lambda: reports.frozen_bytes(report))
    except Exception:
        log.warning("pre-rendering report %s failed", report_id, exc_info=True)


def prerender_from(
    settings: Settings,
    sha256: str,
    data: dict[str, Any],
    langs: tuple[str, ...] = ("sv", "en"),
) -> None:
    """``prerender`` from the just-published report's own dict (``publish_report_with_data``), so the
    frozen JSON is never parsed back: the same files, seconds and hundreds of MB sooner at national
    scale. A failure only means the first request makes what is missing instead."""
    try:
        for lang in langs:
            _made(settings, sha256, "html", lang, _no_frozen, data)
    except Exception:
        log.warning("pre-rendering report %s failed", sha256, exc_info=True)


def _no_frozen() -> bytes:
    raise AssertionError("rendered from the report's dict, never from its frozen JSON")


def _accepts_gzip(request: Request[Any, Any, Any]) -> bool:
    for part in request.headers.get("accept-encoding", "").split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


#: (ISIN, date) → (the bond's ISIN, id and SHA-256 of its published report), or (ISIN, None) when the
#: bond has no report of that date, or None when there is no such bond. Reading even a few columns of a
#: report row in SQLite walks the overflow pages of its frozen data (170 MB at national scale: ~40 ms a
#: request), so the answer is kept until anything is committed (web.page_cache).
_PUBLISHED: PageCache[tuple[str, tuple[int, str] | None] | None] = PageCache(size=256)


def _published_ref(db: Session, isin: str, when: date) -> tuple[str, tuple[int, str] | None] | None:
    bond = reports.get_bond(db, isin)
    if bond is None:
        return None
    report = reports.published_report(db, bond, when)
    if report is None or report.id is None or report.sha256 is None:
        return bond.isin, None
    return bond.isin, (report.id, report.sha256)


def _found(ref: tuple[str, tuple[int, str] | None] | None) -> tuple[str, int, str]:
    if ref is None:
        raise NotFoundException("There is no such bond.")
    bond_isin, report = ref
    if report is None:
        raise NotFoundException("There is no published report for that date.")
    return bond_isin, *report


async def _published_async(
    request: Request[Any, Any, Any], isin: str, raw_date: str, fmt: str, *, attachment: bool
) -> Response[bytes]:
    """A published report served on the event loop when both its lookup and its rendering are kept
    (every request after the first, until something is committed); otherwise from a thread."""
    when = _date_or_404(raw_date)
    engine = request.app.state.engine
    if fmt not in ("json", *reports.FROZEN_FILES):
        found, ref = _PUBLISHED.peek(engine, (isin, when))
        if found:
            bond_isin, _report_id, sha256 = _found(ref)
            cached, kept = _RENDERED.get((sha256, _kind(fmt, attachment), get_language()))
            if cached and kept is not None:
                return _respond(request, kept, fmt, bond_isin, when, attachment=attachment)
    try:
        return await anyio.to_thread.run_sync(
            partial(_published, request, engine, isin, when, fmt, attachment=attachment)
        )
    except PdfUnavailable as exc:
        raise _no_pdf(exc) from None


def _published(
    request: Request[Any, Any, Any],
    engine: Engine,
    isin: str,
    when: date,
    fmt: str,
    *,
    attachment: bool,
) -> Response[bytes]:
    with Session(engine, expire_on_commit=False) as db:
        ref = _PUBLISHED.get_or_make(db, (isin, when), lambda: _published_ref(db, isin, when))
        bond_isin, report_id, sha256 = _found(ref)

        def frozen() -> bytes:
            # the stored bytes themselves, checked against the hash
            report = db.get(Report, report_id)
            if report is None:
                raise NotFoundException("There is no published report for that date.")
            return reports.frozen_bytes(report)

        if fmt == "json":
            filename = f"{bond_isin}-{when.isoformat()}.json"
            return _download(frozen(), fmt, filename, attachment=attachment)
        if fmt in reports.FROZEN_FILES:
            return _frozen_download(request, db, bond_isin, when, report_id, sha256, fmt, frozen)
        kept = _rendering(
            _settings(request), sha256, _kind(fmt, attachment), get_language(), frozen
        )
    return _respond(request, kept, fmt, bond_isin, when, attachment=attachment)


def _frozen_download(
    request: Request[Any, Any, Any],
    db: Session,
    bond_isin: str,
    when: date,
    report_id: int,
    sha256: str,
    fmt: str,
    frozen: Callable[[], bytes],
) -> Response[bytes]:
    """A file the published report freezes once made (the PDF, per language): the one kept in the
    database, else made now (once for all processes) and kept, so every later download, whatever
    the code, is the same bytes; its SHA-256 is listed on the reports page."""
    lang = get_language()
    stored = reports.frozen_file(db, report_id, fmt, lang)
    if stored is None:
        kept = _rendering(_settings(request), sha256, fmt, lang, frozen)
        stored = reports.freeze_file(db, report_id, fmt, lang, kept.content)
        db.commit()
    filename = f"{bond_isin}-{when.isoformat()}.{reports.suffix(fmt)}"
    return _download(stored.content, fmt, filename, attachment=True)


def _kind(fmt: str, attachment: bool) -> str:
    """Which rendering answers: the downloaded HTML is the stand-alone file (``FILE``)."""
    return FILE if fmt == "html" and attachment else fmt


def _respond(
    request: Request[Any, Any, Any],
    kept: _Kept,
    fmt: str,
    bond_isin: str,
    when: date,
    *,
    attachment: bool,
) -> Response[bytes]:
    filename = f"{bond_isin}-{when.isoformat()}.{reports.suffix(fmt)}"
    if kept.gzipped is None:
        return _download(kept.content, fmt, filename, attachment=attachment)
    gzipped = _accepts_gzip(request)
    response = _download(
        kept.gzipped if gzipped else kept.content, fmt, filename, attachment=attachment
    )
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    # the report pages may be framed by this site's draft page (security.SAME_ORIGIN_FRAMES)
    response.headers["Content-Security-Policy"] = content_security_policy(
        kept.script_hashes, frameable_by_self=True
    )
    return response


@get("/reports/{isin:str}/{report_date:str}", opt=READERS, include_in_schema=False)
async def report_page(
    request: Request[Any, Any, Any], isin: str, report_date: str
) -> Response[bytes]:
    """The published report: its HTML, rendered from the frozen data in the reader's language."""
    return await _published_async(request, isin, report_date, "html", attachment=False)


@get("/reports/{isin:str}/{report_date:str}/report.html", opt=READERS, include_in_schema=False)
async def report_html(
    request: Request[Any, Any, Any], isin: str, report_date: str
) -> Response[bytes]:
    """The published report as a downloadable HTML file: plotly.js inlined and its own policy, so it
    draws its charts when opened from disk and runs no script but its own."""
    return await _published_async(request, isin, report_date, "html", attachment=True)


@get("/reports/{isin:str}/{report_date:str}/report.xlsx", opt=READERS, include_in_schema=False)
async def report_xlsx(
    request: Request[Any, Any, Any], isin: str, report_date: str
) -> Response[bytes]:
    """The published report as an Excel workbook."""
    return await _published_async(request, isin, report_date, "xlsx", attachment=True)


@get("/reports/{isin:str}/{report_date:str}/report.pdf", opt=READERS, include_in_schema=False)
async def report_pdf(
    request: Request[Any, Any, Any], isin: str, report_date: str
) -> Response[bytes]:
    """The published report as a PDF: its HTML printed by headless Chromium, made once per
    published report and kept with its other renderings (503 when Chromium is missing)."""
    return await _published_async(request, isin, report_date, "pdf", attachment=True)


@get("/reports/{isin:str}/{report_date:str}/register.csv", opt=READERS, include_in_schema=False)
async def register_csv(
    request: Request[Any, Any, Any], isin: str, report_date: str
) -> Response[bytes]:
    """The published report's ICMA project register as CSV (one row per project and indicator)."""
    return await _published_async(request, isin, report_date, "register-csv", attachment=True)


@get("/reports/{isin:str}/{report_date:str}/report.json", opt=READERS, include_in_schema=False)
async def report_json(
    request: Request[Any, Any, Any], isin: str, report_date: str
) -> Response[bytes]:
    """The published report's frozen JSON, byte for byte as stored (its SHA-256 is checked)."""
    return await _published_async(request, isin, report_date, "json", attachment=True)


def _fx(
    db: Session, bond: SocialBond, when: date, fx_rate: str | None, fx_source: str | None
) -> Any:
    return reports.make_fx(
        bond, report_date=when, rate=fx_rate or None, source=fx_source or None, session=db
    )


def _error_page(bond: SocialBond | None, message: str) -> Template:
    return Template(
        "reports/confirm.html",
        context={
            "bond": bond,
            "error": message,
            "form": None,
            "summary": None,
            "revise": False,
            "published": None,
        },
        status_code=HTTP_400_BAD_REQUEST,
    )


@get("/reports/{isin:str}/draft", opt=READERS, sync_to_thread=True, include_in_schema=False)
def draft_page(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    isin: str,
) -> Response[Any]:
    """The live draft for staff: the page with the publish form, or the bare report / a download
    with ``format``. Investors never see drafts (404)."""
    if not user.is_staff:
        raise NotFoundException("There is no such report.")
    bond = _bond_or_404(db, isin)
    query = request.query_params
    raw_date = query.get("date") or date.today().isoformat()
    fmt = query.get("format") or "page"
    fx_rate, fx_source = query.get("fx_rate") or "", query.get("fx_source") or ""
    lang = get_language()
    try:
        when = reports.parse_report_date(raw_date)
        fx = _fx(db, bond, when, fx_rate, fx_source)
        data = reports.draft_report(
            session=db,
            bond=bond,
            report_date=when,
            fx=fx,
            lang=lang,
            lookback_months=_settings(request).lookback_months,
        )
    except ReportError as exc:
        return _error_page(bond, exc.message(lang))
    if fmt in reports.FORMATS:
        try:
            content = reports.render(data, fmt=fmt, lang=lang)
        except PdfUnavailable as exc:
            raise _no_pdf(exc) from None
        name = f"{bond.isin}-{when.isoformat()}-draft.{reports.suffix(fmt)}"
        return _download(content, fmt, name, attachment=fmt != "html")
    form = {"date": when.isoformat(), "fx_rate": fx_rate, "fx_source": fx_source}
    return Template(
        "reports/draft.html",
        context={
            "bond": bond,
            "form": form,
            "summary": data["allocation"]["summary"],
            "restatements": data["restatements"],
            "published": reports.published_report(db, bond, when),
        },
    )


@post("/reports/{isin:str}/publish", opt=STAFF, sync_to_thread=True, include_in_schema=False)
def publish(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    isin: str,
    data: Annotated[dict[str, str], FORM],
) -> Response[Any]:
    """Publish the draft: without ``confirm=yes`` show what will be frozen and ask; then publish."""
    bond = _bond_or_404(db, isin)
    lang = get_language()
    form = {
        "date": str(data.get("date", "")),
        "fx_rate": str(data.get("fx_rate", "")),
        "fx_source": str(data.get("fx_source", "")),
    }
    settings = _settings(request)
    try:
        when = reports.parse_report_date(form["date"])
        fx = _fx(db, bond, when, form["fx_rate"], form["fx_source"])
        published = reports.published_report(db, bond, when)
        # a published date is published again only as a revision, asked for and confirmed
        revise = published is not None and data.get("revise") == "yes"
        if published is not None and not revise:
            flash(
                request,
                _(
                    "This report is already published; a published report never changes. "
                    "Publish a revised version from the draft instead."
                ),
                "error",
            )
            return Redirect(f"/reports/{bond.isin}/draft?date={when.isoformat()}")
        if data.get("confirm") != "yes":
            draft = reports.draft_report(
                session=db,
                bond=bond,
                report_date=when,
                fx=fx,
                lang=lang,
                lookback_months=settings.lookback_months,
            )
            return Template(
                "reports/confirm.html",
                context={
                    "bond": bond,
                    "form": form,
                    "summary": draft["allocation"]["summary"],
                    "restatements": draft["restatements"],
                    "error": None,
                    "revise": revise,
                    "published": published,
                },
            )
        report, frozen = reports.publish_report_with_data(
            session=db,
            bond=bond,
            report_date=when,
            fx=fx,
            actor=user.email,
            lang=lang,
            lookback_months=settings.lookback_months,
            revise=revise,
        )
        db.commit()
    except ReportError as exc:
        db.rollback()
        if exc.code == "already_published":
            flash(request, exc.message(lang), "error")
            return Redirect("/reports")
        return _error_page(bond, exc.message(lang))
    # its page is rendered now, in the background, rather than on the first reader's request
    threading.Thread(
        target=prerender_from,
        args=(settings, report.sha256 or "", frozen),
        daemon=True,
    ).start()
    if revise:
        flash(
            request,
            _(
                "Published revised version %(version)s. SHA-256: %(sha)s",
                version=report.version,
                sha=report.sha256 or "",
            ),
        )
    else:
        flash(request, _("Published. SHA-256: %(sha)s", sha=report.sha256 or ""))
    return Redirect("/reports")


ROUTES = [
    reports_page,
    draft_page,
    publish,
    report_page,
    report_html,
    report_xlsx,
    report_pdf,
    register_csv,
    report_json,
]
