"""kolada response cache

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-30 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kolada_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kolada_response", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_kolada_response_url_sha256"), ["url_sha256"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("kolada_response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kolada_response_url_sha256"))
    op.drop_table("kolada_response")
