"""Foundation commands: database, demo and portfolio loading, library, loans, bonds, serve."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from lanportfolj.cli import app
from lanportfolj.cli.common import (
    EXIT_REJECTED,
    console,
    err_console,
    fail,
    listing_rows,
    migrated_engine,
    print_json,
    print_table,
    refuse_bad_identifiers,
    state,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlmodel import Session

    from lanportfolj.config import Settings
    from lanportfolj.kolada.fetch import KoladaPlan
    from lanportfolj.services.measurements import ImportResult

# what a single command needs is imported inside it (see lanportfolj.cli): a listing such as
# ``bonds list`` must not load the Kolada client, polars or the import pipeline

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
demo_app = typer.Typer(help="The demo portfolio.", no_args_is_help=True)
portfolio_app = typer.Typer(help="Load a lender's portfolio folder.", no_args_is_help=True)
library_app = typer.Typer(help="The indicator library.", no_args_is_help=True)
loans_app = typer.Typer(help="Loans and applications.", no_args_is_help=True)
bonds_app = typer.Typer(help="Social bonds.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(portfolio_app, name="portfolio")
app.add_typer(library_app, name="library")
app.add_typer(loans_app, name="loans")
app.add_typer(bonds_app, name="bonds")


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create or migrate the schema to the newest version, and sync the indicator library."""
    from lanportfolj.db import session_scope, upgrade
    from lanportfolj.library import load_library
    from lanportfolj.services.indicators import sync_library

    st = state(ctx)
    upgrade(st.engine)
    with session_scope(st.engine) as session:
        added, updated = sync_library(session, load_library())
    refuse_bad_identifiers(st.engine)
    console.print(
        f"Database at the newest schema ({_safe_url(st.settings.database_url)}); "
        f"library: {added} indicator(s) added, {updated} updated."
    )


@db_app.command("backup")
def db_backup(
    ctx: typer.Context, target: Path = typer.Argument(..., help="The backup file to write.")
) -> None:
    """Back up the database while it is in use (SQLite online backup; pg_dump for PostgreSQL)."""
    from lanportfolj.backup import BackupError, backup

    try:
        backup(migrated_engine(ctx), target)
    except BackupError as exc:
        fail(str(exc))
    console.print(f"Backup written to {target}")


@db_app.command("restore")
def db_restore(
    ctx: typer.Context,
    source: Path = typer.Argument(..., help="A file written by `lanportfolj db backup`."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask before replacing the database."),
) -> None:
    """Replace the database's content with a backup."""
    from lanportfolj.backup import BackupError, restore

    if not yes and not typer.confirm("Replace everything in the database with this backup?"):
        raise typer.Exit(1)
    try:
        restore(state(ctx).engine, source)
    except BackupError as exc:
        fail(str(exc))
    console.print(f"Database restored from {source}")


def _safe_url(url: str) -> str:
    # never print a password
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.split('@', 1)[1]}"
    return url


def _load(
    ctx: typer.Context,
    path: Path,
    as_json: bool,
    *,
    submitted_until: datetime | None = None,
    quiet: bool = False,
) -> None:
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from lanportfolj.db import session_scope
    from lanportfolj.services.portfolio import PortfolioError, load_portfolio

    engine = migrated_engine(ctx)
    settings = state(ctx).settings
    try:
        with (
            Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                console=err_console,
                transient=True,
            ) as bar,
            session_scope(engine) as session,
        ):
            task = bar.add_task("loading", total=None)
            summary = load_portfolio(
                session=session,
                settings=settings,
                path=path,
                progress=lambda msg: bar.update(task, description=msg),
                submitted_until=submitted_until,
            )
    except PortfolioError as exc:
        if as_json:
            print_json({"accepted": False, "errors": [i.to_dict() for i in exc.issues]})
        else:
            for issue in exc.issues:
                err_console.print(f"[red]✗[/red] {issue}", highlight=False)
            err_console.print(f"{len(exc.issues)} problem(s); nothing was written.")
        raise typer.Exit(EXIT_REJECTED) from None
    if quiet:
        return
    if as_json:
        print_json({"accepted": True, **summary.to_dict()})
        return
    changed = len(summary.changed_records) + summary.inserted + summary.restated
    console.print(
        f"Loaded {summary.borrowers} borrowers, {summary.loans} loans, {summary.bonds} bond(s); "
        f"measurements: {summary.inserted} new, {summary.restated} restated, "
        f"{summary.unchanged} unchanged."
        + ("" if changed else " Nothing changed: the database already held this portfolio.")
        + (
            f" The {summary.restated} restated value(s) count from now, when they were written, "
            "not from the files' uploaded_at: the next report lists them."
            if summary.restated
            else ""
        )
    )


