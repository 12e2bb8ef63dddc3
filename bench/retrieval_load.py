"""Loading the retrieval bench's memories: every exchange through the store API (HTTP, the agent's own key,
`occurred_at` from the conversation), then indexing with each pipeline's model; and a 10k-memory agent for
latency, made by copying stored exchanges with their vectors (embedding 10k texts twice would take the
2-core machine many minutes and measure nothing the query path depends on)."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from typing import Any

import httpx

from bench.retrieval_data import Conversation

MICRODAO = "microdao:retrieval-bench"


async def store_all(url: str, key: str, conversation: Conversation, concurrency: int = 8) -> dict[str, set[str]]:
    """Memory ids by evidence id (a message id of the conversation)."""
    holders: dict[str, set[str]] = {}
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, headers={"Authorization": f"Bearer {key}"}) as client:
        async def one(index: int) -> None:
            exchange = conversation.exchanges[index]
            body = {"content": {"user_message": exchange.user_message, "agent_reply": exchange.agent_reply},
                    "user_id": exchange.user_id, "channel_id": conversation.name,
                    "occurred_at": exchange.occurred_at.isoformat(), "idempotency_key": f"{conversation.name}:{index}"}
            async with limit:
                response = await client.post("/internal/agent-memory/store", json=body)
            response.raise_for_status()
            for evidence in exchange.evidence:
                holders.setdefault(evidence, set()).add(response.json()["id"])

        await asyncio.gather(*(one(index) for index in range(len(conversation.exchanges))))
    return holders


async def index_with(url: str, overlay: dict[str, Any]) -> int:
    """Embeds everything lacking vectors of the pipeline's model (the same queue and worker the service
    uses), here in the bench process."""
    import msgspec

    from apps.memory.container import open_memory
    from apps.memory.settings import MemorySettings
    from bench.retrieval_services import settings_of

    settings = msgspec.convert(settings_of(overlay), MemorySettings)
    async with open_memory(settings) as runtime:
        await runtime.queue.enqueue_all(runtime.embedder.model, force=False)
        return await runtime.worker().drain()


_COPY_ITEMS = """
    INSERT INTO memory_items (id, tier, kind, microdao_id, agent_id, channel_id, user_id, content, text, content_hash,
                              content_bytes, metadata, occurred_at)
    SELECT $1::uuid, tier, kind, microdao_id, $2, channel_id, user_id, content, text, $3, content_bytes, metadata,
           occurred_at + make_interval(days => $5)
    FROM memory_items WHERE id = $4::uuid
"""
_COPY_CHUNKS = """
    WITH copied AS (
        INSERT INTO memory_chunks (item_id, seq, tier, kind, microdao_id, agent_id, occurred_at, metadata, text)
        SELECT $1::uuid, seq, tier, kind, microdao_id, $2, occurred_at + make_interval(days => $4), metadata, text
        FROM memory_chunks WHERE item_id = $3::uuid ORDER BY seq
        RETURNING id, seq)
    , vectors AS (
        INSERT INTO memory_embeddings (chunk_id, model, dims, tier, microdao_id, agent_id, embedding)
        SELECT copied.id, e.model, e.dims, e.tier, e.microdao_id, $2, e.embedding
        FROM copied JOIN memory_chunks c ON c.item_id = $3::uuid AND c.seq = copied.seq
        JOIN memory_embeddings e ON e.chunk_id = c.id)
    INSERT INTO memory_token_vectors (chunk_id, model, microdao_id, tier, agent_id, tokens, dims, vectors)
    SELECT copied.id, t.model, t.microdao_id, t.tier, $2, t.tokens, t.dims, t.vectors
    FROM copied JOIN memory_chunks c ON c.item_id = $3::uuid AND c.seq = copied.seq
    JOIN memory_token_vectors t ON t.chunk_id = c.id
"""


async def fill_agent(url: str, agent_id: str, sources: list[str], total: int) -> None:
    """`total` memories for `agent_id`: copies of the source memories (each round shifted by a year, so
    copies differ in time as stored memories do), vectors of every model and token vectors included."""
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        async with connection.transaction():
            for index in range(total):
                source = sources[index % len(sources)]
                new_id, years = str(uuid.uuid4()), index // len(sources)
                digest = hashlib.sha256(f"{source}:{index}".encode()).hexdigest()
                await connection.execute(_COPY_ITEMS, new_id, agent_id, digest, source, -365 * years)
                await connection.execute(_COPY_CHUNKS, new_id, agent_id, source, -365 * years)
        await connection.execute("ANALYZE memory_items; ANALYZE memory_chunks; ANALYZE memory_embeddings")
    finally:
        await connection.close()
