"""The retrieval switches beyond the hybrid first stage (domain.memory.ranking), and the rerank stage.

prefix_stems  long Cyrillic query words match by stem prefix (domain.memory.stems).
drop_unknown_names  names in the query that no visible memory contains are left out of the text the
              embedder reads (domain.memory.names).
temporal_boost  a memory said when the query's named date says (domain.memory.temporal) scores
              (1 + temporal_boost) times as much in the first stage; 0 turns it off.
rerank        a Reranker scores the best `candidates` hits against the query; the final order fuses the
              first-stage rank and the reranker's rank by reciprocal rank (k = `rrf_k`), the reranker's
              counting `weight` times. A rerank that has not answered within `budget_ms` is skipped: the
              first-stage order stands, so a slow reranker costs quality, never the latency budget.

Each is a switch in config/memory.yaml under `retrieval`; bench/retrieval_quality.py measures each alone.
(Adding the exchanges next to the best hits was measured too, on REALTALK: R@5 +0.003, R@10 -0.011,
Ukrainian R@5 -0.03; it did not pay for itself and was taken out.)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

import msgspec

from domain.memory.commands import Search
from domain.memory.ranking import Hit
from domain.memory.stems import has_cyrillic

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
    drop_unknown_names: bool = False
    temporal_boost: float = 0.0
    rerank: RerankPolicy = RerankPolicy()

    def __post_init__(self) -> None:
        if self.temporal_boost < 0:
            raise ValueError("retrieval.temporal_boost must not be negative")


class Reranker(Protocol):
    async def scores(self, search: Search, vector: Sequence[float], hits: Sequence[Hit]) -> list[float | None]:
        """One score per hit, higher is better; None where the reranker has nothing to say about it.
        `vector`: the query's, from the configured embedder."""
        ...


class ByScript:
    """Queries with Cyrillic letters go to one reranker, all others to another: the best scorers differ by
    language (an English-only model must not rank Ukrainian)."""

    def __init__(self, cyrillic: Reranker, other: Reranker) -> None:
        self._cyrillic, self._other = cyrillic, other

    async def scores(self, search: Search, vector: Sequence[float], hits: Sequence[Hit]) -> list[float | None]:
        chosen = self._cyrillic if has_cyrillic(search.query) else self._other
        return await chosen.scores(search, vector, hits)


async def reranked(
    hits: list[Hit], search: Search, vector: Sequence[float], reranker: Reranker, policy: RerankPolicy,
) -> list[Hit]:
    head, tail = hits[: policy.candidates], hits[policy.candidates:]
    if len(head) < 2:
        return hits
    try:
        scores = await asyncio.wait_for(reranker.scores(search, vector, head), policy.budget_ms / 1000)
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


async def second_stage(
    hits: list[Hit], search: Search, vector: Sequence[float] | None, reranker: Reranker | None,
    policy: RetrievalPolicy,
) -> list[Hit]:
    if policy.rerank.enabled and reranker is not None and vector is not None:
        return await reranked(hits, search, vector, reranker, policy.rerank)
    return hits


def pool_size(policy: RetrievalPolicy, limit: int) -> int:
    """How many first-stage hits the second stage needs to see."""
    return max(limit, policy.rerank.candidates) if policy.rerank.enabled else limit