#: The demo's Botkyrka loan whose Kolada-mapped indicators (school results, perceived safety)
#: ``demo load`` fetches. SH-2023-003 is left out on purpose: its ``population`` is Alby and Fittja's,
#: which Kolada's municipal population neither equals nor is a fair comparison for.
#: SH-2024-002 (the outdoor-pedagogy school) gets Örebro's and its similar municipalities' history.
DEMO_KOLADA_LOANS = ("SH-2023-001", "SH-2024-002")
#: The first year asked for: the years before a loan's baseline (2022) come in as official history
#: of each municipality, the pre-period of the evaluation's difference-in-differences.
DEMO_KOLADA_FIRST_YEAR = 2015


@dataclass(frozen=True)
class DemoKoladaResult:
    """What the demo's Kolada step did for one loan: the side-by-side plan and the import."""

    plan: KoladaPlan
    result: ImportResult


def load_demo_kolada(
    *,
    engine: Engine,
    settings: Settings,
    folder: Path | None = None,
    loans: tuple[str, ...] = DEMO_KOLADA_LOANS,
    current_year: int | None = None,
) -> list[DemoKoladaResult]:
    """Fetch the demo loans' Kolada figures from the recorded answers in ``folder`` (default
    ``data/demo/kolada``), for the borrower's municipality and its similar municipalities, and import
    the new values through the ordinary import path (source ``kolada``).

    Idempotent: the recorded answers are cached on the first run and reused ("cache-first"), values
    already stored are left alone, and a value that differs from a stored one is never imported (it
    waits for a person on the loan's Kolada page). Raises :class:`KoladaError` when a fetch cannot be
    done; nothing of that loan is stored then.
    """
    from lanportfolj.db import session_scope
    from lanportfolj.kolada.cache import DatabaseCache
    from lanportfolj.kolada.client import KoladaClient
    from lanportfolj.kolada.fetch import CompareChoice, import_plan, plan_fetch
    from lanportfolj.kolada.offline import OfflineKolada
    from lanportfolj.paths import demo_dir

    source = folder or demo_dir() / "kolada"
    this_year = current_year or date.today().year
    years = range(DEMO_KOLADA_FIRST_YEAR, this_year + 1)
    done = []
    for reference in loans:
        with session_scope(engine) as session:
            client = KoladaClient(
                base_url=settings.kolada_base_url,
                transport=OfflineKolada(source, base_url=settings.kolada_base_url).transport(),
                timeout=settings.kolada_timeout,
                cache=DatabaseCache(session),
                mode="cache-first",
            )
            plan = plan_fetch(
                session=session,
                client=client,
                loan_reference=reference,
                years=years,
                compare=CompareChoice(similar_area="övergripande"),
                current_year=this_year,
            )
            result = import_plan(
                session=session,
                settings=settings,
                plan=plan,
                uploaded_by="demo load (Kolada)",
                current_year=this_year,
            )
            if not result.accepted:
                # one loan's values go in together or not at all; the caller names the errors
                session.rollback()
        done.append(DemoKoladaResult(plan, result))
    return done


