"""Dates named in a query become the window its answer was said in, and lift the memories said then."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.memory.ranking import Candidate, RankingPolicy, fuse
from domain.memory.temporal import mentioned_window

NOW = datetime(2024, 3, 1, 12, tzinfo=UTC)


def day(year: int, month: int, number: int) -> datetime:
    return datetime(year, month, number, tzinfo=UTC)


def test_a_named_day_stands_for_the_day_before_it_to_two_days_after_it_in_each_spelling() -> None:
    for query in ["What pasta did Kate make on 29 Dec 2023?", "pasta on the 29th of December 2023",
                  "pasta on December 29, 2023", "pasta 2023-12-29", "Яку пасту Катя зробила 29 грудня 2023?",
                  "What pasta did Kate make on 29.12.2023?"]:
        assert mentioned_window(query, NOW) == (day(2023, 12, 28), day(2023, 12, 31)), query


def test_weeks_and_months_stand_for_themselves() -> None:
    assert mentioned_window("Where did Elise go in the first week of 2024?", NOW) == (day(2024, 1, 1), day(2024, 1, 8))
    assert mentioned_window("the last week of December 2023", NOW) == (day(2023, 12, 25), day(2024, 1, 1))
    assert mentioned_window("What happened in May 2023?", NOW) == (day(2023, 5, 1), day(2023, 6, 1))
    assert mentioned_window("What happened in December 2023?", NOW) == (day(2023, 12, 1), day(2024, 1, 1))


def test_a_day_without_a_year_is_its_latest_occurrence_not_after_now() -> None:
    assert mentioned_window("Where was she on 5 May?", NOW) == (day(2023, 5, 4), day(2023, 5, 7))
    assert mentioned_window("Where was she on 5 Feb?", NOW) == (day(2024, 2, 4), day(2024, 2, 7))


def test_no_date_several_dates_or_an_impossible_one_give_no_window() -> None:
    for query in ["What are Kate's hobbies?", "I may 5 things", "I bought 2 novels in 2023", "Купили 5 трамваїв 2024",
                  "3 marbles", "on 4 decks 2023", "from 3 Jan 2024 to 5 Jan 2024", "on 2024-02-30",
                  "on 31 February 2024", "on 12.29.2023", "version 1.2.3"]:
        assert mentioned_window(query, NOW) is None, query


def test_a_memory_said_in_the_window_is_lifted_above_better_ranked_ones_said_elsewhere() -> None:
    def said(item: str, rank: int, at: datetime) -> Candidate:
        return Candidate(rank, item, 0, "mid", "conversation", item, at, at, {}, vector_rank=rank)

    candidates = [said("march", 1, NOW), said("april", 2, NOW + timedelta(days=30)),
                  said("new-year", 3, day(2023, 12, 31))]
    window = mentioned_window("Where was Kate on 31 Dec 2023?", NOW)
    assert [hit.id for hit in fuse(candidates, RankingPolicy(), NOW, 3)] == ["march", "april", "new-year"]
    assert [hit.id for hit in fuse(candidates, RankingPolicy(), NOW, 3, window, 0.5)] == ["new-year", "march", "april"]
    assert [hit.id for hit in fuse(candidates, RankingPolicy(), NOW, 3, window, 0.0)] == ["march", "april", "new-year"]
