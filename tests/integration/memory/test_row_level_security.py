"""Row-level security on the memory tables (alembic 0007_memory_rls): a handler which forgot its WHERE still
cannot see, change or add another microDAO's rows, nor another agent's memories, inside a tenant transaction."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any, Literal

import asyncpg
import pytest

from apps.memory.container import MemoryContainer
from domain.memory.chunking import ChunkingPolicy
from domain.memory.commands import PostDocument, QueryMemory, StoreMemory, to_document, to_memory, to_search
from domain.memory.model import MemoryContent, MemoryLimits, Scope
from domain.memory.queue import IndexedJob
from infra.memory.pg_search_sql import TextRanking, text_leg_sql
from infra.platform.tenancy import tenant_transaction
from tests.memory_support import (  # noqa: F401 - fixtures
    memory_runtime_fixture,
    minilm_fixture,
    test_embedder_fixture,
    unique,
)

UNIT = [1.0] + [0.0] * 383


async def remember(runtime: MemoryContainer, scope: Scope, text: str, model: str) -> str:
    memory = to_memory(StoreMemory(MemoryContent(text=text), kind="fact"), scope, MemoryLimits(), ChunkingPolicy())
    return (await runtime.store.add_memory(memory, model)).id


async def publish(runtime: MemoryContainer, scope: Scope, text: str, model: str) -> str:
    document = to_document(PostDocument("Guide", text=text), scope, MemoryLimits(), ChunkingPolicy())
    return (await runtime.store.put_document(document, model)).id


async def index_all(runtime: MemoryContainer, model: str) -> None:
    """Vectors for every job of `model` (a model of the test's own, so no other test's jobs are taken)."""
    jobs = await runtime.queue.claim("rls-test", model, 100, 60, 5)
    done = [IndexedJob(job, [UNIT] * len(job.chunks)) for job in jobs]
    await runtime.queue.complete("rls-test", model, 384, done, _nothing)


async def _nothing(_: object) -> None:
    return None


@pytest.fixture(name="tenants")
async def tenants_fixture(memory_runtime: MemoryContainer) -> dict[str, Any]:
    """microDAO a (sofia's memory, petro's memory, a document), microDAO b (a memory, a document), all indexed,
    plus one memory of a still waiting for its indexing job."""
    a, b, model = unique("microdao:a"), unique("microdao:b"), unique("rls-model")
    sofia, petro, other = Scope(a, "sofia"), Scope(a, "petro"), Scope(b, "sofia")
    rows = {
        "sofia": await remember(memory_runtime, sofia, "sofia's own memory", model),
        "petro": await remember(memory_runtime, petro, "petro's own memory", model),
        "a_doc": await publish(memory_runtime, sofia, "the handbook of a", model),
        "b_memory": await remember(memory_runtime, other, "a memory of microDAO b", model),
        "b_doc": await publish(memory_runtime, other, "the handbook of b", model),
    }
    await index_all(memory_runtime, model)
    rows["sofia_waiting"] = await remember(memory_runtime, sofia, "sofia's memory waiting for a vector", model)
    return {"a": a, "b": b, "sofia": sofia, "rows": rows}


async def test_a_query_without_a_where_sees_only_its_microdao_and_its_agents_rows(
    memory_runtime: MemoryContainer, tenants: dict[str, Any],
) -> None:
    rows, a = tenants["rows"], tenants["a"]
    visible = {rows["sofia"], rows["a_doc"], rows["sofia_waiting"]}
    async with tenant_transaction(memory_runtime.pool, a, "sofia") as connection:
        items = await connection.fetch("SELECT * FROM memory_items")
        chunks = await connection.fetch("SELECT * FROM memory_chunks")
        matching = await connection.fetch("SELECT * FROM memory_chunks_matching")
        embeddings = await connection.fetch("SELECT * FROM memory_embeddings")
        jobs = await connection.fetch("SELECT * FROM memory_index_jobs")
    assert {str(row["id"]) for row in items} == visible
    assert {str(row["item_id"]) for row in chunks} == visible
    assert {str(row["item_id"]) for row in matching} == visible, "the full-text leg's view applies the same rule"
    chunk_ids = {row["id"] for row in chunks}
    assert {row["chunk_id"] for row in embeddings} == chunk_ids - {row["id"] for row in chunks
                                                                   if str(row["item_id"]) == rows["sofia_waiting"]}
    assert [str(row["item_id"]) for row in jobs] == [rows["sofia_waiting"]]
    everything = await memory_runtime.pool.fetchval(
        "SELECT count(*) FROM memory_items WHERE microdao_id = ANY($1::text[])", [a, tenants["b"]])
    assert everything == len(rows), "the tables' owner (background work) still sees every tenant"


async def test_without_an_agent_a_tenant_transaction_sees_only_the_microdaos_documents(
    memory_runtime: MemoryContainer, tenants: dict[str, Any],
) -> None:
    async with tenant_transaction(memory_runtime.pool, tenants["a"]) as connection:
        items = await connection.fetch("SELECT id, tier FROM memory_items")
    assert [(str(row["id"]), row["tier"]) for row in items] == [(tenants["rows"]["a_doc"], "long")]


NEW_ITEM = ("INSERT INTO memory_items (id, tier, kind, microdao_id, agent_id, content, text, content_hash, "
            "content_bytes, occurred_at) VALUES (gen_random_uuid(), {values}, '{{}}', 't', 'h', 1, now())")


@pytest.mark.parametrize("statement", [
    # another microDAO's document, another agent's memory, a chunk or job filed under another microDAO
    NEW_ITEM.replace("{values}", "'long', 'document', '{b}', 'sofia'"),
    NEW_ITEM.replace("{values}", "'mid', 'fact', '{a}', 'petro'"),
    ("INSERT INTO memory_chunks (item_id, seq, tier, kind, microdao_id, agent_id, occurred_at, text) "
     "VALUES ('{sofia}', 9, 'mid', 'fact', '{b}', 'sofia', now(), 't')"),
    "INSERT INTO memory_index_jobs (item_id, model, microdao_id) VALUES ('{sofia}', 'm', '{b}')",
    ("INSERT INTO memory_versions (item_id, version, microdao_id, agent_id, kind, content, text, content_hash, "
     "content_bytes, valid_from) VALUES ('{sofia}', 9, '{a}', 'petro', 'fact', '{{}}', 't', 'h', 1, now())"),
    "UPDATE memory_items SET microdao_id = '{b}' WHERE id = '{sofia}'",
    "UPDATE memory_chunks SET microdao_id = '{b}' WHERE item_id = '{sofia}'",
])
async def test_a_write_of_another_tenants_row_is_refused(
    memory_runtime: MemoryContainer, tenants: dict[str, Any], statement: str,
) -> None:
    sql = statement.format(a=tenants["a"], b=tenants["b"], sofia=tenants["rows"]["sofia"])
    with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError, match="row-level security"):
        async with tenant_transaction(memory_runtime.pool, tenants["a"], "sofia") as connection:
            await connection.execute(sql)


async def test_another_tenants_rows_cannot_be_changed_or_deleted_even_by_id(
    memory_runtime: MemoryContainer, tenants: dict[str, Any],
) -> None:
    rows = tenants["rows"]
    strangers = [rows["b_memory"], rows["b_doc"], rows["petro"]]
    async with tenant_transaction(memory_runtime.pool, tenants["a"], "sofia") as connection:
        assert await connection.execute("UPDATE memory_items SET text = 'x' WHERE id = ANY($1::uuid[])",
                                        strangers) == "UPDATE 0"
        assert await connection.execute("DELETE FROM memory_items WHERE id = ANY($1::uuid[])", strangers) == "DELETE 0"
        assert await connection.execute("DELETE FROM memory_chunks WHERE item_id = ANY($1::uuid[])",
                                        strangers) == "DELETE 0"
    left = await memory_runtime.pool.fetchval("SELECT count(*) FROM memory_items WHERE id = ANY($1::uuid[])", strangers)
    assert left == 3


@pytest.mark.parametrize("function", ["ts_rank", "bm25"])
async def test_the_full_text_leg_keeps_its_gin_index_under_row_security(
    memory_runtime: MemoryContainer, function: Literal["ts_rank", "bm25"],
) -> None:
    """Under a policy PostgreSQL would not use the GIN index for `tsv @@ query` (not leakproof) and would read
    every chunk of the microDAO; the leg's view keeps the index usable."""
    scope, rng = Scope(unique("microdao:gin"), "sofia"), random.Random(7)
    texts = [" ".join(f"word{rng.randrange(3000)}" for _ in range(20)) for _ in range(3000)]
    await memory_runtime.pool.execute("""
        WITH item AS (
            INSERT INTO memory_items (id, tier, kind, microdao_id, agent_id, content, text, content_hash,
                                      content_bytes, occurred_at)
            SELECT gen_random_uuid(), 'mid', 'fact', $1, $2, '{}'::jsonb, t, md5(t), length(t), $4
            FROM unnest($3::text[]) AS t RETURNING id, text)
        INSERT INTO memory_chunks (item_id, seq, tier, kind, microdao_id, agent_id, occurred_at, text)
        SELECT id, 0, 'mid', 'fact', $1, $2, $4, text FROM item""",
        scope.microdao_id, scope.agent_id, texts, datetime.now(UTC))
    await memory_runtime.pool.execute("ANALYZE memory_chunks")
    statement = text_leg_sql(to_search(QueryMemory("word17 word42"), scope, MemoryLimits()), 50, TextRanking(function))
    assert statement is not None
    async with tenant_transaction(memory_runtime.pool, scope.microdao_id, scope.agent_id) as connection:
        plan = "\n".join(row[0] for row in await connection.fetch("EXPLAIN " + statement[0], *statement[1]))
        found = await connection.fetch(statement[0], *statement[1])
    assert "ix_memory_chunks_tsv" in plan, plan
    assert len(found) == min(50, sum(1 for text in texts if {"word17", "word42"} & set(text.split())))
