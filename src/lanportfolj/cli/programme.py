"""``lanportfolj programme show [--date D] [--json]``: every bond, the eligible pool they share, the
allocation, headroom, ratio and the dated "bonds outstanding ≤ eligible pool" test."""

from __future__ import annotations

from datetime import date

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
