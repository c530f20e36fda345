"""case studies: a narrative per loan and year in Swedish and English, approved before it is reported

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-03 07:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0015"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_study",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("text_sv", sa.Text(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("written_by", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["loan_id"], ["loan.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_study", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_study_loan_id"), ["loan_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_study", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_study_loan_id"))
    op.drop_table("case_study")
