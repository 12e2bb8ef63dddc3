"""PgMemoryStore and PgIndexingQueue details that only PostgreSQL can show: races, indexes (under row-level
security too), leases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Literal

import msgspec
import pytest

from apps.memory.container import MemoryContainer
from domain.memory.chunking import ChunkingPolicy
from domain.memory.commands import PostDocument, QueryMemory, to_document, to_search
from domain.memory.model import MemoryContent, MemoryLimits, NewMemory, Scope, content_hash, new_id
from domain.memory.queue import IndexedJob, JobFailure
from infra.memory.pg_memory_store import PgMemoryStore
from infra.memory.pg_search_sql import TextRanking, vector_leg_sql
from infra.platform.tenancy import tenant_transaction
from tests.memory_support import (  # noqa: F401 - fixtures
    index_everything,
    memory_runtime_fixture,
    minilm_fixture,
    test_embedder_fixture,
    unique,
)

SOFIA = Scope("m7", "sofia")
Function = Literal["ts_rank", "bm25"]


def memory(microdao: str, text: str, key: str | None = None) -> NewMemory:
    content = MemoryContent(text=text)
    return NewMemory(new_id(), Scope(microdao, "sofia"), "fact", content, text, [text], content_hash("", "", text),
                     len(text), datetime.now(UTC), {}, idempotency_key=key)


async def test_concurrent_stores_of_the_same_content_create_exactly_one_memory(memory_runtime: MemoryContainer) -> None:
    microdao = unique("race")
    results = await asyncio.gather(*(memory_runtime.store.add_memory(memory(microdao, "same words"), "m")
                                     for _ in range(8)))
    assert len({result.id for result in results}) == 1
    assert sum(result.created for result in results) == 1
    count = await memory_runtime.pool.fetchval("SELECT count(*) FROM memory_items WHERE microdao_id = $1", microdao)
    assert count == 1


async def test_concurrent_posts_of_one_source_uri_make_one_document(memory_runtime: MemoryContainer) -> None:
    microdao = unique("docs")
    posts = [to_document(PostDocument("Guide", text=f"version {i}", source_uri="kb://guide"), Scope(microdao, "sofia"),
                         MemoryLimits(), ChunkingPolicy()) for i in range(6)]
    results = await asyncio.gather(*(memory_runtime.store.put_document(post, "m") for post in posts))
    assert len({result.id for result in results}) == 1
    assert sum(result.created for result in results) == 1
    chunks = await memory_runtime.pool.fetchval(
        "SELECT count(*) FROM memory_chunks WHERE microdao_id = $1", microdao)
    assert chunks == 1, "each replacement removed the chunks before it"


async def test_the_vector_leg_can_be_served_by_the_partial_hnsw_index_under_row_security(
    memory_runtime: MemoryContainer,
) -> None:
    search = to_search(QueryMemory("anything at all"), SOFIA, MemoryLimits())
    sql, args = vector_leg_sql(search, [0.0] * 383 + [1.0], "sentence-transformers/all-MiniLM-L6-v2", 384, 50)
    # With sorting and sequential scans priced out, only the HNSW index can return rows by distance: the plan
    # shows whether the query's expression and predicate match the index, for the tenant the service runs as.
    async with tenant_transaction(memory_runtime.pool, SOFIA.microdao_id, SOFIA.agent_id) as connection:
        await connection.execute("SET LOCAL enable_sort = off; SET LOCAL enable_seqscan = off")
        plan = "\n".join(row[0] for row in await connection.fetch("EXPLAIN " + sql, *args))
    assert "ix_memory_embeddings_hnsw_384" in plan


async def test_a_document_replaced_while_its_chunks_are_embedded_gets_no_stale_vectors(
    memory_runtime: MemoryContainer,
) -> None:
    microdao, model = unique("stale"), memory_runtime.embedder.model
    limits, chunking = MemoryLimits(), ChunkingPolicy()
    scope = Scope(microdao, "sofia")
    old = to_document(PostDocument("Policy", text="Old rule: meetings on Monday.", source_uri="kb://p"), scope,
                      limits, chunking)
    document_id = (await memory_runtime.store.put_document(old, model)).id
    everything = await memory_runtime.queue.claim("slow-worker", model, 1000, 60, 5)
    claimed = [job for job in everything if job.item_id == document_id]
    others = [JobFailure(job.job_id, "released by the test", 0, False) for job in everything if job not in claimed]
    await memory_runtime.queue.fail("slow-worker", others)  # give back other tests' jobs at once
    new = to_document(PostDocument("Policy", text="New rule: meetings on Friday.", source_uri="kb://p"), scope,
                      limits, chunking)
    assert (await memory_runtime.store.put_document(new, model)).replaced
    vectors = await memory_runtime.embedder.embed([chunk.text for job in claimed for chunk in job.chunks])
    written = await memory_runtime.queue.complete("slow-worker", model, 384,
                                                  [IndexedJob(claimed[0], vectors)], _nothing)
    assert written == []
    record = await memory_runtime.store.get(scope, document_id, model)
    assert record is not None and record.indexed_chunks == 0 and "Friday" in record.text
    pending = await memory_runtime.pool.fetchval(
        "SELECT count(*) FROM memory_index_jobs WHERE item_id = $1 AND locked_by IS NULL", document_id)
    assert pending == 1, "the new chunks have a job of their own"


async def _nothing(_: object) -> None:
    return None


@pytest.mark.parametrize("function", ["ts_rank", "bm25"])
async def test_common_words_select_no_rows_alone_but_still_weigh_in_the_ranking(
    memory_runtime: MemoryContainer, function: Function,
) -> None:
    microdao = unique("common")
    texts = {"both": "the budget report for the vet clinic", "budget": "the budget of the hackathon",
             "report": "the weekly report", "vet": "the vet appointment on Friday",
             "budget+report": "budget report approved"}
    ids = {name: (await memory_runtime.store.add_memory(memory(microdao, text), "m")).id for name, text in texts.items()}
    store = PgMemoryStore(memory_runtime.pool, 384, TextRanking(function, common_docs=2))  # budget and report are in 3 chunks each

    async def found(query: str) -> list[str]:
        search = to_search(QueryMemory(query), Scope(microdao, "sofia"), MemoryLimits())
        by_id = {value: key for key, value in ids.items()}
        return [by_id[c.item_id] for c in await store.text_search(search, 10)]

    assert await found("budget vet") == ["both", "vet"], "rows selected by the informative word, ranked by all"
    assert sorted(await found("budget report")) == ["both", "budget+report"], "only common words: all must match"
    everything = PgMemoryStore(memory_runtime.pool, 384, TextRanking(function, common_docs=3))
    search = to_search(QueryMemory("budget vet"), Scope(microdao, "sofia"), MemoryLimits())
    assert len(await everything.text_search(search, 10)) == 4, "under the threshold every word selects rows"


async def test_bm25_weighs_a_rare_word_above_a_common_one_said_twice(memory_runtime: MemoryContainer) -> None:
    """ts_rank has no document frequency: "meeting" said twice beats "Zanzibar" said once. BM25 weighs each
    word by how rare it is among the agent's memories, and by how long the memory is."""
    microdao = unique("bm25")
    for index in range(12):
        await memory_runtime.store.add_memory(memory(microdao, f"meeting notes number {index}"), "m")
    twice = (await memory_runtime.store.add_memory(memory(microdao, "meeting after meeting all day"), "m")).id
    rare = (await memory_runtime.store.add_memory(memory(microdao, "flights to Zanzibar booked"), "m")).id
    search = to_search(QueryMemory("meeting in Zanzibar"), Scope(microdao, "sofia"), MemoryLimits())

    async def first(function: Function) -> str:
        store = PgMemoryStore(memory_runtime.pool, 384, TextRanking(function, common_docs=50))
        return (await store.text_search(search, 20))[0].item_id

    assert await first("ts_rank") == twice
    assert await first("bm25") == rare


