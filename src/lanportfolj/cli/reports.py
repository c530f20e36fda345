"""``lanportfolj report ISIN --date D --format html,xlsx,json --out DIR`` and
``lanportfolj report publish ISIN --date D [--yes] [--revise]``.

``report`` writes the published report of that date when there is one (rendered from its frozen data),
otherwise a live draft, and prints the files' paths. ``report publish`` freezes and publishes the report.
Exit codes: 0 done, 1 rejected (unknown ISIN, bad date or rate, already published), 2 usage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, Final

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from lanportfolj.cli import app
from lanportfolj.cli.common import EXIT_USAGE, console, err_console, fail, migrated_engine, state
from lanportfolj.db import session_scope
from lanportfolj.models import Report, SocialBond
from lanportfolj.reporting.pdf import PdfUnavailable
from lanportfolj.services import rendered_reports, reports
from lanportfolj.services.reports import ReportError


class _Steps:
    """A progress bar over the named steps of one command (on stderr, so stdout stays the paths)."""

    def __init__(self, bar: Progress | None, task: Any) -> None:
        self.bar, self.task = bar, task

    def step(self, description: str) -> None:
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=description)


@contextmanager
def _progress(total: int, quiet: bool) -> Iterator[_Steps]:
    if quiet:
        yield _Steps(None, None)
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("reading the database", total=total)
        yield _Steps(bar, task)


def _bond(session: Any, isin: str, lang: str) -> SocialBond:
    bond = reports.get_bond(session, isin)
    if bond is None:
        fail(f"Obligationen {isin} finns inte." if lang == "sv" else f"No bond {isin}.")
    return bond


@app.command("report")
def report_command(
    ctx: typer.Context,
    first: str = typer.Argument(..., metavar="[publish] ISIN", help="The bond's ISIN."),
    second: str | None = typer.Argument(None, hidden=True),
    report_date: str = typer.Option(..., "--date", help="The reporting date, YYYY-MM-DD."),
    formats: str = typer.Option(
        "html,xlsx,json", "--format", help="Any of html,xlsx,json,pdf,register-csv."
    ),
    out: Path = typer.Option(Path("."), "--out", "-o", help="The folder to write the files to."),
    fx_rate: str | None = typer.Option(
        None, "--fx-rate", help="SEK per unit of the bond's currency (needed for non-SEK bonds)."
    ),
    fx_source: str | None = typer.Option(None, "--fx-source", help="Where the rate comes from."),
    lang: str | None = typer.Option(
        None, "--lang", help="sv or en (default: a published report's own language, else en)."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Publish without asking."),
    revise: bool = typer.Option(
        False, "--revise", help="Publish a date published already again, as a revised version."
    ),
    actor: str = typer.Option("cli", "--actor", help="Who publishes (kept in the audit log)."),
) -> None:
    """Write the bond's report files, or publish the report with `report publish ISIN`."""
    if lang is not None and lang not in ("sv", "en"):
        fail("--lang must be sv or en.", code=EXIT_USAGE)
    if first == "publish":
        if second is None:
            fail("Usage: lanportfolj report publish ISIN --date YYYY-MM-DD", code=EXIT_USAGE)
        _publish(ctx, second, report_date, fx_rate, fx_source, lang or "en", yes, actor, revise)
        return
    if second is not None:
        fail(f"Unexpected argument: {second}", code=EXIT_USAGE)
    wanted = [f.strip().lower() for f in formats.split(",") if f.strip()]
    unknown = [f for f in wanted if f not in reports.FORMATS]
    if not wanted or unknown:
        fail(
            "--format takes html, xlsx, json, pdf and/or register-csv, separated by commas.",
            code=EXIT_USAGE,
        )
    _write(ctx, first, report_date, wanted, out, fx_rate, fx_source, lang)


def _frozen_file(
    session: Any, report_id: int, fmt: str, lang: str, make: Callable[[], bytes]
) -> bytes:
    """A published report's file that is frozen once made (the PDF): the one kept, else made now
    and kept (the web serves the same bytes); its SHA-256 goes to stderr."""
    stored = reports.frozen_file(session, report_id, fmt, lang)
    if stored is None:
        stored = reports.freeze_file(session, report_id, fmt, lang, make())
    err_console.print(f"{fmt} {lang} sha256 {stored.sha256}", highlight=False)
    return stored.content


def _write(
    ctx: typer.Context,
    isin: str,
    raw_date: str,
    wanted: list[str],
    out: Path,
    fx_rate: str | None,
    fx_source: str | None,
    lang: str | None,
) -> None:
    engine = migrated_engine(ctx)
    settings = state(ctx).settings
    msg_lang = lang or "en"
    written: list[Path] = []
    with session_scope(engine) as session, _progress(1 + len(wanted), quiet=False) as steps:
        bond = _bond(session, isin, msg_lang)
        try:
            when = reports.parse_report_date(raw_date)
            published = reports.published_report(session, bond, when)
            if published is not None:
                written = _write_published(
                    session, settings, published, bond.isin, when, wanted, out, lang
                )
                status = "published"
            else:
                status = "draft"
                fx = reports.make_fx(
                    bond, report_date=when, rate=fx_rate, source=fx_source, session=session
                )
                data = reports.draft_report(
                    session=session,
                    bond=bond,
                    report_date=when,
                    fx=fx,
                    lang=msg_lang,
                    lookback_months=settings.lookback_months,
                )
                steps.step("computed")
                out.mkdir(parents=True, exist_ok=True)
                for fmt in wanted:
                    path = out / f"{bond.isin}-{when.isoformat()}.{reports.suffix(fmt)}"
                    # a file opened from disk: plotly.js inlined, no site links; written as it is
                    # made (the JSON and the workbook are hundreds of MB at national scale)
                    reports.write_file(
                        data, path, fmt=fmt, lang=lang, status=status, plotly_js="inline"
                    )
                    written.append(path)
                    steps.step(f"wrote {fmt}")
        except ReportError as exc:
            fail(exc.message(msg_lang))
        except PdfUnavailable as exc:
            fail(exc.message_sv if msg_lang == "sv" else exc.message_en)
    err_console.print(f"{bond.isin} {when.isoformat()}: {status}", highlight=False)
    for path in written:
        console.print(str(path), highlight=False, soft_wrap=True)


