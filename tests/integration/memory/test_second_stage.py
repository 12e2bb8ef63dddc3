"""The rerank stage on the real store: the exact-score reranker, and MemoryService with it switched on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apps.memory.container import MemoryContainer
from domain.memory.commands import QueryMemory, StoreMemory, to_search
from domain.memory.model import MemoryContent, MemoryLimits, Scope
from domain.memory.retrieval import RerankPolicy, RetrievalPolicy
from domain.memory.service import MemoryPolicies, MemoryService
from infra.memory.pg_exact_reranker import PgExactReranker
from infra.platform.clock import SystemClock
from tests.memory_support import (  # noqa: F401 - fixtures
    index_everything,
    memory_runtime_fixture,
    minilm_fixture,
    test_embedder_fixture,
    unique,
)

T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def service(runtime: MemoryContainer, retrieval: RetrievalPolicy) -> MemoryService:
    reranker = PgExactReranker(runtime.pool, runtime.embedder.model, runtime.embedder.dimensions, 0.3)
    return MemoryService(runtime.store, runtime.embedder, runtime.core.recorder, SystemClock(),
                         MemoryPolicies(retrieval=retrieval), reranker=reranker)


async def store(svc: MemoryService, scope: Scope, user: str, reply: str, minute: int) -> str:
    command = StoreMemory(MemoryContent(user, reply), channel_id="chat", occurred_at=T0 + timedelta(minutes=minute))
    return (await svc.store(scope, unique("req"), command)).id


async def test_the_reranker_scores_indexed_memories_by_exact_similarity_and_leaves_unindexed_ones_unscored(
    memory_runtime: MemoryContainer,
) -> None:
    scope, svc = Scope(unique("microdao:rerank"), "sofia"), service(memory_runtime, RetrievalPolicy())
    close = await store(svc, scope, "The payments release moved to Friday evening.", "Noted.", 0)
    far = await store(svc, scope, "We bought a new coffee machine for the office.", "Nice.", 1)
    await index_everything(memory_runtime)
    late = await store(svc, scope, "Payments release notes are in the wiki.", "Thanks.", 2)
    search = to_search(QueryMemory("when is the payments release?"), scope, MemoryLimits())
    [vector] = await memory_runtime.embedder.embed([search.query])
    hits = (await svc.query(scope, QueryMemory("when is the payments release?"))).memories
    by_id = {hit.id: hit for hit in hits}
    reranker = PgExactReranker(memory_runtime.pool, memory_runtime.embedder.model, 384, 0.3)
    close_score, far_score, late_score = await reranker.scores(search, vector, [by_id[close], by_id[far], by_id[late]])
    assert close_score is not None and far_score is not None and close_score > far_score
    assert late_score is None, "not indexed yet: no vector to compare"


async def test_a_rerank_enabled_service_still_answers_when_the_reranker_is_over_budget(
    memory_runtime: MemoryContainer,
) -> None:
    scope = Scope(unique("microdao:budget"), "sofia")
    svc = service(memory_runtime, RetrievalPolicy(rerank=RerankPolicy(enabled=True, budget_ms=0.001)))
    memory_id = await store(svc, scope, "The grant deadline is the thirtieth of June.", "Reminder set.", 0)
    await index_everything(memory_runtime)
    assert [hit.id for hit in (await svc.query(scope, QueryMemory("grant deadline"))).memories] == [memory_id]


async def test_a_query_naming_a_day_ranks_first_what_was_said_that_day_when_the_temporal_boost_is_on(
    memory_runtime: MemoryContainer,
) -> None:
    scope = Scope(unique("microdao:dates"), "sofia")
    plain, dated = service(memory_runtime, RetrievalPolicy()), service(memory_runtime, RetrievalPolicy(temporal_boost=0.5))
    later = await store(plain, scope, "We had dinner at the Italian place downtown.", "Lovely.", 60 * 24 * 3)
    that_day = await store(plain, scope, "Dinner at the Italian place, downtown again.", "Nice.", 0)
    await index_everything(memory_runtime)
    question = QueryMemory(f"Where did we have dinner on {T0:%d %B %Y}?")
    assert [hit.id for hit in (await plain.query(scope, question)).memories] == [later, that_day]
    assert [hit.id for hit in (await dated.query(scope, question)).memories] == [that_day, later]
