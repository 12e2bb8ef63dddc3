"""Names no memory contains are left out of the text the embedder reads (domain.memory.names)."""

from __future__ import annotations

import msgspec

from domain.memory.commands import QueryMemory, StoreMemory
from domain.memory.model import Scope
from domain.memory.names import capitalised_names, without_words
from domain.memory.retrieval import RetrievalPolicy
from domain.memory.service import MemoryPolicies, MemoryService
from tests.fakes.clock import FakeClock
from tests.fakes.ledger import FakeRecorder
from tests.fakes.memory import FakeEmbedder
from tests.fakes.memory_store import InMemoryMemoryStore


def test_only_capitalised_words_that_do_not_open_a_sentence_are_names() -> None:
    assert capitalised_names("What sports does Kevin like?") == ["Kevin"]
    assert capitalised_names("Which cities have both, Kate and Elise, been to? Kate said Miami.") == ["Kate", "Elise", "Miami"]
    assert capitalised_names("Where was Kate's sister on 31 Dec 2023?") == ["Kate"]
    assert capitalised_names("Що Олена казала про Львів?") == ["Олена", "Львів"]
    assert capitalised_names("Where is it? Tell me. I forgot: Nothing") == []


def test_a_name_and_its_possessive_leave_the_query_and_the_punctuation_stays_tidy() -> None:
    assert without_words("What is Kate's job, Kate?", {"Kate"}) == "What is job?"
    assert without_words("Which cities have both, Kate and Elise, been to?", {"Kate", "Elise"}) == \
        "Which cities have both, and, been to?"
    assert without_words("Katerina met Kate", {"Kate"}) == "Katerina met"
    assert without_words("no change", set()) == "no change"


async def test_the_embedder_reads_the_query_without_the_names_no_memory_of_the_agent_contains() -> None:
    sofia = Scope("m7", "sofia")
    for switch, expected in ((True, "What sports does like, and where does Olena play?"),
                             (False, "What sports does Kevin like, and where does Olena play?")):
        embedder = FakeEmbedder()
        memory = MemoryService(InMemoryMemoryStore(), embedder, FakeRecorder(), FakeClock(),
                               MemoryPolicies(retrieval=RetrievalPolicy(drop_unknown_names=switch)))
        await memory.store(sofia, "r1", msgspec.convert({"content": {"user_message": "I play basketball",
                                                                      "agent_reply": "Olena plays tennis"}},
                                                         StoreMemory))
        # Kevin is in another agent's memories only: Sofia's scope does not know him.
        await memory.store(Scope("m7", "ivan"), "r2", msgspec.convert({"content": {"text": "Kevin"}}, StoreMemory))
        embedder.calls.clear()
        await memory.query(sofia, QueryMemory("What sports does Kevin like, and where does Olena play?"))
        assert embedder.calls == [[expected]]
