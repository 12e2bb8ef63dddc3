"""What the operator console reads: the ledger's calls, one row each, and microDAO-scoped operator keys.

`ledger_calls` is a projection like usage_daily, written by the same projector in the same transaction as
the tracking position (exactly once, rebuildable): one row per LLM call, tool call, memory write and agent
turn, so the console lists recent calls and one request id's turn without decoding the event store. Its
rows belong to their microDAO (row-level security as in 0007/0008; the key leads with microdao_id).

An operator key may now name a microDAO (it then sees only that one's rows); agent keys still must.

Revision ID: 0960_console_reads
Revises: 0950_memory_versions
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0960_console_reads"
down_revision = "0950_memory_versions"
branch_labels = None
depends_on = None

_RULE = "microdao_id = current_setting('daarion.microdao_id', true)"


def upgrade() -> None:
    op.execute("""
        CREATE TABLE ledger_calls (
            microdao_id text NOT NULL,
            position bigint NOT NULL,
            request_id text NOT NULL,
            at timestamptz NOT NULL,
            kind text NOT NULL,
            agent_id text NOT NULL,
            subject text NOT NULL,
            provider text NOT NULL DEFAULT '',
            model text NOT NULL DEFAULT '',
            status text NOT NULL,
            error_type text,
            latency_ms double precision NOT NULL DEFAULT 0,
            cost_usd numeric(20, 10),
            prompt_tokens bigint NOT NULL DEFAULT 0,
            completion_tokens bigint NOT NULL DEFAULT 0,
            CONSTRAINT pk_ledger_calls PRIMARY KEY (microdao_id, position)
        )
    """)
    op.execute("CREATE INDEX ix_ledger_calls_position ON ledger_calls (position DESC)")
    op.execute("CREATE INDEX ix_ledger_calls_request_id ON ledger_calls (request_id)")
    op.execute("CREATE INDEX ix_ledger_calls_kind_subject ON ledger_calls (kind, subject, agent_id)")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON ledger_calls TO daarion_app")
    op.execute("ALTER TABLE ledger_calls ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY ledger_calls_tenant ON ledger_calls TO daarion_app USING ({_RULE}) WITH CHECK ({_RULE})")
    op.execute("ALTER TABLE api_keys DROP CONSTRAINT api_keys_agent_has_microdao")
    op.execute("ALTER TABLE api_keys ADD CONSTRAINT api_keys_agent_has_microdao "
               "CHECK (agent_id IS NULL OR microdao_id IS NOT NULL)")


def downgrade() -> None:
    op.execute("DELETE FROM api_keys WHERE agent_id IS NULL AND microdao_id IS NOT NULL")
    op.execute("ALTER TABLE api_keys DROP CONSTRAINT api_keys_agent_has_microdao")
    op.execute("ALTER TABLE api_keys ADD CONSTRAINT api_keys_agent_has_microdao "
               "CHECK ((agent_id IS NULL) = (microdao_id IS NULL))")
    op.execute("DROP TABLE ledger_calls")
