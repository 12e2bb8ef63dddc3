"""Near-duplicates on store over real HTTP with the real MiniLM: a paraphrase of an indexed memory of the same
agent, kind and channel is merged into it (counted, reported) instead of stored; anything else is stored."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from apps.memory.app import create_app
from apps.memory.container import MemoryContainer
from tests.integration.memory.api_calls import Agent, agent, ids, query, store
from tests.memory_support import (  # noqa: F401 - fixtures
    LabelledEmbedder,
    index_everything,
    memory_runtime_fixture,
    memory_settings,
    minilm_fixture,
    test_embedder_fixture,
    unique,
)
from tests.support import serve_in_thread

FACT = "My daughter Olena is allergic to peanuts."
PARAPHRASE = "Olena, my daughter, is allergic to peanuts."  # cosine 0.987 to FACT with MiniLM
OTHER_PERSON = "My son Petro is allergic to peanuts."  # cosine 0.79: related, not the same memory


@pytest.fixture(scope="module")
def api(database_url: str, test_embedder: LabelledEmbedder) -> Iterator[httpx.Client]:
    """The service with a generous embedding budget: on a busy test machine the check must not be skipped."""
    settings = memory_settings(near_duplicates={"budget_s": 10})
    with serve_in_thread(create_app(settings, embedder=test_embedder)) as base, \
            httpx.Client(base_url=base + "/internal", timeout=30) as client:
        yield client


def stored(caller: Agent, user: str, **extra: Any) -> dict[str, Any]:
    response = caller.post("/agent-memory/store", json={"content": {"user_message": user, "agent_reply": "Noted."},
                                                        **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_paraphrase_of_an_indexed_memory_is_merged_into_it_counted_and_reported(
    api: httpx.Client, database_url: str, memory_runtime: MemoryContainer,
) -> None:
    sofia = agent(api, database_url, "sofia", unique("m"))
    original = store(sofia, FACT, channel_id="family")
    await index_everything(memory_runtime)
    merged = stored(sofia, PARAPHRASE, channel_id="family")
    assert (merged["id"], merged["merged"], merged["deduplicated"]) == (original, True, True)
    assert 0.95 <= merged["similarity"] <= 1.0
    record = sofia.get(f"/agent-memory/{original}").json()
    assert (record["merge_count"], record["content"]["user_message"]) == (1, FACT), "the first wording stays"
    assert record["last_seen_at"] is not None
    assert ids(query(sofia, "peanut allergy", tiers=["mid"])) == [original], "no second memory to find"
    exact = stored(sofia, FACT, channel_id="family")
    assert exact["id"] == original and "merged" not in exact, "identical content is exact deduplication"
    assert sofia.get(f"/agent-memory/{original}").json()["merge_count"] == 1


async def test_a_related_memory_another_channel_kind_or_agent_is_stored_as_new(
    api: httpx.Client, database_url: str, memory_runtime: MemoryContainer,
) -> None:
    microdao = unique("m")
    sofia, petro = agent(api, database_url, "sofia", microdao), agent(api, database_url, "petro", microdao)
    original = store(sofia, FACT, channel_id="family")
    await index_everything(memory_runtime)
    # Each wording differs (identical content would be exact deduplication, whatever its kind or channel).
    for body in (stored(sofia, OTHER_PERSON, channel_id="family"), stored(sofia, PARAPHRASE, channel_id="work"),
                 stored(sofia, PARAPHRASE.lower(), channel_id="family", kind="fact"),
                 stored(petro, PARAPHRASE, channel_id="family")):
        assert body["id"] != original and body["deduplicated"] is False and "merged" not in body, body
    assert sofia.get(f"/agent-memory/{original}").json()["merge_count"] == 0


async def test_a_memory_not_yet_indexed_is_not_found_as_a_near_duplicate(
    api: httpx.Client, database_url: str, memory_runtime: MemoryContainer,
) -> None:
    sofia = agent(api, database_url, "sofia", unique("m"))
    original = store(sofia, FACT)
    assert stored(sofia, PARAPHRASE)["id"] != original, "its vector is made by the queue, later"


async def test_a_null_threshold_turns_near_duplicate_merging_off(
    database_url: str, test_embedder: LabelledEmbedder, memory_runtime: MemoryContainer,
) -> None:
    settings = memory_settings(near_duplicates={"threshold": None})
    with serve_in_thread(create_app(settings, embedder=test_embedder)) as base, \
            httpx.Client(base_url=base + "/internal", timeout=30) as api:
        sofia = agent(api, database_url, "sofia", unique("m"))
        original = store(sofia, FACT)
        await index_everything(memory_runtime)
        again = stored(sofia, PARAPHRASE)
        assert again["id"] != original and "merged" not in again
