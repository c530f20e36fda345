"""Read-only listings for the command line, straight through the database driver (issue 15 item 2).

``lanportfolj bonds list`` and ``loans list`` should start within 0.3 s. Importing SQLAlchemy, SQLModel
(with pydantic) and the ORM models took about 0.5 s of CPU before the first query, for a listing that is one
SELECT. Here the driver (``sqlite3``, or ``psycopg`` for PostgreSQL) runs that SELECT and the values are
converted as the ORM's column types convert them, so the rows equal :func:`lanportfolj.services.loans.list_loans`
and :func:`~lanportfolj.services.loans.list_bonds` (``tests/integration/test_listings.py`` compares them on
both databases). Only the URL forms :func:`connect` understands take this path; any other URL (another driver,
SQLite URI options) gives None and the caller uses the ORM as before.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

from lanportfolj.exact import plain
from lanportfolj.schema_heads import migration_heads


@dataclass(frozen=True)
class Reader:
    """A DB-API connection and how to write a parameter for it."""

    connection: Any
    dialect: str  # "sqlite" or "postgresql"

    @property
    def marker(self) -> str:
        return "?" if self.dialect == "sqlite" else "%s"

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, tuple(params))
            return list(cursor.fetchall())
        finally:
            cursor.close()


def _sqlite_path(url: str) -> str | None:
    """The file of ``sqlite:///relative`` or ``sqlite:////absolute``; None for anything else."""
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix):
            path = url.removeprefix(prefix)
            # in-memory databases and URI options (?mode=ro, ?uri=true) are the ORM's to interpret
            if not path or path == ":memory:" or "?" in path:
                return None
            return path
    return None


def _postgres_conninfo(url: str) -> str | None:
    """A libpq URI for ``postgresql://`` or ``postgresql+psycopg://`` (the driver ``make_engine`` uses)."""
    for prefix in ("postgresql+psycopg://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql://" + url.removeprefix(prefix)
    return None


@contextmanager
def connect(database_url: str) -> Iterator[Reader | None]:
    """A read-only :class:`Reader` on ``database_url``, or None when this module does not handle the URL
    or cannot connect (the ORM path then connects and reports the problem in its own words)."""
    connection: Any = None
    dialect = ""
    path = _sqlite_path(database_url)
    conninfo = None if path is not None else _postgres_conninfo(database_url)
    try:
        if path is not None:
            import sqlite3

            # the engine's busy timeout: an import writing at the same time is waited for, not failed on
            connection = sqlite3.connect(unquote(path), timeout=10)
            dialect = "sqlite"
        elif conninfo is not None:
            import psycopg

            connection = psycopg.connect(conninfo, autocommit=True)
            dialect = "postgresql"
    except Exception:  # the ORM path connects again and raises its own, familiar error
        connection = None
    if connection is None:
        yield None
        return
    try:
        yield Reader(connection, dialect)
    finally:
        connection.close()


def schema_is_current(reader: Reader) -> bool:
    """What :func:`lanportfolj.db.schema_is_current` says, asked through the driver."""
    if reader.dialect == "sqlite":
        found = reader.rows(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        )
    else:
        # a table the search path finds, as SQLAlchemy's has_table (pg_table_is_visible) asks
        found = reader.rows("SELECT to_regclass('alembic_version') IS NOT NULL")[0][0]
    if not found:
        return False
    heads = {row[0] for row in reader.rows("SELECT version_num FROM alembic_version")}
    return heads == migration_heads()


def _decimal(value: Any) -> Decimal | None:
    """As ``dbtypes.ExactDecimal`` reads a value: SQLite's text or PostgreSQL's NUMERIC, made plain."""
    if value is None:
        return None
    return plain(value if isinstance(value, Decimal) else Decimal(str(value)))


def _date(value: Any) -> date | None:
    """SQLite keeps dates as ``YYYY-MM-DD`` text; PostgreSQL's driver gives a date already."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def bonds(reader: Reader) -> list[dict[str, Any]]:
    """The rows of ``services.loans.list_bonds``: every bond by issue date, with its pool's size."""
    counts = dict(reader.rows("SELECT bond_id, COUNT(*) FROM bond_pool_entry GROUP BY bond_id"))
    return [
        {
            "isin": isin,
            "name": name,
            "currency": currency,
            "nominal_amount": _decimal(nominal),
            "coupon_pct": _decimal(coupon),
            "issue_date": _date(issued),
            "maturity_date": _date(matures),
            "framework_version": framework,
            "pool_loans": counts.get(bond_id, 0),
            "illustrative": _bool(illustrative),
        }
        for bond_id, isin, name, currency, nominal, coupon, issued, matures, framework, illustrative in (
            reader.rows(
                "SELECT id, isin, name, currency, nominal_amount, coupon_pct, issue_date, "
                "maturity_date, framework_version, illustrative FROM social_bond "
                "ORDER BY issue_date, id"
            )
        )
    ]


def loans(reader: Reader, statuses: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The rows of ``services.loans.list_loans(statuses=…)``, ordered by reference."""
    where = ""
    params: list[str] = []
    if statuses:
        where = f" WHERE loan.status IN ({', '.join([reader.marker] * len(statuses))})"
        params = list(statuses)
    rows = reader.rows(
        "SELECT loan.reference, loan.title, borrower.name, borrower.orgnr, borrower.id, loan.status, "
        "loan.amount, loan.currency, loan.outstanding_amount, loan.programme_category, "
        "loan.icma_category, loan.discount_bp, loan.disbursement_date, loan.maturity_date, "
        "loan.illustrative FROM loan JOIN borrower ON borrower.id = loan.borrower_id"
        f"{where} ORDER BY loan.reference",
        params,
    )
    return [
        {
            "reference": row[0],
            "title": row[1],
            "borrower": row[2],
            "borrower_orgnr": row[3],
            "borrower_id": row[4],
            "status": row[5],
            "amount": _decimal(row[6]),
            "currency": row[7],
            "outstanding_amount": _decimal(row[8]),
            "programme_category": row[9],
            "icma_category": row[10],
            "discount_bp": _decimal(row[11]),
            "disbursement_date": _date(row[12]),
            "maturity_date": _date(row[13]),
            "illustrative": _bool(row[14]),
        }
        for row in rows
    ]
