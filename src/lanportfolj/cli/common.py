"""What every command shares: settings from the root options, the engine, output in text or JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console

from lanportfolj.config import Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlmodel import Session

    from lanportfolj.listings import Reader

console = Console()
err_console = Console(stderr=True)

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2


@dataclass
class CliState:
    database_url: str | None = None
    config: str | None = None
    _settings: Settings | None = None
    _engine: Engine | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from pathlib import Path

            overrides: dict[str, Any] = {}
            if self.database_url:
                overrides["database_url"] = self.database_url
            self._settings = load_settings(
                config_file=Path(self.config) if self.config else None, **overrides
            )
        return self._settings

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from lanportfolj.db import make_engine

            self._engine = make_engine(self.settings)
        return self._engine


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


NOT_MIGRATED = "The database is not migrated. Run `lanportfolj db upgrade` first."


def migrated_engine(ctx: typer.Context) -> Engine:
    """The engine, after checking the schema is current: a clear message instead of a SQL error."""
    from lanportfolj.db import schema_is_current

    engine = state(ctx).engine
    if not schema_is_current(engine):
        fail(NOT_MIGRATED, code=EXIT_USAGE)
    return engine


@contextmanager
def listing_reader(ctx: typer.Context) -> Iterator[Reader | None]:
    """A driver-level reader for a listing (``lanportfolj.listings``), after the same schema check as
    :func:`migrated_engine`; None when the URL is not one it handles: the listing then uses the ORM."""
    from lanportfolj.listings import connect, schema_is_current

    with connect(state(ctx).settings.database_url) as reader:
        if reader is not None and not schema_is_current(reader):
            fail(NOT_MIGRATED, code=EXIT_USAGE)
        yield reader


def listing_rows(
    ctx: typer.Context,
    through_driver: Callable[[Reader], list[dict[str, Any]]],
    through_orm: Callable[[Session], list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """A listing's rows read through the bare driver (no SQLAlchemy or models imported: a listing
    starts in a fraction of the time), or through the ORM for a URL the driver path does not handle."""
    with listing_reader(ctx) as reader:
        if reader is not None:
            return through_driver(reader)
    from sqlmodel import Session

    with Session(migrated_engine(ctx)) as session:
        return through_orm(session)


def refuse_bad_identifiers(engine: Engine) -> None:
    """Exit 1 with the load check's message when stored identifiers break the grammar (issue 14)."""
    from rich.markup import escape

    from lanportfolj.services.stored_identifiers import (
        StoredIdentifierError,
        check_stored_identifiers,
    )

    try:
        check_stored_identifiers(engine)
    except StoredIdentifierError as exc:
        fail(escape(str(exc)))  # a stored value may hold [markup] of its own


def fail(message: str, *, code: int = EXIT_REJECTED) -> NoReturn:
    # never wrapped: a path or a value cut across lines can be neither copied nor searched for
    err_console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_json(data: Any) -> None:
    """JSON on stdout, for scripts: Decimals as strings (exact), dates ISO 8601."""
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_default))


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    if console.is_terminal:
        console.print(table)
    else:
        # piped or captured output has no screen to fit: cutting a date to "2027-03-…" would lose it, so
        # the table gets the width it needs (Console.print never widens beyond the console's own width)
        from rich.measure import Measurement

        needed = Measurement.get(console, console.options.update_width(10_000), table).maximum
        Console(width=max(console.width, needed), no_color=console.no_color).print(table)
