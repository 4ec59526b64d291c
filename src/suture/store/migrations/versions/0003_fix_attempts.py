"""Repair attempts of `suture fix`: every candidate, accepted or not, and each escalation.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    """Create the fix_attempts table."""
    op.create_table(
        "fix_attempts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("stage", sa.String(255), nullable=False),
        sa.Column("remedy", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("branch", sa.String(255), nullable=True),
        sa.Column("commit", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", _JSON, nullable=False),
    )
    op.create_index("ix_fix_attempts_run_id", "fix_attempts", ["run_id"])


def downgrade() -> None:
    """Drop the fix_attempts table."""
    op.drop_index("ix_fix_attempts_run_id", table_name="fix_attempts")
    op.drop_table("fix_attempts")
