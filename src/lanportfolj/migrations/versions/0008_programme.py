"""the bond programme: dated FX rates, disbursement tranches, loan life events, measurement.written_at

Revision ID: 0008
Revises: 0009
Create Date: 2026-12-03 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lanportfolj.dbtypes

revision: str = "0008"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fx_rate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate_date", sa.Date(), nullable=False),
        sa.Column("sek_per_unit", lanportfolj.dbtypes.ExactDecimal(28, 6), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("currency", "rate_date", name="uq_fx_rate_currency_date"),
    )
    op.create_index(op.f("ix_fx_rate_currency"), "fx_rate", ["currency"], unique=False)
    op.create_table(
        "disbursement_tranche",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("disbursed_on", sa.Date(), nullable=False),
        sa.Column("amount", lanportfolj.dbtypes.ExactDecimal(20, 2), nullable=False),
        sa.Column("funding", sa.String(length=12), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["loan.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_disbursement_tranche_loan_id"), "disbursement_tranche", ["loan_id"], unique=False
    )
    op.create_table(
        "loan_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("amount", lanportfolj.dbtypes.ExactDecimal(20, 2), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["loan.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_loan_event_loan_id"), "loan_event", ["loan_id"], unique=False)
    with op.batch_alter_table("measurement", schema=None) as batch_op:
        # the versions stored so far were written when they were recorded (the best there is)
        batch_op.add_column(
            sa.Column(
                "written_at",
                sa.DateTime(timezone=True),
                nullable=False,
                server_default=sa.func.now(),
            )
        )
    op.execute("UPDATE measurement SET written_at = recorded_at")


def downgrade() -> None:
    with op.batch_alter_table("measurement", schema=None) as batch_op:
        batch_op.drop_column("written_at")
    op.drop_index(op.f("ix_loan_event_loan_id"), table_name="loan_event")
    op.drop_table("loan_event")
    op.drop_index(op.f("ix_disbursement_tranche_loan_id"), table_name="disbursement_tranche")
    op.drop_table("disbursement_tranche")
    op.drop_index(op.f("ix_fx_rate_currency"), table_name="fx_rate")
    op.drop_table("fx_rate")
