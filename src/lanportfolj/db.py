"""Engines, sessions and migrations. ``make_engine(settings)`` is the only way an engine is made."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib import resources
from itertools import repeat
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlmodel import Session

from lanportfolj.config import Settings
from lanportfolj.driver import sqlite_pragmas
from lanportfolj.schema_heads import migration_heads, migrations_dir  # noqa: F401 (imported from here)

if TYPE_CHECKING:
    from alembic.config import Config

# alembic is imported only by the functions that migrate: every command checks the schema, and importing
# alembic cost a listing like ``bonds list`` a third of its start-up (issue 15)


def make_engine(settings: Settings, **kwargs: Any) -> Engine:
    """An engine for ``settings.database_url``, set up for safe concurrent use on SQLite and PostgreSQL."""
    url = settings.database_url
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", sqlite_pragmas)
        return engine
    engine = create_engine(url, pool_pre_ping=True, **kwargs)
    # cached pages learn of this engine's commits without a query (issue 15)
    from lanportfolj.shared_generation import watch

    watch(engine, recheck=settings.page_cache_recheck_seconds)
    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back whole when it raises."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(engine: Engine) -> Config:
    """Alembic configuration pointing at the migrations inside the package, bound to ``engine``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("lanportfolj") / "migrations"))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (default: the newest)."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def schema_is_current(engine: Engine) -> bool:
    """True when the database has been migrated to the newest revision."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return False
        heads = {row[0] for row in conn.exec_driver_sql("SELECT version_num FROM alembic_version")}
    return heads == migration_heads()


def bulk_insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> int:
    """Insert many rows of ``model`` with one driver-level ``executemany``.

    Each column's bind processing (exact decimals, timestamps) is looked up once, not once per value, which
    is what makes hundreds of thousands of measurements affordable. Every row must have the same keys.
    """
    if not rows:
        return 0
    names = list(rows[0])
    sql, processors = _insert_statement(session, model, names)
    params = [
        tuple(
            value if processor is None or value is None else processor(value)
            for value, processor in zip((row[n] for n in names), processors, strict=True)
        )
        for row in rows
    ]
    session.connection().exec_driver_sql(sql, params)
    return len(params)


def bulk_insert_columns(
    session: Session,
    model: Any,
    columns: Mapping[str, Sequence[Any]],
    constants: Mapping[str, Any] | None = None,
) -> int:
    """:func:`bulk_insert` from whole columns (equal lengths) plus values shared by every row.

    Bind processing runs column by column and once per constant, and the parameter tuples are zipped in C:
    no dict per row for callers whose data is already columnar (a polars frame).
    """
    constants = dict(constants or {})
    names = [*columns, *constants]
    sql, processors = _insert_statement(session, model, names)
    lengths = {len(values) for values in columns.values()}
    if len(lengths) != 1:
        raise ValueError(f"columns of unequal or no length: {sorted(lengths)}")
    count = lengths.pop()
    if count == 0:
        return 0
    prepared: list[Iterable[Any]] = []
    for values, processor in zip(columns.values(), processors, strict=False):
        if processor is None:
            prepared.append(values)
        else:
            prepared.append([None if value is None else processor(value) for value in values])
    for value, processor in zip(constants.values(), processors[len(columns) :], strict=True):
        prepared.append(repeat(value if processor is None or value is None else processor(value)))
    params = list(zip(*prepared, strict=False))
    session.connection().exec_driver_sql(sql, params)
    return count


def advance_id_sequences(session: Session, models: Iterable[Any]) -> None:
    """After inserting rows with explicit ids: move each table's id sequence past its largest id.

    PostgreSQL's serial columns take the next id from a sequence that explicit ids do not advance, so the
    next ordinary insert (an import's submission after ``demo synth``) would collide with a row already
    there. SQLite picks ``max(id) + 1`` itself: nothing to do.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return
    quote = connection.dialect.identifier_preparer.quote
    for model in models:
        table = model.__table__.name
        connection.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) "
            f"FROM {quote(table)}",
            (quote(table),),
        )


def _insert_statement(session: Session, model: Any, names: list[str]) -> tuple[str, list[Any]]:
    """The INSERT for ``names`` in the driver's parameter style, and each column's bind processor."""
    table = model.__table__
    dialect = session.connection().dialect
    processors = [table.c[name].type._cached_bind_processor(dialect) for name in names]
    quote = dialect.identifier_preparer.quote
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({', '.join([marker] * len(names))})"
    )
    return sql, processors
