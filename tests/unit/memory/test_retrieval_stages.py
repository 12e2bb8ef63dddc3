"""The second retrieval stage: stem prefixes for Ukrainian, neighbouring exchanges, the time-boxed rerank."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from domain.memory.commands import QueryMemory, Search, to_search
from domain.memory.model import MemoryLimits, Scope
from domain.memory.ranking import Candidate, Hit, fuse
from domain.memory.ranking import RankingPolicy as Ranking
from domain.memory.retrieval import RerankPolicy, RetrievalPolicy, reranked, with_neighbours
from domain.memory.stems import stem_prefix, with_prefix_stems

NOW = datetime(2026, 12, 1, tzinfo=UTC)
SEARCH = to_search(QueryMemory("Коли випускаємо систему оплати? release"), Scope("m", "a"), MemoryLimits())


def candidate(item: str, vector: int | None = None) -> Candidate:
    return Candidate(hash(item) % 10_000, item, 0, "mid", "conversation", f"text of {item}", NOW, NOW, {},
                     vector_rank=vector)


def hits(*items: str) -> list[Hit]:
    return fuse([candidate(item, rank) for rank, item in enumerate(items, 1)], Ranking(), NOW, len(items))


class Scores:
    def __init__(self, by_id: dict[str, float | None], delay_s: float = 0.0) -> None:
        self.by_id, self.delay_s = by_id, delay_s

    async def scores(self, search: Search, ranked: Sequence[Hit]) -> list[float | None]:
        await asyncio.sleep(self.delay_s)
        return [self.by_id.get(hit.id) for hit in ranked]


def test_inflected_ukrainian_forms_share_the_stem_prefix_the_query_matches() -> None:
    for query_word, stored_word in [("випускаємо", "випуск"), ("випуск", "випускаємо"), ("оплати", "оплата"),
                                    ("систему", "системи"), ("платіжного", "платіжний"), ("договору", "договір")]:
        assert stored_word.startswith(stem_prefix(query_word)), (query_word, stored_word)


def test_long_cyrillic_words_become_prefixes_while_english_and_short_words_stay_terms() -> None:
    search = with_prefix_stems(SEARCH)
    assert search.prefixes == ["випуск", "систе", "опла"]
    assert search.terms == ["коли", "release"]


def test_a_neighbour_joins_at_a_share_of_its_hits_score_and_a_better_ranked_memory_keeps_its_place() -> None:
    ranked = hits("a", "b", "c")
    policy = RetrievalPolicy(neighbours=True, neighbour_share=0.5)
    result = with_neighbours(ranked, [("a", candidate("next-to-a")), ("a", candidate("c"))], policy)
    scores = {hit.id: hit.score for hit in result}
    assert abs(scores["next-to-a"] - ranked[0].score / 2) < 1e-6
    assert scores["c"] == ranked[2].score, "c ranks better on its own than as a neighbour"


async def test_the_reranker_can_lift_a_hit_it_scores_far_higher_to_the_top() -> None:
    result = await reranked(hits("a", "b", "c", "d"), SEARCH, Scores({"a": 0.1, "b": 0.2, "c": 0.3, "d": 0.9}),
                            RerankPolicy(enabled=True, weight=3.0))
    assert result[0].id == "d"


async def test_a_hit_the_reranker_cannot_score_keeps_its_first_stage_place() -> None:
    result = await reranked(hits("a", "b", "c"), SEARCH, Scores({"a": 0.3, "b": None, "c": 0.2}),
                            RerankPolicy(enabled=True))
    assert [hit.id for hit in result] == ["a", "b", "c"]


async def test_a_rerank_over_its_time_budget_is_skipped_and_the_first_stage_order_stands() -> None:
    ranked = hits("a", "b", "c")
    result = await reranked(ranked, SEARCH, Scores({"c": 1.0}, delay_s=0.5), RerankPolicy(enabled=True, budget_ms=20))
    assert result == ranked
