"""``lanportfolj kolada fetch LOAN`` and ``lanportfolj kolada cache list``.

Values are fetched and shown side by side with what is stored; new values are imported through the
ordinary import path, differences only with ``--accept indicator|unit|year`` (a person decides).
Every listing of Kolada values ends with the source line "Källa: Kolada".
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from lanportfolj.cli import app
from lanportfolj.cli.common import (
    EXIT_REJECTED,
    EXIT_USAGE,
    console,
    err_console,
    fail,
    migrated_engine,
    print_json,
    print_table,
    state,
)
from lanportfolj.config import Settings
from lanportfolj.db import session_scope
from lanportfolj.kolada.cache import DatabaseCache, list_cached
from lanportfolj.kolada.client import KoladaClient, KoladaError
from lanportfolj.kolada.fetch import (
    CompareChoice,
    YearSpanError,
    import_plan,
    parse_years,
    plan_fetch,
)
from lanportfolj.kolada.offline import OfflineKolada

kolada_app = typer.Typer(help="Official key figures from Kolada.", no_args_is_help=True)
cache_app = typer.Typer(help="Kolada responses kept in the database.", no_args_is_help=True)
kolada_app.add_typer(cache_app, name="cache")
app.add_typer(kolada_app, name="kolada")


def make_client(
    cache: DatabaseCache,
    settings: Settings,
    fixtures: str | Path | None = None,
    *,
    mode: str = "online",
) -> KoladaClient:
    """The client per the settings: Kolada at ``kolada_base_url``, or the offline stand-in answering
    from recorded JSON when ``fixtures`` (else the setting ``kolada_fixtures``) names a folder."""
    folder = str(fixtures or settings.kolada_fixtures or "")
    base_url = settings.kolada_base_url
    transport = (
        OfflineKolada(Path(folder), base_url=base_url).transport() if folder.strip() else None
    )
    return KoladaClient(
        base_url=base_url,
        transport=transport,
        timeout=settings.kolada_timeout,
        cache=cache,
        mode=mode,
    )


@kolada_app.command("fetch")
def fetch(
    ctx: typer.Context,
    loan: str = typer.Argument(..., help="Loan reference, e.g. SH-2023-001."),
    years: str | None = typer.Option(None, "--years", help="e.g. 2018-2025 (default 2018–now)."),
    compare: str | None = typer.Option(
        None, "--compare", help="'similar', 'similar:grundskola' or municipality codes '0126,0136'."
    ),
    accept: list[str] = typer.Option(
        [], "--accept", help="Replace a stored value that differs: 'indicator|unit|year'."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change; store nothing."),
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
    offline_fixtures: str | None = typer.Option(
        None,
        "--offline-fixtures",
        help="Answer from recorded JSON in this folder (default: the setting kolada_fixtures).",
    ),
) -> None:
    """Fetch the loan's Kolada-mapped indicators for its municipality and import the new values."""
    engine = migrated_engine(ctx)
    settings = state(ctx).settings
    this_year = date.today().year
    try:
        year_range = parse_years(years, current_year=this_year)
        choice = CompareChoice.parse(compare)
    except YearSpanError as exc:
        fail(f"--years: {exc.problem.message_en}")  # input rejected: exit 1
    except ValueError as exc:
        fail(str(exc), code=EXIT_USAGE)
    try:
        # first transaction: the fetch, so the cached responses are kept even if the import is refused
        # a fetch is one request per key figure and can take seconds: a spinner on stderr (stdout may be JSON)
        with (
            err_console.status(f"Asking Kolada for {loan}'s key figures…"),
            session_scope(engine) as session,
        ):
            plan = plan_fetch(
                session=session,
                client=make_client(DatabaseCache(session), settings, offline_fixtures),
                loan_reference=loan,
                years=year_range,
                compare=choice,
                current_year=this_year,
            )
    except KoladaError as exc:
        fail(exc.issue.message_en + "\n" + exc.issue.message_sv)
    with session_scope(engine) as session:
        result = import_plan(
            session=session,
            settings=settings,
            plan=plan,
            uploaded_by="cli",
            accept=accept,
            dry_run=dry_run,
            current_year=this_year,
        )
    if as_json:
        print_json({"plan": plan.to_dict("en"), "import": result.to_dict("en", with_changes=True)})
        raise typer.Exit(0 if result.accepted else EXIT_REJECTED)
    print_table(
        f"Kolada: {plan.loan}, {plan.municipality_name} ({plan.municipality})",
        ["key", "Kolada", "stored", "status"],
        [
            (
                p.key,
                format(p.value, "f"),
                "" if p.existing is None else format(p.existing, "f"),
                p.status
                + (" (derived)" if p.derived else "")
                + (" (history)" if p.history else ""),
            )
            for p in plan.proposals
        ],
    )
    for problem in plan.issues:
        console.print(f"[yellow]note:[/yellow] {problem.message_en}", highlight=False)
    differences = plan.of_status("different")
    if differences:
        console.print(
            f"{len(differences)} value(s) differ from what is stored and were not changed; "
            "re-run with --accept 'indicator|unit|year' to replace one.",
            highlight=False,
        )
    verb = "Would import" if dry_run else "Imported"
    console.print(
        f"{verb}: {result.inserted} new, {result.restated} restated."
        if result.accepted
        else "The import was refused:",
        highlight=False,
    )
    for error in result.errors:
        console.print(f"  {error.to_dict('en')}", highlight=False)
    console.print(plan.source_line("sv"), highlight=False)
    if not result.accepted:
        raise typer.Exit(EXIT_REJECTED)


@cache_app.command("list")
def cache_list(
    ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="JSON on stdout.")
) -> None:
    """The Kolada responses kept in the database, newest first."""
    engine = migrated_engine(ctx)
    with session_scope(engine) as session:
        rows = list_cached(session)
    if as_json:
        print_json(rows)
        return
    print_table(
        "Kolada cache",
        ["fetched", "bytes", "url"],
        [(r["fetched_at"], r["bytes"], r["url"]) for r in rows],
    )
    console.print("Källa: Kolada", highlight=False)