async def test_bm25_lends_a_turns_score_to_the_turns_just_before_and_after_it_in_its_channel(
    memory_runtime: MemoryContainer,
) -> None:
    microdao, t0 = unique("neighbours"), datetime(2026, 3, 2, 18, 0, tzinfo=UTC)

    async def said(text: str, minutes: int, channel: str | None = "kitchen") -> str:
        new = msgspec.structs.replace(memory(microdao, text), occurred_at=t0 + timedelta(minutes=minutes),
                                      channel_id=channel)
        return (await memory_runtime.store.add_memory(new, "m")).id

    before = await said("Good evening! Long day at work.", -5)
    question = await said("What did you cook for dinner tonight?", 0)
    answer = await said("Pasta with ham and peas, my grandmother's recipe.", 5)
    await said("Lunch tomorrow is at noon.", 6, channel="office")  # the same minute, another conversation
    await said("Shopping list: milk, bread.", 60 * 24)  # the same channel, the next day
    search = to_search(QueryMemory("what did they cook?"), Scope(microdao, "sofia"), MemoryLimits())

    async def found(weight: float) -> list[str]:
        store = PgMemoryStore(memory_runtime.pool, 384, TextRanking("bm25", neighbour_weight=weight))
        return [candidate.item_id for candidate in await store.text_search(search, 10)]

    assert await found(0.0) == [question]
    assert await found(0.5) == [question, before, answer], "the two neighbours tie: the older chunk first"


async def test_the_vector_leg_lends_a_turns_cosine_to_its_neighbours_in_the_channel_when_asked(
    memory_runtime: MemoryContainer,
) -> None:
    microdao, t0 = unique("vector-neighbours"), datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
    embedder = memory_runtime.embedder

    async def said(text: str, minutes: int, channel: str) -> str:
        [chunk] = memory(microdao, text).chunks
        new = msgspec.structs.replace(memory(microdao, text), occurred_at=t0 + timedelta(minutes=minutes),
                                      channel_id=channel, chunks=[chunk])
        return (await memory_runtime.store.add_memory(new, embedder.model)).id

    question = await said("What did you cook for dinner tonight?", 0, "kitchen")
    answer = await said("Pasta with ham and peas, my grandmother's recipe.", 5, "kitchen")
    elsewhere = await said("I love watching cooking shows about dinner recipes.", 5, "tv")
    await index_everything(memory_runtime)
    search = to_search(QueryMemory("what did they cook for dinner?"), Scope(microdao, "sofia"), MemoryLimits())
    [vector] = await embedder.embed([search.query])

    async def ranked(weight: float) -> list[str]:
        store = PgMemoryStore(memory_runtime.pool, embedder.dimensions, vector_neighbour_weight=weight)
        return [candidate.item_id for candidate in await store.vector_search(search, vector, embedder.model, 10)]

    by_cosine = await ranked(0.0)
    assert by_cosine == [question, elsewhere, answer], "by its own cosine the other channel's turn is closer"
    lent = await ranked(1.0)
    assert set(lent[:2]) == {question, answer}, "question and answer each add the other's cosine"
    assert lent[2] == elsewhere, "another channel lends nothing"
