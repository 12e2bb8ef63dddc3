"""The retrieval switches: stem prefixes for Ukrainian, the time-boxed rerank."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from domain.memory.commands import QueryMemory, Search, to_search
from domain.memory.model import MemoryLimits, Scope
from domain.memory.ranking import Candidate, Hit, fuse
from domain.memory.ranking import RankingPolicy as Ranking
from domain.memory.retrieval import ByScript, RerankPolicy, reranked
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

    async def scores(self, search: Search, vector: Sequence[float], ranked: Sequence[Hit]) -> list[float | None]:
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


async def test_the_reranker_can_lift_a_hit_it_scores_far_higher_to_the_top() -> None:
    result = await reranked(hits("a", "b", "c", "d"), SEARCH, [1.0], Scores({"a": 0.1, "b": 0.2, "c": 0.3, "d": 0.9}),
                            RerankPolicy(enabled=True, weight=3.0))
    assert result[0].id == "d"


async def test_a_hit_the_reranker_cannot_score_keeps_its_first_stage_place() -> None:
    result = await reranked(hits("a", "b", "c"), SEARCH, [1.0], Scores({"a": 0.3, "b": None, "c": 0.2}),
                            RerankPolicy(enabled=True))
    assert [hit.id for hit in result] == ["a", "b", "c"]


async def test_a_rerank_over_its_time_budget_is_skipped_and_the_first_stage_order_stands() -> None:
    ranked = hits("a", "b", "c")
    result = await reranked(ranked, SEARCH, [1.0], Scores({"c": 1.0}, delay_s=0.5), RerankPolicy(enabled=True, budget_ms=20))
    assert result == ranked


async def test_by_script_sends_cyrillic_queries_to_one_reranker_and_every_other_query_to_the_other() -> None:
    asked: list[str] = []

    class Named:
        def __init__(self, name: str) -> None:
            self.name = name

        async def scores(self, search: Search, vector: Sequence[float], hits: Sequence[Hit]) -> list[float | None]:
            asked.append(self.name)
            return [1.0] * len(hits)

    router = ByScript(cyrillic=Named("latent terms"), other=Named("late interaction"))
    for query in ["Коли випускаємо систему оплати?", "When is the payments release?", "release 2.1 — дата?"]:
        await router.scores(to_search(QueryMemory(query), Scope("m7", "sofia"), MemoryLimits()), [], [])
    assert asked == ["latent terms", "late interaction", "latent terms"]
