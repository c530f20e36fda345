"""The ``lanportfolj`` command line. Commands are thin: parse, call one service, print.

Exit codes: 0 done, 1 input rejected, 2 usage error.

Start-up is kept short (issue 15: ``--help`` and listings within 0.3 s): this module imports only typer,
and a command's module is imported when that command runs, never for ``--help`` or the listing.
:data:`COMMANDS` says which module(s) define each top-level command and the one line the listing shows.

**A new command module MUST be added to COMMANDS**: name → the module(s) that register it on ``app``
(or on a sub-app such as ``loans_app``) and its help line, which must be the first paragraph of the
command's docstring or the sub-app's ``help=`` (``tests/unit/test_cli_start.py`` checks both, and that
``--help`` imports none of polars, alembic, httpx, plotly, litestar, sqlalchemy). A command whose module is
not in the table cannot be run. Inside a command module, import what only one command needs inside that
command's function: ``lanportfolj bonds list`` should not pay for the Kolada client or the reports.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

import typer
from typer import _click
from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param
from typer._param_types import coerce_cli_path
from typer.core import TyperCommand, TyperGroup, _TyperParameter

from lanportfolj import __version__


@dataclass(frozen=True)
class CommandEntry:
    """Where one top-level command lives and what the listing says about it."""

    modules: tuple[str, ...]
    help: str


_PORTFOLIO = "lanportfolj.cli.portfolio"

#: Every top-level command, in the order ``lanportfolj --help`` lists them.
COMMANDS: dict[str, CommandEntry] = {
    "db": CommandEntry((_PORTFOLIO,), "Database schema."),
    "demo": CommandEntry((_PORTFOLIO, "lanportfolj.cli.synth"), "The demo portfolio."),
    "portfolio": CommandEntry((_PORTFOLIO,), "Load a lender's portfolio folder."),
    "library": CommandEntry((_PORTFOLIO,), "The indicator library."),
    "loans": CommandEntry((_PORTFOLIO, "lanportfolj.cli.assess"), "Loans and applications."),
    "bonds": CommandEntry((_PORTFOLIO,), "Social bonds."),
    "serve": CommandEntry((_PORTFOLIO,), "Serve the web pages and the API."),
    "assess": CommandEntry(
        ("lanportfolj.cli.assess",),
        "Check a loan against the eligibility rules E1–E12 and show the discount.",
    ),
    "template": CommandEntry(
        ("lanportfolj.cli.imports",),
        "Write a loan's yearly reporting template, pre-filled with its indicators and earlier values.",
    ),
    "import": CommandEntry(
        ("lanportfolj.cli.imports",),
        "Import a borrower's measurement file: all or nothing, restatements kept as new versions.",
    ),
    "kolada": CommandEntry(("lanportfolj.cli.kolada",), "Official key figures from Kolada."),
    "report": CommandEntry(
        ("lanportfolj.cli.reports",),
        "Write the bond's report files, or publish the report with `report publish ISIN`.",
    ),
    "power": CommandEntry(
        ("lanportfolj.cli.evaluation",),
        "Minimum detectable effect for a planned sample, or the sample needed for an effect; with"
        " --loan, the minimum detectable effect on the loan's official (Kolada) figures.",
    ),
    "fx": CommandEntry(
        ("lanportfolj.cli.fx",),
        "FX rates as data: SEK per unit of a currency, dated, with a source.",
    ),
    "programme": CommandEntry(
        ("lanportfolj.cli.programme",), "The bond programme: several bonds on one eligible pool."
    ),
    "users": CommandEntry(("lanportfolj.cli.users",), "User accounts and roles."),
    "tokens": CommandEntry(("lanportfolj.cli.users",), "API tokens for scripts."),
}


def load_all_commands() -> None:
    """Import every command module (tests and documentation generators; never needed to run one)."""
    for entry in COMMANDS.values():
        for module in entry.modules:
            importlib.import_module(module)


@dataclass(frozen=True)
class _DeferredRuntimeParam(RuntimeParam):
    """Typer's coercion of one parameter, without building a pydantic adapter for the common values.

    typer 0.29 builds a pydantic ``TypeAdapter`` for every parameter it processes, even an option left at
    None: that imported pydantic (~0.15 s) into every command, a listing included. A value that is None never
    gets here (``RuntimeParam.coerce`` returns first). A ``str`` (or ``list[str]``) given as text is what the
    adapter would return unchanged; a ``Path`` is checked by typer's own ``coerce_cli_path``, the function
    its adapter calls, with the same messages. Anything else is handed to the adapter typer builds.
    """

    descriptor: TypeDescriptor

    def _coerce_value(self, value: Any, param: _TyperParameter, ctx: _click.Context) -> Any:
        annotation, info = self.annotation, self.parameter_info
        if info.parser is None:
            if annotation is str and isinstance(value, str):
                return value
            if (
                get_origin(annotation) is list
                and get_args(annotation) == (str,)
                and isinstance(value, list | tuple)
                and all(isinstance(item, str) for item in value)
            ):
                return list(value)
            if (
                isinstance(annotation, type)
                and issubclass(annotation, Path)
                and info.path_type is None
                and not info.allow_dash
                and isinstance(value, str)
            ):
                # path_type=str: typer's checks (exists, readable, …) on the text as typed, then the Path
                return annotation(coerce_cli_path(value, info, path_type=str, param=param, ctx=ctx))
        real = build_runtime_param(self.descriptor)
        param._runtime_param = real
        return real._coerce_value(value, param, ctx)


def _deferred_runtime_param(self: _TyperParameter) -> RuntimeParam:
    if self._runtime_param is None:
        descriptor = self.type_descriptor
        self._runtime_param = _DeferredRuntimeParam(
            parameter_info=descriptor.parameter_info,
            annotation=descriptor.annotation,
            descriptor=descriptor,
        )
    return self._runtime_param


# every parameter of every command, the help and completion options typer adds included (typer is pinned:
# tests/unit/test_cli_start.py checks that a listing imports no pydantic and that typer's messages stay)
_TyperParameter.get_runtime_param = _deferred_runtime_param  # type: ignore[method-assign]


class _LazyGroup(TyperGroup):
    """The root group: lists :data:`COMMANDS` from the table, imports a command's module only to run it."""

    def list_commands(self, ctx: _click.Context) -> list[str]:
        return [*COMMANDS, *(name for name in self.commands if name not in COMMANDS)]

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        command = self.commands.get(cmd_name)
        if command is not None or cmd_name not in COMMANDS:
            return command
        # the listing (``--help``) asks for every command: a stand-in with the table's help line
        return TyperCommand(cmd_name, help=COMMANDS[cmd_name].help)

    def resolve_command(
        self, ctx: _click.Context, args: list[str]
    ) -> tuple[str | None, _click.Command | None, list[str]]:
        if args and args[0] in COMMANDS:
            self._load(args[0])
        return super().resolve_command(ctx, args)

    def _load(self, name: str) -> None:
        modules = COMMANDS[name].modules
        # a group may be built already from one of its modules (``demo`` by portfolio, before synth)
        if name in self.commands and all(m in sys.modules for m in modules):
            return
        for module in modules:
            importlib.import_module(module)
        built = typer.main.get_command(app)
        if not isinstance(built, TyperGroup) or name not in built.commands:
            raise RuntimeError(f"COMMANDS names {name!r} but its modules do not define it")
        self.commands[name] = built.commands[name]


app = typer.Typer(
    name="lanportfolj",
    help="A municipal lender's social-sustainability loans and the social bond behind them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=_LazyGroup,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"lanportfolj {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    database_url: str | None = typer.Option(
        None, "--database-url", help="Overrides LANPORTFOLJ_DATABASE_URL.", envvar=None
    ),
    config: str | None = typer.Option(None, "--config", help="A TOML settings file."),
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_print_version, help="Print the version."
    ),
) -> None:
    """Settings come from LANPORTFOLJ_* environment variables, a TOML file, or these options."""
    from lanportfolj.cli.common import state

    st = state(ctx)
    st.database_url = database_url
    st.config = config
