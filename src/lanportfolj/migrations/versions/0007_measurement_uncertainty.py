"""measurement uncertainty (n, std_error) and official history

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lanportfolj.dbtypes

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("measurement", schema=None) as batch_op:
        batch_op.add_column(sa.Column("n", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("std_error", lanportfolj.dbtypes.ExactDecimal(28, 6), nullable=True)
        )
        # every stored value so far is the borrower's own or a comparison unit's, none history
        batch_op.add_column(
            sa.Column("history", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("measurement", schema=None) as batch_op:
        batch_op.drop_column("history")
        batch_op.drop_column("std_error")
        batch_op.drop_column("n")
