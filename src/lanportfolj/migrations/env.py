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
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
