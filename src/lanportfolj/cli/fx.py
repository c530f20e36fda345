"""``lanportfolj fx load FILE`` (a Riksbank series download or a plain ``date;currency;rate`` file)
and ``lanportfolj fx list [--currency C] [--json]``.

``load`` is all or nothing: any bad row refuses the file (exit 1) naming its row and column.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from lanportfolj.cli import app
from lanportfolj.cli.common import console, fail, migrated_engine, print_json, print_table
from lanportfolj.db import session_scope
from lanportfolj.services.fx import list_rates, load_rates

fx_app = typer.Typer(help="FX rates as data: SEK per unit of a currency, dated, with a source.")
app.add_typer(fx_app, name="fx")


@fx_app.command("load")
def load(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="A Riksbank series CSV or a date;currency;rate file."),
    source: str | None = typer.Option(
        None, "--source", help="Where the rates come from (default: the Riksbank or the file name)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Store the file's rates; a rate already stored for that currency and day is replaced (audited)."""
    if not file.is_file():
        fail(f"{file}: no such file")
    data = file.read_bytes()
    engine = migrated_engine(ctx)
    with session_scope(engine) as session:
        result = load_rates(session, data=data, source=source or "", actor="cli")
        if result.accepted and not source:
            # the default source names where the rates came from
            session.rollback()
            named = "Riksbanken" if result.layout == "riksbank" else file.name
            result = load_rates(session, data=data, source=f"{named} ({file.name})", actor="cli")
        if not result.accepted:
            session.rollback()
    out = {
        "file": str(file),
        "layout": result.layout,
        "accepted": result.accepted,
        "inserted": result.inserted,
        "replaced": result.replaced,
        "unchanged": result.unchanged,
        "skipped_na": result.skipped,
        "problems": [
            {"row": p.row, "column": p.column, "message": p.message_en} for p in result.problems
        ],
    }
    if as_json:
        print_json(out)
    elif result.accepted:
        console.print(
            f"{escape(str(file))} ({result.layout}): {result.inserted} new, {result.replaced} "
            f"replaced, {result.unchanged} unchanged, {result.skipped} n/a skipped",
            highlight=False,
        )
    if not result.accepted:
        if not as_json:
            for p in result.problems[:50]:
                console.print(escape(f"{file}: {p.text('en')}"), highlight=False)
        fail(f"{escape(str(file))} was refused: {len(result.problems)} problem(s); nothing stored")


@fx_app.command("list")
def list_command(
    ctx: typer.Context,
    currency: str | None = typer.Option(None, "--currency", help="Only this currency."),
    limit: int = typer.Option(100, "--limit", min=1, help="At most this many (newest first)."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """The stored rates, newest first."""
    engine = migrated_engine(ctx)
    with session_scope(engine) as session:
        rates = list_rates(session, currency=currency, limit=limit)
    if as_json:
        print_json(
            [
                {
                    "date": r.day,
                    "currency": r.currency,
                    "sek_per_unit": r.sek_per_unit,
                    "source": r.source,
                }
                for r in rates
            ]
        )
        return
    print_table(
        "FX rates (SEK per unit)",
        ["date", "currency", "SEK per unit", "source"],
        [(r.day.isoformat(), r.currency, r.sek_per_unit, r.source) for r in rates],
    )
