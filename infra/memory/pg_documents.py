"""Knowledge documents: create, replace (same microDAO and source uri: new chunks, same id) or keep."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.memory.model import NewDocument
from domain.memory.records import DocumentResult
from infra.memory.pg_sql import CHUNKS_AND_JOB, named
from infra.platform.tenancy import tenant_transaction

_ARGS = ("id", "microdao", "agent", "title", "uri", "key", "content", "text", "hash", "bytes", "metadata",
         "occurred", "chunks", "model")

_INSERT = named("""
    WITH item AS (
        INSERT INTO memory_items (id, tier, kind, microdao_id, agent_id, title, source_uri, doc_key, content, text,
                                  content_hash, content_bytes, metadata, occurred_at)
        VALUES ($id, 'long', 'document', $microdao, $agent, $title, $uri, $key, $content::jsonb, $text, $hash,
                $bytes, $metadata::jsonb, $occurred)
        ON CONFLICT DO NOTHING
        RETURNING id
    ),""" + CHUNKS_AND_JOB.format(tier="'long'", kind="'document'"), _ARGS)

_REPLACE = named("""
    WITH item AS (
        UPDATE memory_items SET agent_id = $agent, title = $title, source_uri = $uri, content = $content::jsonb,
               text = $text, content_hash = $hash, content_bytes = $bytes, metadata = $metadata::jsonb,
               occurred_at = $occurred, updated_at = now()
        WHERE id = $id AND doc_key = $key
        RETURNING id
    ),""" + CHUNKS_AND_JOB.format(tier="'long'", kind="'document'"), _ARGS)

_LOCK = ("SELECT id, content_hash, updated_at, (SELECT count(*) FROM memory_chunks c WHERE c.item_id = i.id) AS chunks "
         "FROM memory_items i WHERE tier = 'long' AND microdao_id = $1 AND doc_key = $2 FOR UPDATE")


async def put_document(pool: Any, document: NewDocument, index_model: str) -> DocumentResult:
    """In a tenant transaction of the document's microDAO and writer (row-level security applies); one
    try: a caller runs it again when the server aborts it (infra.memory.pg_sql.retry_conflicts)."""
    async with tenant_transaction(pool, document.microdao_id, document.agent_id) as connection:
        existing = await connection.fetchrow(_LOCK, document.microdao_id, document.doc_key)
        while existing is None:
            if await connection.fetchval(_INSERT, *_args(document, document.id, index_model)) is not None:
                return DocumentResult(document.id, True, False, False, len(document.chunks),
                                      await _written_at(connection))
            # A concurrent post of the same document won the insert: take its row and go on from there
            # (none: it was forgotten in between, so insert again).
            existing = await connection.fetchrow(_LOCK, document.microdao_id, document.doc_key)
        item_id = str(existing["id"])
        if existing["content_hash"] == document.content_hash:
            return DocumentResult(item_id, False, False, True, existing["chunks"], existing["updated_at"].isoformat())
        # The item row is ours (FOR UPDATE above); its job, then its chunks (their vectors by cascade) go in
        # the lock order of infra.memory.pg_sql. A worker still embedding the old chunks finds its job gone
        # and writes nothing; one completing it holds the item, and the lock above waited for it.
        await connection.execute("DELETE FROM memory_index_jobs WHERE item_id = $1", item_id)
        await connection.execute("DELETE FROM memory_chunks WHERE item_id = $1", item_id)
        await connection.fetchval(_REPLACE, *_args(document, item_id, index_model))
        return DocumentResult(item_id, False, True, False, len(document.chunks), await _written_at(connection))


async def _written_at(connection: Any) -> str:
    """The revision of the row this transaction wrote: its updated_at, which is the transaction's now()."""
    written_at: datetime = await connection.fetchval("SELECT now()")
    return written_at.isoformat()


def _args(document: NewDocument, item_id: str, index_model: str) -> tuple[Any, ...]:
    return (item_id, document.microdao_id, document.agent_id, document.title, document.source_uri, document.doc_key,
            {"format": document.format}, document.text, document.content_hash, document.content_bytes,
            document.metadata, document.occurred_at, document.chunks, index_model)