def _demo_kolada_line(done: list[DemoKoladaResult]) -> str:
    """One line for the terminal: what came in per loan, and the source with its fetch date."""
    parts = []
    for d in done:
        differing = len(d.plan.of_status("different"))
        part = f"{d.plan.loan} {d.result.inserted} new"
        if differing:
            part += f", {differing} differing from stored values (left for a person)"
        parts.append(part)
    dates = sorted({day for d in done for day in d.plan.fetched_dates})
    fetched = f", hämtad {', '.join(day.isoformat() for day in dates)}" if dates else ""
    return (
        f"Kolada figures (illustrative, data/demo/kolada): {'; '.join(parts)}. "
        f"Källa: Kolada{fetched}"
    )


@demo_app.command("load")
def demo_load(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json"),
    site: str = typer.Option(
        "http://127.0.0.1:8000",
        "--site",
        help="Where the server will answer, for the sign-in line (make run passes its HOST and PORT).",
    ),
) -> None:
    """Load the demo portfolio (data/demo) and the Botkyrka loans' Kolada figures (data/demo/kolada).

    On a database without it, the 2024 report of the demo bond is published as it stood in May 2025
    (``services.demo_report``): the files uploaded later then show as the 2025 draft's restatements.
    Safe to run again: it changes nothing the second time.
    """
    from lanportfolj.kolada.client import KoladaError
    from lanportfolj.paths import demo_dir
    from lanportfolj.services import demo_report

    engine = migrated_engine(ctx)
    if demo_report.needs_publication(engine):
        _load(ctx, demo_dir(), as_json, submitted_until=demo_report.PUBLISHED_AT, quiet=True)
        report = demo_report.publish(engine, state(ctx).settings)
        if report is not None:
            (err_console if as_json else console).print(
                f"Published the demo report {demo_report.DEMO_ISIN} "
                f"{demo_report.REPORT_DATE.isoformat()} (as of "
                f"{demo_report.PUBLISHED_AT:%Y-%m-%d}), sha256 {report.sha256}",
                highlight=False,
            )
    _load(ctx, demo_dir(), as_json)
    try:
        done = load_demo_kolada(engine=migrated_engine(ctx), settings=state(ctx).settings)
    except KoladaError as exc:
        fail(exc.issue.message_en + "\n" + exc.issue.message_sv)
    refused = [d for d in done if not d.result.accepted]
    for d in refused:
        for error in d.result.errors:
            err_console.print(f"[red]✗[/red] {d.plan.loan}: {error.to_dict('en')}", highlight=False)
    # JSON stays the only thing on stdout with --json
    (err_console if as_json else console).print(
        _demo_kolada_line(done), highlight=False, soft_wrap=True
    )
    if refused:
        raise typer.Exit(EXIT_REJECTED)
    from lanportfolj.cli.users import create_demo_users

    create_demo_users(ctx, quiet=as_json, site=site)


