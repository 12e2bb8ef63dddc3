"""Token vectors for the late-interaction rerank: one row per (chunk, model), the chunk's token vectors.

The rerank stage (infra/memory/late_interaction_reranker.py) scores a candidate by MaxSim: for each query
token the best cosine with any of the chunk's tokens, summed. Computing a chunk's token vectors costs a
transformer pass (~40 ms on this machine), too slow for 30 candidates per query, so the indexing worker
stores them beside the chunk's embedding. `vectors` holds `tokens` x `dims` int8 values, each token vector
unit-normalised and scaled by 127 (about 40 KB for a 100-token chunk at 384 dims). Rows belong to their
chunk's microDAO and agent (row-level security as memory_embeddings, alembic 0007) and go with the chunk.

Revision ID: 0970_memory_token_vectors
Revises: 0960_console_reads
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0970_memory_token_vectors"
down_revision = "0960_console_reads"
branch_labels = None
depends_on = None

_MICRODAO = "microdao_id = current_setting('daarion.microdao_id', true)"
_VISIBLE = f"{_MICRODAO} AND (tier = 'long' OR agent_id = current_setting('daarion.agent_id', true))"


def upgrade() -> None:
    op.execute("""
        CREATE TABLE memory_token_vectors (
            chunk_id bigint NOT NULL,
            model text NOT NULL,
            microdao_id text NOT NULL,
            tier text NOT NULL,
            agent_id text NOT NULL,
            tokens integer NOT NULL,
            dims integer NOT NULL,
            vectors bytea NOT NULL,
            CONSTRAINT pk_memory_token_vectors PRIMARY KEY (chunk_id, model, microdao_id),
            CONSTRAINT fk_memory_token_vectors_chunk_id_microdao_id_memory_chunks FOREIGN KEY (chunk_id, microdao_id)
                REFERENCES memory_chunks (id, microdao_id) ON DELETE CASCADE,
            CONSTRAINT ck_memory_token_vectors_size CHECK (tokens > 0 AND dims > 0 AND length(vectors) = tokens * dims)
        )
    """)
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON memory_token_vectors TO daarion_app")
    op.execute("ALTER TABLE memory_token_vectors ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY memory_token_vectors_tenant ON memory_token_vectors TO daarion_app "
               f"USING ({_VISIBLE}) WITH CHECK ({_VISIBLE})")


def downgrade() -> None:
    op.execute("DROP TABLE memory_token_vectors")
