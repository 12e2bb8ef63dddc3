"""Memory corrections and near-duplicates: a version per memory, the texts it superseded, merge counts.

memory_items.version      1 when stored, +1 per correction (PATCH); the ETag a correction's If-Match names.
memory_items.merge_count  store calls merged into this memory as near-duplicates; last_seen_at the latest.
memory_versions           the superseded versions of a mid-term memory (the current one is its memory_items
                          row). The ledger is forever and holds no content (sizes and hashes only), so the
                          texts of a memory's history live here, beside the memory: the foreign key cascades,
                          and forgetting the memory erases every earlier text with it. Rows are written only
                          by a correction holding its item's row lock (infra.memory.pg_sql's lock order).

Row-level security as for memory_items (alembic 0007_memory_rls): the agent's own rows of its microDAO.

Revision ID: 0950_memory_versions
Revises: 0930_embeddings_spend
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0950_memory_versions"
down_revision = "0930_embeddings_spend"
branch_labels = None
depends_on = None

OWN = ("microdao_id = current_setting('daarion.microdao_id', true) "
       "AND agent_id = current_setting('daarion.agent_id', true)")


def upgrade() -> None:
    op.execute("ALTER TABLE memory_items ADD COLUMN version integer NOT NULL DEFAULT 1, "
               "ADD COLUMN merge_count integer NOT NULL DEFAULT 0, ADD COLUMN last_seen_at timestamptz")
    op.execute(
        """
        CREATE TABLE memory_versions (
            item_id uuid NOT NULL,
            version integer NOT NULL,
            microdao_id text NOT NULL,
            agent_id text NOT NULL,
            kind text NOT NULL,
            content jsonb NOT NULL,
            text text NOT NULL,
            content_hash text NOT NULL,
            content_bytes integer NOT NULL,
            metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
            valid_from timestamptz NOT NULL,
            valid_until timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_memory_versions PRIMARY KEY (item_id, microdao_id, version),
            CONSTRAINT fk_memory_versions_item_id_microdao_id_memory_items FOREIGN KEY (item_id, microdao_id)
                REFERENCES memory_items (id, microdao_id) ON DELETE CASCADE
        )
        """
    )
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON memory_versions TO daarion_app")
    op.execute("ALTER TABLE memory_versions ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY memory_versions_tenant ON memory_versions TO daarion_app USING ({OWN}) "
               f"WITH CHECK ({OWN})")


def downgrade() -> None:
    op.execute("DROP TABLE memory_versions")
    op.execute("ALTER TABLE memory_items DROP COLUMN version, DROP COLUMN merge_count, DROP COLUMN last_seen_at")