#: the formats whose renderings of a published report are kept for every process (what the web serves)
KEPT: Final = ("html", "xlsx")


def _write_published(
    session: Any,
    settings: Any,
    report: Report,
    isin: str,
    when: date,
    wanted: list[str],
    out: Path,
    lang: str | None,
) -> list[Path]:
    """Write a published report's files: the JSON is its frozen bytes as they are (checked against
    the SHA-256); the HTML and XLSX are the renderings the web serves (``services.rendered_reports``:
    made once, from the frozen JSON parsed at most once here, and kept for every process).

    The JSON goes to its file a stored piece at a time; the frozen bytes are read whole only when
    another format needs them (its language, or a rendering not kept yet)."""
    if report.sha256 is None:
        raise reports.not_frozen()
    held: list[bytes] = []
    parsed: dict[str, Any] = {}

    def payload() -> bytes:
        if not held:
            held.append(reports.frozen_bytes(report))
        return held[0]

    def data() -> dict[str, Any]:
        if not parsed:
            parsed.update(reports.parse_frozen(payload()))
        return parsed

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in wanted:
        path = out / f"{isin}-{when.isoformat()}.{reports.suffix(fmt)}"
        if fmt == "json":
            reports.write_frozen(report, path)
            written.append(path)
            continue
        report_lang = lang = lang or reports.frozen_lang(payload())
        if fmt in reports.FROZEN_FILES:
            assert report.id is not None
            content = _frozen_file(
                session,
                report.id,
                fmt,
                report_lang,
                lambda fmt=fmt, report_lang=report_lang: reports.render(  # type: ignore[misc]
                    data(), fmt=fmt, lang=report_lang, status=reports.PUBLISHED
                ),
            )
        elif fmt in KEPT:
            try:
                content = rendered_reports.rendered_from(
                    settings, report.sha256, fmt, report_lang, data
                )
            except OSError:  # the renderings' folder cannot be written: render here only
                content = reports.render(
                    data(), fmt=fmt, lang=report_lang, status=reports.PUBLISHED
                )
        else:
            content = reports.render(data(), fmt=fmt, lang=report_lang, status=reports.PUBLISHED)
        path.write_bytes(content)
        written.append(path)
    return written


def _publish(
    ctx: typer.Context,
    isin: str,
    raw_date: str,
    fx_rate: str | None,
    fx_source: str | None,
    lang: str,
    yes: bool,
    actor: str,
    revise: bool = False,
) -> None:
    engine = migrated_engine(ctx)
    settings = state(ctx).settings
    with session_scope(engine) as session:
        bond = _bond(session, isin, lang)
        try:
            when = reports.parse_report_date(raw_date)
            fx = reports.make_fx(
                bond, report_date=when, rate=fx_rate, source=fx_source, session=session
            )
            published = reports.published_report(session, bond, when)
            if published is not None and not revise:
                raise ReportError(
                    "already_published",
                    f"Rapporten för {bond.isin} per {when} är redan publicerad "
                    "(publicera en reviderad version med --revise).",
                    f"The report of {bond.isin} as of {when} is already published "
                    "(publish a revised version with --revise).",
                )
            question = (
                f"Publish a revised version of the report of {bond.isin} as of {when}? "
                f"It replaces version {published.version} for investors."
                if published is not None
                else f"Publish the report of {bond.isin} as of {when}? "
                "A published report never changes."
            )
            if not yes and not typer.confirm(question):
                fail("Not published.")
            with _progress(2, quiet=False) as steps:
                report, frozen = reports.publish_report_with_data(
                    session=session,
                    bond=bond,
                    report_date=when,
                    fx=fx,
                    actor=actor,
                    lang=lang,
                    lookback_months=settings.lookback_months,
                    revise=published is not None,
                )
                steps.step("published")
        except ReportError as exc:
            fail(exc.message(lang))
    console.print(
        f"published {bond.isin} {when.isoformat()} version {report.version} sha256 {report.sha256}",
        highlight=False,
    )
    # the web page is rendered now, once for every worker, so its first reader does not wait for it
    # (seconds at national scale), from the report's own dict rather than by parsing its frozen JSON
    # back; a failure here only means that first request renders instead
    with _progress(1, quiet=False) as steps:
        steps.step("rendering the report page")
        from lanportfolj.web.reports import prerender_from  # the web stack, only when publishing

        prerender_from(settings, report.sha256 or "", frozen)
