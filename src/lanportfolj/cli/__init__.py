"""The ``lanportfolj`` command line. Commands are thin: parse, call one service, print.

Exit codes: 0 done, 1 input rejected, 2 usage error.
"""

from __future__ import annotations

import typer

from lanportfolj.cli.common import state

app = typer.Typer(
    name="lanportfolj",
    help="A municipal lender's social-sustainability loans and the social bond behind them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def main(
    ctx: typer.Context,
    database_url: str | None = typer.Option(
        None, "--database-url", help="Overrides LANPORTFOLJ_DATABASE_URL.", envvar=None
    ),
    config: str | None = typer.Option(None, "--config", help="A TOML settings file."),
) -> None:
    """Settings come from LANPORTFOLJ_* environment variables, a TOML file, or these options."""
    st = state(ctx)
    st.database_url = database_url
    st.config = config


# each module adds its commands to ``app`` (or its sub-apps) on import
from lanportfolj.cli import assess as _assess  # noqa: E402,F401
from lanportfolj.cli import evaluation as _evaluation  # noqa: E402,F401
from lanportfolj.cli import fx as _fx  # noqa: E402,F401
from lanportfolj.cli import imports as _imports  # noqa: E402,F401
from lanportfolj.cli import kolada as _kolada  # noqa: E402,F401
from lanportfolj.cli import portfolio as _portfolio  # noqa: E402,F401
from lanportfolj.cli import programme as _programme  # noqa: E402,F401
from lanportfolj.cli import reports as _reports  # noqa: E402,F401
from lanportfolj.cli import synth as _synth  # noqa: E402,F401
from lanportfolj.cli import users as _users  # noqa: E402,F401
