"""Embeddings count against budgets from the first call of a month: a budget row starts from what the usage
projection holds for the month, and that now includes POST /v1/embeddings (kind 'embeddings') beside chat.

Revision ID: 0930_embeddings_spend
Revises: 0910_tenant_keys
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0930_embeddings_spend"
down_revision = "0910_tenant_keys"
branch_labels = None
depends_on = None

PROJECTED_SPEND = """
CREATE OR REPLACE FUNCTION llm_projected_spend(p_scope text, p_subject text, p_month date) RETURNS numeric
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_scope = 'agent' THEN
        RETURN (SELECT coalesce(sum(u.cost_usd), 0) FROM usage_daily u WHERE u.agent_id = p_subject
                AND u.kind IN ({kinds}) AND u.day >= p_month AND u.day < (p_month + interval '1 month')::date);
    ELSIF p_scope = 'microdao' THEN
        RETURN (SELECT coalesce(sum(u.cost_usd), 0) FROM usage_daily u WHERE u.microdao_id = p_subject
                AND u.kind IN ({kinds}) AND u.day >= p_month AND u.day < (p_month + interval '1 month')::date);
    END IF;
    RETURN 0;  -- the ledger does not record keys: a key's spend counts from its row's creation
END $$
"""


def upgrade() -> None:
    op.execute(PROJECTED_SPEND.format(kinds="'llm', 'embeddings'"))


def downgrade() -> None:
    op.execute(PROJECTED_SPEND.format(kinds="'llm'"))
