"""The files a pushed plan includes, stored with its revision.

Revision ID: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "plan_revisions",
        sa.Column("file_count", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "plan_files",
        sa.Column("revision_id", sa.Integer, sa.ForeignKey("plan_revisions.id"), nullable=False),
        sa.Column("path", sa.String(300), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("revision_id", "path", name="pk_plan_files"),
    )


def downgrade() -> None:
    op.drop_table("plan_files")
    with op.batch_alter_table("plan_revisions") as batch:
        batch.drop_column("file_count")
