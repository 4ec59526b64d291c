"""Releases of `suture deploy`, approvals, and timed deploy events.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")
_ACTIVE = sa.text("status IN ('running', 'awaiting_approval')")


def upgrade() -> None:
    """Create releases (one unfinished per environment), approvals and deploy_events."""
    op.create_table(
        "releases",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("env", sa.String(128), nullable=False),
        sa.Column("commit", sa.String(64), nullable=False),
        sa.Column("strategy", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("risk_score", sa.Float(), nullable=False),
        sa.Column("risk_level", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mttr_s", sa.Float(), nullable=True),
        sa.Column("author", sa.Text(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("payload", _JSON, nullable=False),
    )
    op.create_index("ix_releases_env_started", "releases", ["env", "started_at"])
    op.create_index("ix_releases_started", "releases", ["started_at"])
    op.create_index("ux_releases_active_env", "releases", ["env"], unique=True,
                    sqlite_where=_ACTIVE, postgresql_where=_ACTIVE)
    op.create_table(
        "approvals",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("release_id", sa.String(64),
                  sa.ForeignKey("releases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("approver", sa.Text(), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_approvals_release_id", "approvals", ["release_id"])
    op.create_table(
        "deploy_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("release_id", sa.String(64),
                  sa.ForeignKey("releases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("env", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", _JSON, nullable=False),
    )
    op.create_index("ix_deploy_events_release_id", "deploy_events", ["release_id"])
    op.create_index("ix_deploy_events_at", "deploy_events", ["at"])


def downgrade() -> None:
    """Drop the deploy tables."""
    op.drop_table("deploy_events")
    op.drop_table("approvals")
    op.drop_table("releases")
