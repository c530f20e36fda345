"""report chunks: a published report's frozen JSON kept as numbered byte pieces, not one text value

At national scale the frozen JSON is ~500 MB. As one text value publishing had to hold it whole (and the
SQLite driver a second copy) and every reader read it whole; as pieces it is written as it is made and
read a piece at a time. A report published before this keeps its bytes, as its one piece 0.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_chunk",
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"]),
        sa.PrimaryKeyConstraint("report_id", "seq"),
    )
    # the text's UTF-8 bytes, as they are: the SHA-256 kept with the report is of them
    as_bytes = (
        "CAST(frozen_data AS BLOB)"
        if op.get_bind().dialect.name == "sqlite"
        else "convert_to(frozen_data, 'UTF8')"
    )
    op.execute(
        f"INSERT INTO report_chunk (report_id, seq, content) SELECT id, 0, {as_bytes} "
        "FROM report WHERE frozen_data IS NOT NULL"
    )
    # emptied first, so SQLite's copy of the table (batch mode) does not copy the texts too
    op.execute("UPDATE report SET frozen_data = NULL")
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_column("frozen_data")


def downgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("frozen_data", sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        joined = (
            "SELECT CAST(group_concat(content, '') AS TEXT) FROM (SELECT content FROM report_chunk "
            "WHERE report_chunk.report_id = report.id ORDER BY seq)"
        )
    else:
        joined = (
            "SELECT convert_from(string_agg(content, ''::bytea ORDER BY seq), 'UTF8') "
            "FROM report_chunk WHERE report_chunk.report_id = report.id"
        )
    op.execute(
        f"UPDATE report SET frozen_data = ({joined}) "
        "WHERE id IN (SELECT report_id FROM report_chunk)"
    )
    op.drop_table("report_chunk")
