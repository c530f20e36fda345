"""Alembic environment: runs on the engine handed over by ``lanportfolj.db.upgrade``."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import lanportfolj.models  # noqa: F401  (registers the tables on SQLModel.metadata)

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from lanportfolj.config import load_settings
        from lanportfolj.db import make_engine

        engine = make_engine(load_settings())
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite changes a table by copying it and dropping the old one (batch mode); with foreign keys
            # enforced, dropping a table that other rows point at fails ("FOREIGN KEY constraint failed")
            # once the database holds data. The pragma only takes effect outside a transaction, so it is
            # set before the migration's one, and every reference is checked before it is committed.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=sqlite,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(
                            f"the migration left {len(broken)} row(s) pointing at nothing, e.g. "
                            f"table {broken[0][0]} row {broken[0][1]} → {broken[0][2]}; nothing was changed"
                        )
            connection.commit()
        finally:
            if sqlite:
                connection.rollback()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


run_migrations_online()
