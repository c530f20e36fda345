"""The load check: refuse to run on stored identifiers that break their grammar.

Rows written before the grammar existed (or written around the application, by hand in SQL) could hold an
indicator code, a reference or a group name that a page would put into a script or an element id. Rather
than trust every sink with them, ``lanportfolj db upgrade`` (after migrating) and the web application's
start-up scan the identifier columns and stop with a message that names table, row id, field and value, and
says how to fix it. One query per column, reading only the id and the value (a group name only once per
distinct name), so the check stays fast on a national portfolio.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, inspect, text

from lanportfolj.domain import identifiers as ids

#: (table, column, the grammar's check); each check allows what an empty column means, if anything.
COLUMNS: tuple[tuple[str, str, Callable[[str, str], ids.Problem | None]], ...] = (
    ("indicator_definition", "code", ids.indicator_code_problem),
    ("loan", "reference", ids.loan_reference_problem),
    ("borrower", "orgnr", ids.orgnr_problem),
    ("social_bond", "isin", ids.isin_problem),
    ("measurement", "group_name", ids.comparison_group_problem),
)
#: How many bad values the message lists (all are counted).
SHOWN = 20


@dataclass(frozen=True)
class StoredProblem:
    """One stored value that breaks its grammar."""

    table: str
    row_id: int
    field: str
    value: str
    problem: ids.Problem

    def text(self) -> str:
        """One line: table, row id, field, the value (escaped) and the rule it breaks."""
        return (
            f"table {self.table}, row id {self.row_id}, field {self.field}, "
            f"value {ids.shown(self.value)!r}: {self.problem.message_en}"
        )


class StoredIdentifierError(RuntimeError):
    """Stored values break the identifier grammar; the message lists them and how to fix them."""

    def __init__(self, problems: list[StoredProblem]) -> None:
        self.problems = problems
        lines = [p.text() for p in problems[:SHOWN]]
        if len(problems) > SHOWN:
            lines.append(f"… and {len(problems) - SHOWN} more")
        super().__init__(
            f"{len(problems)} stored identifier(s) break the grammar (see README, 'Identifiers "
            "and limits'):\n  "
            + "\n  ".join(lines)
            + "\nFix each value at its source and load it again (portfolio.toml, the indicator library, "
            "the import file), or correct the row in the database (UPDATE <table> SET <field> = "
            "'<valid value>' WHERE id = <row id>), then run `lanportfolj db upgrade` again."
        )


def stored_identifier_problems(engine: Engine) -> list[StoredProblem]:
    """Every stored identifier that breaks its grammar; tables and columns not created yet are skipped."""
    with engine.connect() as conn:
        inspector = inspect(conn)
        tables = set(inspector.get_table_names())
        found: list[StoredProblem] = []
        for table, column, check in COLUMNS:
            # a database not migrated yet: what is not there cannot be wrong (db upgrade checks after)
            if table not in tables or column not in {
                c["name"] for c in inspector.get_columns(table)
            }:
                continue
            if table == "measurement":
                # millions of rows, a handful of names: one row per distinct name
                sql = (
                    f"SELECT MIN(id), {column} FROM {table} WHERE {column} <> '' GROUP BY {column}"
                )
            else:
                sql = f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL"
            for row_id, value in conn.execute(text(sql)):
                problem = check(str(value), column)
                if problem is not None:
                    found.append(StoredProblem(table, int(row_id), column, str(value), problem))
    return found


def check_stored_identifiers(engine: Engine) -> None:
    """Raise :class:`StoredIdentifierError` when any stored identifier breaks its grammar."""
    problems = stored_identifier_problems(engine)
    if problems:
        raise StoredIdentifierError(problems)
