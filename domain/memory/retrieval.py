"""The second retrieval stage, after the hybrid first stage (domain.memory.ranking) has fused its legs:

neighbours  the exchange just before and just after each of the best `neighbour_hits` hits, in the same
            channel, join the ranking at `neighbour_share` of that hit's score (a question's evidence
            often sits one turn away from the turn that shares its words).
rerank      a Reranker scores the best `candidates` hits against the query; the final order fuses the
            first-stage rank and the reranker's rank by reciprocal rank (k = `rrf_k`), the reranker's
            counting `weight` times. A rerank that has not answered within `budget_ms` is skipped: the
            first-stage order stands, so a slow reranker costs quality, never the latency budget.

Each is a switch in config/memory.yaml under `retrieval`; bench/retrieval_quality.py measures each alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

import msgspec

from domain.memory.commands import Search
from domain.memory.model import Scope
from domain.memory.ranking import Candidate, Hit, hit_of

log = logging.getLogger(__name__)


class RerankPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    enabled: bool = False
    candidates: int = 30
    weight: float = 1.0
    rrf_k: int = 10
    budget_ms: float = 60.0

    def __post_init__(self) -> None:
        if self.candidates < 1 or self.rrf_k < 1 or self.budget_ms <= 0 or self.weight < 0:
            raise ValueError("rerank: candidates and rrf_k must be at least 1, budget_ms positive, weight >= 0")


class RetrievalPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    prefix_stems: bool = False
    neighbours: bool = False
    neighbour_hits: int = 5
    neighbour_share: float = 0.5
    rerank: RerankPolicy = RerankPolicy()

    def __post_init__(self) -> None:
        if self.neighbour_hits < 1 or not 0 < self.neighbour_share <= 1:
            raise ValueError("neighbour_hits must be at least 1 and neighbour_share in (0, 1]")


class Reranker(Protocol):
    async def scores(self, search: Search, hits: Sequence[Hit]) -> list[float | None]:
        """One score per hit, higher is better; None where the reranker has nothing to say about it."""
        ...


def with_neighbours(hits: list[Hit], adjacent: Sequence[tuple[str, Candidate]], policy: RetrievalPolicy) -> list[Hit]:
    """`adjacent`: (id of the hit, a memory next to it). A memory already ranked keeps its better score."""
    scores = {hit.id: hit.score for hit in hits}
    ranked = {hit.id: hit for hit in hits}
    for source, candidate in adjacent:
        value = scores.get(source, 0.0) * policy.neighbour_share
        if candidate.item_id not in ranked or ranked[candidate.item_id].score < value:
            ranked[candidate.item_id] = hit_of(value, candidate)
    return sorted(ranked.values(), key=lambda hit: (-hit.score, hit.id))


async def reranked(hits: list[Hit], search: Search, reranker: Reranker, policy: RerankPolicy) -> list[Hit]:
    head, tail = hits[: policy.candidates], hits[policy.candidates:]
    if len(head) < 2:
        return hits
    try:
        scores = await asyncio.wait_for(reranker.scores(search, head), policy.budget_ms / 1000)
    except TimeoutError:
        log.info("rerank skipped: no answer within %.0f ms", policy.budget_ms)
        return hits
    # A hit the reranker cannot score keeps its first-stage place in the reranker's order too.
    scored = sorted((-score, index) for index, score in enumerate(scores) if score is not None)
    rerank_rank = {index: rank for rank, (_, index) in enumerate(scored, 1)}
    fused = [(1 / (policy.rrf_k + first) + policy.weight / (policy.rrf_k + rerank_rank.get(first - 1, first)), hit)
             for first, hit in enumerate(head, 1)]
    fused.sort(key=lambda pair: -pair[0])
    return [msgspec.structs.replace(hit, score=round(value, 6)) for value, hit in fused] + tail


class AdjacentMemories(Protocol):
    async def adjacent(self, scope: Scope, item_ids: Sequence[str]) -> list[tuple[str, Candidate]]: ...


async def second_stage(
    hits: list[Hit], search: Search, store: AdjacentMemories, reranker: Reranker | None, policy: RetrievalPolicy,
) -> list[Hit]:
    if policy.neighbours:
        sources = [hit.id for hit in hits[: policy.neighbour_hits] if hit.tier == "mid"]
        hits = with_neighbours(hits, await store.adjacent(search.scope, sources) if sources else [], policy)
    if policy.rerank.enabled and reranker is not None:
        hits = await reranked(hits, search, reranker, policy.rerank)
    return hits


def pool_size(policy: RetrievalPolicy, limit: int) -> int:
    """How many first-stage hits the second stage needs to see."""
    return max(limit, policy.rerank.candidates) if policy.rerank.enabled else limit
