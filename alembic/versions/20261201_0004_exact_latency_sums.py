"""usage_daily.latency_ms_sum becomes an exact decimal: a float sum depends on the order of its terms, so a
projection rebuilt in other batches came out a rounding step apart from the one it replaced.

Revision ID: 0004_exact_latency_sums
Revises: 0001_core
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0004_exact_latency_sums"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE usage_daily ALTER COLUMN latency_ms_sum TYPE numeric(24, 3) "
               "USING round(latency_ms_sum::numeric, 3)")


def downgrade() -> None:
    op.execute("ALTER TABLE usage_daily ALTER COLUMN latency_ms_sum TYPE double precision")
