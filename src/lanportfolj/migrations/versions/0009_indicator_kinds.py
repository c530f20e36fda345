"""indicator kinds: context and the aggregation's justification; ex-ante expected values

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-03 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lanportfolj.dbtypes

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("indicator_definition", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("context", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("aggregation_reason_sv", sa.Text(), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("aggregation_reason_en", sa.Text(), nullable=False, server_default="")
        )
    with op.batch_alter_table("loan_indicator", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("expected_value", lanportfolj.dbtypes.ExactDecimal(28, 6), nullable=True)
        )
        batch_op.add_column(
            sa.Column("expected_frozen_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("loan_indicator", schema=None) as batch_op:
        batch_op.drop_column("expected_frozen_at")
        batch_op.drop_column("expected_value")
    with op.batch_alter_table("indicator_definition", schema=None) as batch_op:
        batch_op.drop_column("aggregation_reason_en")
        batch_op.drop_column("aggregation_reason_sv")
        batch_op.drop_column("context")
