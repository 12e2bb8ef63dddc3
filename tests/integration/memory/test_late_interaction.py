"""The rerank scorers that read stored token vectors, on the real store and the real models: late
interaction (token vectors written by the indexing worker, read back under the tenant rule, scored by MaxSim,
gone with their memory) and e5's latent terms for Ukrainian."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from apps.memory.container import MemoryContainer
from apps.memory.embedders import RerankEncoders
from domain.memory.commands import QueryMemory, StoreMemory, to_search
from domain.memory.model import MemoryContent, MemoryLimits, Scope
from domain.memory.retrieval import RerankPolicy, RetrievalPolicy
from domain.memory.service import MemoryPolicies, MemoryService
from infra.memory.embedders.late_interaction import (
    DIMENSIONS,
    MODEL_NAME,
    LateInteractionEncoder,
    max_sim,
    unpacked,
)
from infra.memory.embedders.latent_terms import LatentTermsEncoder
from infra.memory.late_interaction_reranker import PgLateInteractionReranker
from infra.memory.latent_terms_reranker import PgLatentTermsReranker
from infra.platform.clock import SystemClock
from infra.platform.tenancy import tenant_transaction
from tests.memory_support import (  # noqa: F401 - fixtures
    memory_runtime_fixture,
    minilm_fixture,
    test_embedder_fixture,
    unique,
)

TEXTS = {
    "sport": ("I play basketball with my friends every Sunday on the court.", "That sounds like great fun!"),
    "food": ("We cooked pasta with ham and peas last night.", "Yum, Italian food is the best."),
    "work": ("My manager moved the quarterly review to Friday.", "Good luck with the review!"),
}


@pytest.fixture(scope="module")
def encoder() -> LateInteractionEncoder:
    encoder = LateInteractionEncoder()
    encoder.load()
    return encoder


def service(runtime: MemoryContainer, encoder: LateInteractionEncoder) -> MemoryService:
    policies = MemoryPolicies(retrieval=RetrievalPolicy(rerank=RerankPolicy(enabled=True, budget_ms=5000)))
    return MemoryService(runtime.store, runtime.embedder, runtime.core.recorder, SystemClock(), policies,
                         reranker=PgLateInteractionReranker(runtime.pool, encoder))


async def stored(runtime: MemoryContainer, encoder: LateInteractionEncoder, scope: Scope) -> dict[str, str]:
    svc = service(runtime, encoder)
    ids = {name: (await svc.store(scope, unique("req"), StoreMemory(MemoryContent(user, reply)))).id
           for name, (user, reply) in TEXTS.items()}
    await dataclasses.replace(runtime, rerank_encoders=RerankEncoders(late_interaction=encoder)).worker().drain()
    return ids


async def test_the_worker_stores_each_chunks_token_vectors_and_they_go_with_the_memory(
    memory_runtime: MemoryContainer, encoder: LateInteractionEncoder,
) -> None:
    scope = Scope(unique("microdao:late"), "sofia")
    ids = await stored(memory_runtime, encoder, scope)
    sql = """SELECT c.item_id::text AS id, t.tokens, t.dims, t.vectors FROM memory_token_vectors t
             JOIN memory_chunks c ON c.id = t.chunk_id WHERE t.model = $1 AND c.item_id = ANY($2::uuid[])"""
    async with tenant_transaction(memory_runtime.pool, scope.microdao_id, scope.agent_id) as connection:
        rows = {row["id"]: row for row in await connection.fetch(sql, MODEL_NAME, list(ids.values()))}
    assert set(rows) == set(ids.values())
    sport = rows[ids["sport"]]
    assert sport["dims"] == DIMENSIONS and 10 < sport["tokens"] < 64
    norms = np.linalg.norm(unpacked(sport["vectors"], DIMENSIONS), axis=1)
    assert np.allclose(norms, 1, atol=0.02), "unit vectors, int8-scaled"
    async with tenant_transaction(memory_runtime.pool, unique("microdao:other"), scope.agent_id) as connection:
        assert await connection.fetch(sql, MODEL_NAME, list(ids.values())) == [], "another microDAO sees none"
    async with tenant_transaction(memory_runtime.pool, scope.microdao_id, "ivan") as connection:
        assert await connection.fetch(sql, MODEL_NAME, list(ids.values())) == [], "nor another agent"
    await memory_runtime.service.forget(scope, unique("req"), ids["sport"])
    async with tenant_transaction(memory_runtime.pool, scope.microdao_id, scope.agent_id) as connection:
        left = {row["id"] for row in await connection.fetch(sql, MODEL_NAME, list(ids.values()))}
    assert left == {ids["food"], ids["work"]}


async def test_maxsim_ranks_the_memory_that_answers_first_and_leaves_ukrainian_to_the_first_stage(
    memory_runtime: MemoryContainer, encoder: LateInteractionEncoder,
) -> None:
    scope = Scope(unique("microdao:late"), "sofia")
    ids = await stored(memory_runtime, encoder, scope)
    svc = service(memory_runtime, encoder)
    hits = (await svc.query(scope, QueryMemory("Which sport does he play on weekends?"))).memories
    assert hits[0].id == ids["sport"]
    reranker = PgLateInteractionReranker(memory_runtime.pool, encoder)
    search = to_search(QueryMemory("Which sport does he play on weekends?"), scope, MemoryLimits())
    scores = await reranker.scores(search, [], hits)
    by_id = {hit.id: score for hit, score in zip(hits, scores, strict=True) if score is not None}
    assert len(by_id) == len(hits)
    assert by_id[ids["sport"]] > by_id[ids["food"]] and by_id[ids["sport"]] > by_id[ids["work"]]
    ukrainian = to_search(QueryMemory("Який спорт він любить?"), scope, MemoryLimits())
    assert await reranker.scores(ukrainian, [], hits) == [None] * len(hits)


async def test_query_tokens_are_unit_vectors_and_maxsim_is_their_best_matches_summed(
    encoder: LateInteractionEncoder,
) -> None:
    query = await encoder.query("basketball on Sunday")
    assert query.shape[1] == DIMENSIONS and np.allclose(np.linalg.norm(query, axis=1), 1, atol=1e-4)
    assert max_sim(query, query) == pytest.approx(len(query), rel=1e-4)


UKRAINIAN = {
    "release": ("Реліз платіжного сервісу перенесли на вечір п'ятниці.", "Зрозумів, повідомлю тестувальників."),
    "coffee": ("Ми купили нову кавоварку для офісу.", "Нарешті нормальна кава!"),
    "workshop": ("Оксана веде воркшоп про безпеку у Львові.", "Запишуся обов'язково."),
}


async def test_latent_terms_are_stored_beside_the_vectors_and_rank_a_ukrainian_paraphrase_first(
    memory_runtime: MemoryContainer,
) -> None:
    encoder = LatentTermsEncoder()
    encoder.load()
    scope = Scope(unique("microdao:latent"), "sofia")
    ids = {name: (await memory_runtime.service.store(scope, unique("req"), StoreMemory(MemoryContent(user, reply)))).id
           for name, (user, reply) in UKRAINIAN.items()}
    await dataclasses.replace(memory_runtime, rerank_encoders=RerankEncoders(latent_terms=encoder)).worker().drain()
    hits = (await memory_runtime.service.query(scope, QueryMemory("Коли випускаємо систему оплати?"))).memories
    assert {hit.id for hit in hits} == set(ids.values())
    search = to_search(QueryMemory("Коли випускаємо систему оплати?"), scope, MemoryLimits())
    scores = await PgLatentTermsReranker(memory_runtime.pool, encoder).scores(search, [], hits)
    by_id = {hit.id: score for hit, score in zip(hits, scores, strict=True) if score is not None}
    assert len(by_id) == len(hits) and max(by_id, key=lambda item: by_id[item]) == ids["release"]
    other = to_search(QueryMemory("Коли випускаємо систему оплати?"), Scope(unique("microdao:other"), "sofia"),
                      MemoryLimits())
    assert await PgLatentTermsReranker(memory_runtime.pool, encoder).scores(other, [], hits) == [None] * len(hits)
