"""Hybrid ranking: vector and full-text candidates fused by reciprocal rank, with a mild recency factor.

For each candidate chunk d (found by either leg or both):

    rrf(d)     = vector_weight / (rrf_k + rank_vector(d)) + text_weight / (rrf_k + rank_text(d))
                 (ranks start at 1; a leg that did not find d adds 0)
    recency(d) = 1 + recency_boost * 0.5 ** (age_days(d) / recency_half_life_days)
    score(d)   = rrf(d) * recency(d) * tier_weights[tier(d)]

RRF uses ranks, not raw scores, so cosine distances and ts_rank values need no common scale. With
rrf_k = 60 a hit ranked first by both legs scores 2/61 ≈ 0.033, and neighbouring ranks near the top
differ by under 2%. The recency factor is at most 1 + recency_boost (0.05 by default: today's memory
gains at most 5%, about three places near the top of the list, on one from last year), so it breaks
near-ties without overriding relevance. A mid-term memory that was chunked
appears once (its best chunk); knowledge-base chunks are separate hits, told apart by `source.chunk`.
The knobs live in config/memory.yaml under `ranking`.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from domain.memory.model import Metadata


class RankingPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    rrf_k: int = 60
    vector_weight: float = 1.0
    text_weight: float = 1.0
    recency_boost: float = 0.05
    recency_half_life_days: float = 30.0
    tier_weights: dict[str, float] = msgspec.field(default_factory=lambda: {"mid": 1.0, "long": 1.0})
    candidates_per_leg: int = 50

    def __post_init__(self) -> None:
        if self.rrf_k < 1 or self.candidates_per_leg < 1:
            raise ValueError("rrf_k and candidates_per_leg must be at least 1")
        if min(self.vector_weight, self.text_weight, self.recency_boost) < 0:
            raise ValueError("weights and recency_boost must not be negative")
        if self.recency_half_life_days <= 0:
            raise ValueError("recency_half_life_days must be positive")
        if set(self.tier_weights) - {"mid", "long"}:
            raise ValueError("tier_weights takes only the keys 'mid' and 'long'")


class Candidate(msgspec.Struct, frozen=True):
    """One chunk found by the vector leg, the text leg or both (rank None: not found by that leg)."""

    chunk_id: int
    item_id: str
    seq: int
    tier: str
    kind: str
    text: str
    occurred_at: datetime
    created_at: datetime
    metadata: Metadata
    vector_rank: int | None = None
    text_rank: int | None = None
    channel_id: str | None = None
    title: str | None = None
    source_uri: str | None = None


class MemorySource(msgspec.Struct, frozen=True, omit_defaults=True):
    type: str
    channel_id: str | None = None
    document_id: str | None = None
    title: str | None = None
    uri: str | None = None
    chunk: int | None = None


class Hit(msgspec.Struct, frozen=True):
    id: str
    tier: str
    kind: str
    text: str
    score: float
    created_at: datetime
    metadata: Metadata
    source: MemorySource


def score(candidate: Candidate, policy: RankingPolicy, now: datetime) -> float:
    fused = 0.0
    if candidate.vector_rank is not None:
        fused += policy.vector_weight / (policy.rrf_k + candidate.vector_rank)
    if candidate.text_rank is not None:
        fused += policy.text_weight / (policy.rrf_k + candidate.text_rank)
    age_days = max(0.0, (now - candidate.occurred_at).total_seconds() / 86_400)
    recency = 1.0 + policy.recency_boost * 0.5 ** (age_days / policy.recency_half_life_days)
    return fused * recency * policy.tier_weights.get(candidate.tier, 1.0)


def merge_legs(vector_hits: list[Candidate], text_hits: list[Candidate]) -> list[Candidate]:
    """One candidate per chunk, carrying its rank in each leg that found it."""
    merged = {candidate.chunk_id: candidate for candidate in vector_hits}
    for candidate in text_hits:
        found = merged.get(candidate.chunk_id)
        merged[candidate.chunk_id] = (candidate if found is None
                                      else msgspec.structs.replace(found, text_rank=candidate.text_rank))
    return list(merged.values())


def fuse(
    candidates: list[Candidate], policy: RankingPolicy, now: datetime, limit: int,
    window: tuple[datetime, datetime] | None = None, window_boost: float = 0.0,
) -> list[Hit]:
    """`window`: when the query says its answer was said (domain.memory.temporal); a candidate that occurred
    in it scores (1 + window_boost) times as much."""
    best: dict[tuple[str, int], tuple[float, Candidate]] = {}
    for candidate in candidates:
        # A mid-term memory is one hit whatever chunk matched; a document chunk is a hit of its own.
        key = (candidate.item_id, candidate.seq if candidate.tier == "long" else 0)
        value = score(candidate, policy, now)
        if window is not None and window[0] <= candidate.occurred_at < window[1]:
            value *= 1 + window_boost
        if key not in best or value > best[key][0]:
            best[key] = (value, candidate)
    ranked = sorted(best.values(), key=lambda pair: (-pair[0], -pair[1].occurred_at.timestamp(), pair[1].chunk_id))
    return [_hit(value, candidate) for value, candidate in ranked[:limit]]


def _hit(value: float, candidate: Candidate) -> Hit:
    if candidate.tier == "long":
        source = MemorySource("document", document_id=candidate.item_id, title=candidate.title,
                              uri=candidate.source_uri, chunk=candidate.seq)
    else:
        source = MemorySource("memory", channel_id=candidate.channel_id)
    return Hit(candidate.item_id, candidate.tier, candidate.kind, candidate.text, round(value, 6),
               candidate.created_at, candidate.metadata, source)
