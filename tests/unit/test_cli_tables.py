"""Tables the CLI prints: piped or captured output keeps every value whole."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from lanportfolj.cli.common import print_table


def test_a_piped_table_is_as_wide_as_its_values_and_cuts_nothing() -> None:
    app = typer.Typer()

    @app.command()
    def listing() -> None:
        print_table(
            "API tokens",
            ["id", "user", "expires", "last used"],
            [(1, "a.very.long.address@example-kommun.se", "2027-03-03", "2026-12-03 06:14:00")],
        )

    # COLUMNS=80 is what a pipe or a test worker reports; before, "2027-03-…" came out
    result = CliRunner().invoke(app, [], env={"COLUMNS": "40"})
    assert result.exit_code == 0
    assert "a.very.long.address@example-kommun.se" in result.output
    assert "2027-03-03" in result.output
    assert "2026-12-03 06:14:00" in result.output
    assert "…" not in result.output