@portfolio_app.command("load")
def portfolio_load(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="A portfolio folder (see docs/portfolio-format.md)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Load a portfolio folder in one transaction; every problem is listed and nothing is written."""
    if not path.exists():
        fail(f"{path}: no such file or folder")
    _load(ctx, path, as_json)


@library_app.command("check")
def library_check(
    directory: Path | None = typer.Argument(
        None, help="Defaults to the shipped indicator_library/."
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Check every indicator definition; exit 1 when any problem is found."""
    from lanportfolj.library import check_library, default_library_dir, load_library

    target = directory or default_library_dir()
    if not target.is_dir():
        fail(f"{target}: no such folder")
    issues = check_library(target)
    if as_json:
        print_json(
            {
                "directory": str(target),
                "ok": not issues,
                "issues": [
                    {"file": i.file, "code": i.code, "field": i.field, "message": i.message}
                    for i in issues
                ],
            }
        )
    else:
        for i in issues:
            where = " › ".join(str(p) for p in (i.file, i.code, i.field) if p)
            err_console.print(f"[red]✗[/red] {where}: {i.message}", highlight=False)
        if not issues:
            console.print(f"{target}: {len(load_library(target))} indicators, no problems.")
    if issues:
        raise typer.Exit(EXIT_REJECTED)


@library_app.command("list")
def library_list(
    directory: Path | None = typer.Argument(None),
    as_json: bool = typer.Option(False, "--json"),
    lang: str = typer.Option("en", "--lang", help="sv or en"),
) -> None:
    """List the library's indicators."""
    from lanportfolj.library import indicator_to_dict, load_library

    library = load_library(directory)
    if as_json:
        print_json([indicator_to_dict(ind) for ind in library.values()])
        return
    print_table(
        "Indicator library",
        ["code", "name", "unit", "kind", "aggregation", "ICMA"],
        (
            (i.code, i.name(lang), i.unit, i.kind, i.aggregation, i.icma_category)
            for i in library.values()
        ),
    )


@loans_app.command("list")
def loans_list(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json"),
    status: list[str] | None = typer.Option(None, "--status", help="Only these statuses."),
) -> None:
    """List the loans."""
    from lanportfolj import listings

    statuses = tuple(status) if status else None

    def through_orm(session: Session) -> list[dict[str, Any]]:
        from lanportfolj.services.loans import list_loans

        return list_loans(session, statuses=statuses)

    rows = listing_rows(ctx, lambda reader: listings.loans(reader, statuses), through_orm)
    if as_json:
        print_json([{k: v for k, v in r.items() if k != "borrower_id"} for r in rows])
        return
    print_table(
        "Loans",
        ["reference", "borrower", "title", "status", "amount SEK", "category", "discount bp"],
        (
            (
                r["reference"],
                r["borrower"],
                r["title"],
                r["status"],
                f"{r['amount']:,.0f}".replace(",", " "),
                r["programme_category"],
                r["discount_bp"].normalize(),
            )
            for r in rows
        ),
    )


@loans_app.command("show")
def loans_show(
    ctx: typer.Context, reference: str, as_json: bool = typer.Option(False, "--json")
) -> None:
    """Show one loan: its case, each indicator with baseline and target, and the measurements."""
    from sqlmodel import Session

    from lanportfolj.services.loans import loan_detail

    with Session(migrated_engine(ctx)) as session:
        detail = loan_detail(session, reference)
    if detail is None:
        fail(f"no loan with reference {reference!r}")
    if as_json:
        print_json(detail)
        return
    console.print(f"[bold]{detail['reference']}[/bold] {detail['title']} ({detail['status']})")
    console.print(f"{detail['borrower']['name']} {detail['borrower']['orgnr']}")
    console.print(
        f"Amount {detail['amount']} {detail['currency']}, discount {detail['discount_bp']} bp"
    )
    for ind in detail["indicators"]:
        current = {(m["group"], m["year"]): m["value"] for m in ind["measurements"] if m["current"]}
        values = ", ".join(
            f"{year}{' [' + group + ']' if group else ''}: {value}"
            for (group, year), value in sorted(current.items())
        )
        console.print(
            f"  {ind['code']} ({ind['unit']}): baseline {ind['baseline']['value']} "
            f"({ind['baseline']['year']}), target {ind['target']['value']} "
            f"({ind['target']['year']}); {values or 'no values yet'}",
            highlight=False,
        )


@bonds_app.command("list")
def bonds_list(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """List the social bonds and the size of their pools."""
    from lanportfolj import listings

    def through_orm(session: Session) -> list[dict[str, Any]]:
        from lanportfolj.services.loans import list_bonds

        return list_bonds(session)

    rows = listing_rows(ctx, listings.bonds, through_orm)
    if as_json:
        print_json(rows)
        return
    print_table(
        "Social bonds",
        ["ISIN", "name", "currency", "nominal", "coupon %", "issued", "matures", "pool loans"],
        (
            (
                r["isin"],
                r["name"],
                r["currency"],
                f"{r['nominal_amount']:,.0f}".replace(",", " "),
                r["coupon_pct"],
                r["issue_date"],
                r["maturity_date"],
                r["pool_loans"],
            )
            for r in rows
        ),
    )


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    workers: int = typer.Option(
        1, "--workers", help="Worker processes (production: one per core)."
    ),
) -> None:
    """Serve the web pages and the API."""
    import os

    import uvicorn

    st = state(ctx)
    refuse_bad_identifiers(migrated_engine(ctx))
    # workers re-create the app from the environment, so hand the command-line settings on that way
    if st.database_url:
        os.environ["LANPORTFOLJ_DATABASE_URL"] = st.database_url
    if st.config:
        os.environ["LANPORTFOLJ_CONFIG"] = st.config
    if "LANPORTFOLJ_SECRET_KEY" not in os.environ:
        # one key for every worker, or a cookie signed by one worker is refused by the next
        os.environ["LANPORTFOLJ_SECRET_KEY"] = st.settings.secret_key
        if workers > 1:
            err_console.print(
                "warning: LANPORTFOLJ_SECRET_KEY is not set; forms opened before a restart of the"
                " server are refused once after it (sign-ins are kept in the database)"
            )
    console.print(f"Serving on http://{host}:{port}/ (Ctrl-C stops)")
    # X-Forwarded-For/-Proto only from the proxies the settings name; uvicorn's own default trusts
    # 127.0.0.1 (and FORWARDED_ALLOW_IPS), which would let a local client choose its address
    from lanportfolj.web.auth import trusted_networks

    try:
        proxies = [str(n) for n in trusted_networks(st.settings.trusted_proxies)]
    except ValueError as exc:
        fail(str(exc))
    uvicorn.run(
        "lanportfolj.web.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # uvloop and httptools (pinned dependencies): less CPU per request than asyncio and h11 (/health
        # 1.2 → 0.8 ms). uvloop also sets TCP_NODELAY on every connection, which asyncio skips for the socket
        # uvicorn shares between workers (its protocol number is 0): with Nagle on, a keep-alive
        # response written in two parts waited 40 ms for the client's delayed ACK
        loop="uvloop",
        http="httptools",
        log_level="info",
        # no "server: uvicorn": what runs behind the port is nobody's business (issue 14)
        server_header=False,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or [],
    )


@bonds_app.command("header")
def bonds_header(
    ctx: typer.Context,
    isin: str = typer.Argument(..., help="The bond's ISIN."),
    issuer_name: str | None = typer.Option(None, "--issuer-name", help="The issuer's name."),
    lei: str | None = typer.Option(None, "--lei", help="The issuer's LEI (ISO 17442)."),
    framework_version: str | None = typer.Option(None, "--framework-version"),
    reviewer: str | None = typer.Option(None, "--reviewer", help="The external reviewer."),
    review_scope: str | None = typer.Option(
        None, "--review-scope", help="What the reviewer's statement covers."
    ),
    actor: str = typer.Option("cli", "--actor", help="Who records it (kept in the audit log)."),
) -> None:
    """Record the report header of a bond (issuer, LEI, framework, external reviewer and scope).

    The next report published shows it; a published report keeps the header it was frozen with.
    An option left out is left as it is; an empty value clears it.
    """
    from lanportfolj.db import session_scope
    from lanportfolj.services import bond_header

    given = {
        "issuer_name": issuer_name,
        "issuer_lei": lei,
        "framework_version": framework_version,
        "reviewer": reviewer,
        "review_scope": review_scope,
    }
    changes = {key: value for key, value in given.items() if value is not None}
    with session_scope(migrated_engine(ctx)) as session:
        try:
            header = bond_header.record(session, isin, changes, actor=actor)
        except bond_header.HeaderError as exc:
            fail(str(exc))
    for key, value in header.items():
        console.print(f"{key}: {value}", highlight=False, soft_wrap=True)
