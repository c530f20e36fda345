"""report header (issuer, LEI, external reviewer and scope) and report versions

A bond records the report header an analyst fills in (issuer name and LEI, the external reviewer and
the scope of its statement; the framework version was there already). A report published again for
the same date is a new version: the earlier one is kept as ``superseded``.

Revision ID: 0010
Revises: 0011
Create Date: 2026-12-03 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("social_bond", schema=None) as batch_op:
        for name, length in (
            ("issuer_name", 200),
            ("issuer_lei", 20),
            ("reviewer", 200),
            ("review_scope", 1000),
        ):
            batch_op.add_column(
                sa.Column(name, sa.String(length=length), nullable=False, server_default="")
            )
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.drop_constraint("uq_report_bond_date", type_="unique")
        batch_op.create_unique_constraint(
            "uq_report_bond_date_version", ["bond_id", "reporting_date", "version"]
        )


def downgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_constraint("uq_report_bond_date_version", type_="unique")
        batch_op.create_unique_constraint("uq_report_bond_date", ["bond_id", "reporting_date"])
        batch_op.drop_column("version")
    with op.batch_alter_table("social_bond", schema=None) as batch_op:
        for name in ("review_scope", "reviewer", "issuer_lei", "issuer_name"):
            batch_op.drop_column(name)
