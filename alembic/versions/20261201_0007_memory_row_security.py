"""Memory: row-level security, so a tenant transaction sees only what its agent may see.

The policies mirror domain.memory.model.visible: a row of memory_items, memory_chunks or
memory_embeddings is visible to (and writable by) `daarion_app` iff its microdao_id is the transaction's
`daarion.microdao_id` and it is long-term (the microDAO's knowledge base) or belongs to the transaction's
`daarion.agent_id`. memory_index_jobs gets a microdao_id of its own (copied from its item, like the scope
columns of chunks and embeddings), because a policy that looked the item up could not see an item inserted
by the same statement (the memory write inserts item, chunks and job in one statement, one snapshot).

memory_chunks_matching is the full-text leg's way into memory_chunks: PostgreSQL never uses an index for
a query condition that is not leakproof (`tsv @@ query` is not) on a table with row security, so under
the policy the GIN index would be dropped for a scan of the whole microDAO. The view belongs to the
tables' owner (so no policy applies inside it) and applies the same tenant rule itself, as an ordinary
condition the planner may combine with the GIN index.

Revision ID: 0007_memory_rls
Revises: 0002_memory, 0005_identity
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0007_memory_rls"
down_revision = ("0002_memory", "0005_identity")
branch_labels = None
depends_on = None

TABLES = ("memory_items", "memory_chunks", "memory_embeddings", "memory_index_jobs")
SEQUENCES = ("memory_chunks_id_seq", "memory_index_jobs_id_seq")
MICRODAO = "microdao_id = current_setting('daarion.microdao_id', true)"
VISIBLE = f"{MICRODAO} AND (tier = 'long' OR agent_id = current_setting('daarion.agent_id', true))"
POLICIES = {"memory_items": VISIBLE, "memory_chunks": VISIBLE, "memory_embeddings": VISIBLE,
            "memory_index_jobs": MICRODAO}


def upgrade() -> None:
    op.execute("ALTER TABLE memory_index_jobs ADD COLUMN microdao_id text")
    op.execute("UPDATE memory_index_jobs j SET microdao_id = i.microdao_id FROM memory_items i WHERE i.id = j.item_id")
    op.execute("ALTER TABLE memory_index_jobs ALTER COLUMN microdao_id SET NOT NULL")
    # 0005 granted these through default privileges when it ran after 0002; granted here in either order.
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(TABLES)} TO daarion_app")
    op.execute(f"GRANT USAGE, SELECT ON SEQUENCE {', '.join(SEQUENCES)} TO daarion_app")
    for table, rule in POLICIES.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY {table}_tenant ON {table} TO daarion_app USING ({rule}) WITH CHECK ({rule})")
    op.execute(f"CREATE VIEW memory_chunks_matching AS SELECT * FROM memory_chunks WHERE {VISIBLE}")
    op.execute("GRANT SELECT ON memory_chunks_matching TO daarion_app")


def downgrade() -> None:
    op.execute("DROP VIEW memory_chunks_matching")
    for table in POLICIES:
        op.execute(f"DROP POLICY {table}_tenant ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE memory_index_jobs DROP COLUMN microdao_id")
