"""``lanportfolj demo synth``: a synthetic national-scale portfolio for benchmarks."""

from __future__ import annotations

import time

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from lanportfolj.cli.common import console, err_console, migrated_engine, print_json
from lanportfolj.cli.portfolio import demo_app
from lanportfolj.db import session_scope
from lanportfolj.library import load_library
from lanportfolj.services.synth import synthesise


@demo_app.command("synth")
def demo_synth(
    ctx: typer.Context,
    loans: int = typer.Option(1000, "--loans", min=1, max=200_000),
    years: int = typer.Option(10, "--years", min=1, max=30),
    seed: int = typer.Option(1, "--seed"),
    indicators: int = typer.Option(12, "--indicators", min=1, max=40),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Add a synthetic portfolio (every row marked illustrative) with bulk inserts."""
    engine = migrated_engine(ctx)
    started = time.perf_counter()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("loans", total=loans)
        with session_scope(engine) as session:
            summary = synthesise(
                session=session,
                library=load_library(),
                loans=loans,
                years=years,
                seed=seed,
                indicators_per_loan=indicators,
                progress=lambda label, n: (
                    bar.update(task, completed=n, description=label) if label == "loans" else None
                ),
            )
    seconds = time.perf_counter() - started
    if as_json:
        print_json(summary.to_dict() | {"seconds": round(seconds, 2)})
        return
    console.print(
        f"{summary.loans} loans, {summary.loan_indicators} loan indicators, {summary.measurements} values "
        f"({summary.restated} restated, {summary.comparison_values} comparison) in {seconds:.1f} s; "
        f"bond {summary.bond_isin}."
    )
