"""``lanportfolj template LOAN --out FILE`` and ``lanportfolj import FILE [--dry-run] [--json]``.

``import`` exits 0 when the file is accepted (stored, or all already stored) and 1 when it is rejected;
``--json`` prints ``{"accepted", "rows", "inserted", "restated", "unchanged", "errors": [...]}`` (with the
file's SHA-256, the submission id and, for a dry run, the changes). Large files show a progress bar on
stderr, so the JSON on stdout stays clean.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from lanportfolj.cli import app
from lanportfolj.cli.common import (
    EXIT_REJECTED,
    EXIT_USAGE,
    NOT_MIGRATED,
    console,
    err_console,
    fail,
    migrated_engine,
    print_json,
    print_table,
    state,
)

if TYPE_CHECKING:
    from lanportfolj.services.measurements import ImportResult

# ``import`` goes through the database driver (``lanportfolj.driver``): SQLAlchemy, SQLModel and the models
# are imported only by ``template`` and for a URL the driver path does not handle (issue 15)

#: Files above this size get a progress bar (smaller ones finish before it would be drawn).
PROGRESS_BAR_BYTES = 256 * 1024


@app.command("template")
def template(
    ctx: typer.Context,
    reference: str = typer.Argument(..., metavar="LOAN", help="The loan's reference."),
    out: Path = typer.Option(..., "--out", "-o", help="Where to write the template."),
    fmt: str = typer.Option("xlsx", "--format", help="xlsx or csv."),
    lang: str = typer.Option("sv", "--lang", help="sv or en (headers, names, CSV separators)."),
) -> None:
    """Write a loan's yearly reporting template, pre-filled with its indicators and earlier values."""
    from lanportfolj.db import session_scope
    from lanportfolj.services.reporting_templates import FORMATS, LoanNotFound, template_bytes

    if fmt not in FORMATS:
        fail("--format must be xlsx or csv.", code=EXIT_USAGE)
    if lang not in ("sv", "en"):
        fail("--lang must be sv or en.", code=EXIT_USAGE)
    engine = migrated_engine(ctx)
    with session_scope(engine) as session:
        try:
            data = template_bytes(session, reference, fmt=fmt, lang=lang)
        except LoanNotFound:
            fail(f"No loan {reference}." if lang == "en" else f"Lånet {reference} finns inte.")
    out.write_bytes(data)
    console.print(f"{out} ({len(data)} bytes)", highlight=False)


@contextmanager
def _progress_bar(show: bool) -> Iterator[Callable[[int, int], None] | None]:
    if not show:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("checking rows"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("rows", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _print_result(result: ImportResult, lang: str) -> None:
    data = result.to_dict(lang)
    # the columns as the template's headers name them, in the language asked for (as on the web page)
    with_sheet = any(e["sheet"] for e in data["errors"])
    if not result.accepted:
        print_table(
            f"{result.file}: rejected, {len(result.errors) + result.more_errors} problem(s)",
            (["sheet"] if with_sheet else []) + ["row", "column", "code", "value", "message"],
            (
                ([e["sheet"]] if with_sheet else [])
                + [e["row"], e["column_label"], e["code"], e["value"], e["message"]]
                for e in data["errors"]
            ),
        )
        if data["more_errors_text"]:
            console.print(data["more_errors_text"], highlight=False)
        return
    if result.duplicate_of is not None:
        console.print(
            f"{result.file}: already imported as submission {result.duplicate_of}; nothing changed.",
            highlight=False,
        )
        return
    if data["warnings"]:
        print_table(
            "warnings (check these values)",
            ["row", "column", "code", "value", "message"],
            (
                [w["row"], w["column_label"], w["code"], w["value"], w["message"]]
                for w in data["warnings"]
            ),
        )
    verb = "would insert" if result.dry_run else "inserted"
    console.print(
        f"{result.file}: {result.rows} row(s); {verb} {result.inserted}, "
        f"restated {result.restated}, unchanged {result.unchanged}"
        + (f" (submission {result.submission_id})" if result.submission_id else ""),
        highlight=False,
    )
    if result.dry_run:
        changes = [c for c in result.changes if c.kind != "unchanged"]
        if changes:
            print_table(
                "changes",
                ["kind", "loan", "indicator", "year", "group", "old", "new"],
                (
                    [
                        c.kind,
                        c.loan,
                        result.indicator_name(c.indicator, lang),
                        c.year,
                        c.group,
                        c.old_value,
                        c.value,
                    ]
                    for c in changes
                ),
            )


@app.command("import")
def import_command(
    ctx: typer.Context,
    file: Path = typer.Argument(
        ..., metavar="FILE", help="A CSV, Excel (.xlsx, .xls) or LibreOffice (.ods) file of values."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and show the changes only."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
    as_borrower: str | None = typer.Option(
        None, "--as-borrower", metavar="ORGNR", help="Import as this borrower: only its own loans."
    ),
    lang: str = typer.Option("en", "--lang", help="Language of the messages: sv or en."),
    actor: str = typer.Option("cli", "--actor", help="Who imports (kept with the submission)."),
) -> None:
    """Import a borrower's measurement file: all or nothing, restatements kept as new versions."""
    if lang not in ("sv", "en"):
        fail("--lang must be sv or en.", code=EXIT_USAGE)
    if not file.is_file():
        fail(f"No such file: {file}", code=EXIT_USAGE)
    from lanportfolj.driver import Driver, connect
    from lanportfolj.listings import schema_is_current
    from lanportfolj.services.measurements import import_file

    settings = state(ctx).settings
    data = file.read_bytes()

    def run(db: Driver) -> ImportResult:
        borrower_id: int | None = None
        if as_borrower:
            found = db.rows(f"SELECT id FROM borrower WHERE orgnr = {db.marker}", (as_borrower,))
            if not found:
                fail(f"No borrower with organisation number {as_borrower}.", code=EXIT_USAGE)
            borrower_id = found[0][0]
        with _progress_bar(len(data) >= PROGRESS_BAR_BYTES and not as_json) as progress:
            return import_file(
                session=db,
                settings=settings,
                filename=file.name,
                data=data,
                uploaded_by=actor,
                borrower_id=borrower_id,
                dry_run=dry_run,
                source="cli",
                progress=progress,
            )

    # all or nothing: the block commits when the import returns and rolls everything back if it raises
    with connect(settings.database_url) as driver:
        if driver is not None:
            if not schema_is_current(driver):
                fail(NOT_MIGRATED, code=EXIT_USAGE)
            result = run(driver)
    if driver is None:
        # a URL the driver path does not handle: the same import in an ORM session
        from lanportfolj.db import session_scope

        with session_scope(migrated_engine(ctx)) as session:
            result = run(Driver.from_session(session))
    if as_json:
        print_json(result.to_dict(lang, with_changes=dry_run))
    else:
        _print_result(result, lang)
    if not result.accepted:
        raise typer.Exit(EXIT_REJECTED)
