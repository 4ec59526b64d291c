"""Indexes for the dashboard and the Prometheus exporter on big stores.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Covering indexes for SUM(duration_s) per gate and status (read instead of log-laden rows),
    and the repair attempts of a period (the AI fix success rate KPI)."""
    op.create_index("ix_stages_name_status_duration", "stages", ["name", "status", "duration_s"])
    op.create_index("ix_runs_status_duration", "runs", ["status", "duration_s"])
    op.create_index("ix_fix_attempts_created_at", "fix_attempts", ["created_at"])


def downgrade() -> None:
    """Drop them."""
    op.drop_index("ix_fix_attempts_created_at", table_name="fix_attempts")
    op.drop_index("ix_runs_status_duration", table_name="runs")
    op.drop_index("ix_stages_name_status_duration", table_name="stages")
