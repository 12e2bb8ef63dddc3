"""The hybrid ranking formula: reciprocal-rank fusion, a mild recency factor, tier weights, collapsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.memory.ranking import Candidate, RankingPolicy, fuse, merge_legs, score

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
POLICY = RankingPolicy()


def candidate(item: str, vector: int | None = None, text: int | None = None, age_days: float = 0, tier: str = "mid",
              seq: int = 0, chunk: int = 0) -> Candidate:
    at = NOW - timedelta(days=age_days)
    return Candidate(chunk or hash((item, seq)) % 10_000, item, seq, tier, "fact", f"text of {item}", at, at, {},
                     vector_rank=vector, text_rank=text)


def test_a_fresh_hit_ranked_first_by_both_legs_scores_two_over_k_plus_one_times_the_recency_boost() -> None:
    assert score(candidate("a", 1, 1), POLICY, NOW) == pytest.approx(2 / 61 * 1.05)


def test_a_hit_found_by_both_legs_outranks_hits_found_by_one() -> None:
    hits = fuse([candidate("vector-only", vector=1), candidate("both", vector=2, text=2),
                 candidate("text-only", text=1)], POLICY, NOW, 3)
    assert hits[0].id == "both"


def test_recency_breaks_a_tie_between_equally_relevant_memories() -> None:
    hits = fuse([candidate("old", vector=1, age_days=365), candidate("new", text=1)], POLICY, NOW, 2)
    assert [hit.id for hit in hits] == ["new", "old"]


def test_recency_is_mild_a_year_old_memory_ranked_clearly_better_still_wins() -> None:
    hits = fuse([candidate("old-but-relevant", vector=1, text=1, age_days=365),
                 candidate("new-but-weaker", vector=5, text=8)], POLICY, NOW, 2)
    assert hits[0].id == "old-but-relevant"


def test_the_recency_factor_never_exceeds_one_plus_the_boost() -> None:
    fresh = score(candidate("a", 1), POLICY, NOW)
    ancient = score(candidate("a", 1, age_days=10_000), POLICY, NOW)
    assert fresh / ancient == pytest.approx(1 + POLICY.recency_boost, rel=1e-3)


def test_a_chunked_memory_appears_once_with_its_best_chunk() -> None:
    hits = fuse([candidate("m", vector=3, seq=0, chunk=1), candidate("m", vector=1, seq=1, chunk=2)], POLICY, NOW, 5)
    assert len(hits) == 1
    assert hits[0].score == pytest.approx(1 / 61 * 1.05, rel=1e-4)


def test_chunks_of_a_knowledge_document_are_separate_hits_told_apart_by_chunk_number() -> None:
    hits = fuse([candidate("doc", vector=1, tier="long", seq=0, chunk=1),
                 candidate("doc", vector=2, tier="long", seq=4, chunk=2)], POLICY, NOW, 5)
    assert [(hit.id, hit.source.chunk, hit.source.type) for hit in hits] == [("doc", 0, "document"),
                                                                           ("doc", 4, "document")]


def test_tier_weights_scale_a_whole_tier() -> None:
    policy = RankingPolicy(tier_weights={"mid": 1.0, "long": 2.0})
    hits = fuse([candidate("memory", vector=1), candidate("kb", vector=3, tier="long")], policy, NOW, 2)
    assert [hit.id for hit in hits] == ["kb", "memory"]


def test_the_limit_cuts_the_ranking_after_fusion() -> None:
    hits = fuse([candidate(f"m{i}", vector=i) for i in range(1, 20)], POLICY, NOW, 5)
    assert [hit.id for hit in hits] == ["m1", "m2", "m3", "m4", "m5"]


def test_merging_the_legs_gives_one_candidate_per_chunk_with_both_ranks() -> None:
    merged = merge_legs([candidate("a", vector=1, chunk=1), candidate("b", vector=2, chunk=2)],
                        [candidate("b", text=1, chunk=2), candidate("c", text=2, chunk=3)])
    assert sorted((c.item_id, c.vector_rank, c.text_rank) for c in merged) == [
        ("a", 1, None), ("b", 2, 1), ("c", None, 2)]
