"""``lanportfolj programme show [--date D] [--json]``: every bond, the eligible pool they share, the
allocation, headroom, ratio and the dated "bonds outstanding ≤ eligible pool" test."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import typer
from rich.markup import escape

from lanportfolj.cli import app
from lanportfolj.cli.common import (
    EXIT_USAGE,
    console,
    fail,
    migrated_engine,
    print_json,
    print_table,
)
from lanportfolj.db import session_scope
from lanportfolj.services.programme import programme_view, view_dict
from lanportfolj.services.reports import ReportError

programme_app = typer.Typer(help="The bond programme: several bonds on one eligible pool.")
app.add_typer(programme_app, name="programme")


@programme_app.command("show")
def show(
    ctx: typer.Context,
    raw_date: str | None = typer.Option(None, "--date", help="YYYY-MM-DD (default today)."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON (exact figures)."),
) -> None:
    """The programme at a date (SEK, outstanding basis)."""
    try:
        when = date.fromisoformat(raw_date) if raw_date else date.today()
    except ValueError:
        fail(f"--date: not a date (YYYY-MM-DD): {raw_date!r}", code=EXIT_USAGE)
    engine = migrated_engine(ctx)
    with session_scope(engine) as session:
        try:
            data = view_dict(programme_view(session, when))
        except ReportError as exc:
            fail(escape(exc.message_en))
    if as_json:
        print_json(data)
        return
    print_table(
        f"Bonds as of {data['as_of']}",
        ["ISIN", "currency", "nominal", "issue", "maturity", "status"],
        [
            (b["isin"], b["currency"], b["nominal"], b["issue_date"], b["maturity_date"],
             b["status"])
            for b in data["bonds"]
        ],
    )  # fmt: skip
    print_table(
        "Allocation (share × pool, rounded down)",
        ["ISIN", "share", "allocated", "unallocated", "allocated SEK"],
        [
            (b["isin"], b["share"], b["allocated"], b["unallocated"], b["allocated_sek"])
            for b in data["bonds"]
        ],
    )
    for b in data["bonds"]:
        if b["fx"]:
            console.print(escape(f"{b['isin']}: {b['fx']}"), highlight=False)
    verdict = "within the pool" if data["within_pool"] else "EXCEED the pool"
    console.print(
        escape(
            f"Eligible pool {data['pool_sek']} SEK; bonds outstanding {data['bonds_outstanding_sek']} "
            f"SEK ({verdict}); allocated {data['allocated_sek']} SEK, unallocated "
            f"{data['unallocated_sek']} SEK; headroom {data['headroom_sek']} SEK; ratio "
            f"{data['ratio']}"
        ),
        highlight=False,
    )
    print_table(
        "Bonds outstanding ≤ eligible pool",
        ["date", "kind", "bonds (SEK)", "pool (SEK)", "headroom (SEK)", "test"],
        [
            (t["date"], t["kind"], t["bonds_outstanding_sek"], t["pool_sek"], t["headroom_sek"],
             "ok" if t["within_pool"] else "FAILS")
            for t in data["history"]
        ],
    )  # fmt: skip
    for gap in data["missing_rates"]:
        console.print(
            f"{gap['date']}: no {gap['currency']} rate stored; not tested", highlight=False
        )
    for loan in data["left_pool"]:
        console.print(
            escape(
                f"left the pool in {loan['year']}: {loan['loan']} ({loan['event']} {loan['date']})"
            ),
            highlight=False,
        )
    for loan in data["matured_active"]:
        console.print(
            escape(
                f"warning: {loan['loan']} matured on {loan['maturity_date']} but is still active"
            ),
            highlight=False,
        )


def _day(raw: str, option: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        fail(f"{option}: not a date (YYYY-MM-DD): {raw!r}", code=EXIT_USAGE)


def _money(raw: str | None, option: str) -> Decimal | None:
    if raw is None:
        return None
    try:
        return Decimal(raw.replace(" ", "").replace(",", "."))
    except ArithmeticError:
        fail(f"{option}: not an amount: {raw!r}", code=EXIT_USAGE)


@programme_app.command("tranche")
def tranche(
    ctx: typer.Context,
    reference: str = typer.Argument(..., metavar="LOAN", help="The loan's reference."),
    raw_date: str = typer.Option(..., "--date", help="The disbursement date, YYYY-MM-DD."),
    amount: str = typer.Option(..., "--amount", help="SEK disbursed."),
    funding: str | None = typer.Option(
        None, "--funding", help="financing or refinancing (default: derived from the issue date)."
    ),
) -> None:
    """Record a dated disbursement (tranche) of a loan."""
    from lanportfolj.services.loan_events import LoanEventError, add_tranche

    day = _day(raw_date, "--date")
    value = _money(amount, "--amount")
    assert value is not None
    engine = migrated_engine(ctx)
    with session_scope(engine) as session:
        try:
            done = add_tranche(
                session, reference=reference, day=day, amount=value, funding=funding, actor="cli"
            )
        except LoanEventError as exc:
            fail(escape(exc.message_en))
        mark = done.funding or "derived"
        console.print(
            escape(f"{reference}: {done.amount} SEK disbursed on {day.isoformat()} ({mark})"),
            highlight=False,
        )


@programme_app.command("event")
def event(
    ctx: typer.Context,
    reference: str = typer.Argument(..., metavar="LOAN", help="The loan's reference."),
    kind: str = typer.Argument(..., help="matured, repaid, prepaid or written_down."),
    raw_date: str = typer.Option(..., "--date", help="The day it happened, YYYY-MM-DD."),
    amount: str | None = typer.Option(
        None, "--amount", help="SEK that left the pool (default: the whole outstanding amount)."
    ),
    note: str = typer.Option("", "--note", help="Why (kept in the audit trail)."),
) -> None:
    """Record a life event that takes a loan (or part of it) out of the pool on its date."""
    from lanportfolj.services.loan_events import LoanEventError, record_event

    day = _day(raw_date, "--date")
    value = _money(amount, "--amount")
    engine = migrated_engine(ctx)
    with session_scope(engine) as session:
        try:
            done = record_event(
                session, reference=reference, kind=kind, day=day, amount=value, note=note,
                actor="cli",
            )  # fmt: skip
        except LoanEventError as exc:
            fail(escape(exc.message_en))
        console.print(
            escape(f"{reference}: {kind} on {day.isoformat()}, {done.amount} SEK left the pool"),
            highlight=False,
        )
