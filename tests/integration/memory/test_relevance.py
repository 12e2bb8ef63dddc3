"""Relevance on a small labelled set: paraphrased questions whose answers sit among look-alike distractors.

Real MiniLM, real PostgreSQL (HNSW + full text), the real fusion. The questions avoid the answers' key
words on purpose, so full text alone must do badly and the hybrid must still find the answers.
"""

from __future__ import annotations

import msgspec

from apps.memory.container import MemoryContainer
from domain.memory.commands import QueryMemory, StoreMemory, to_search
from domain.memory.model import MemoryContent, Scope
from tests.memory_support import (  # noqa: F401 - fixtures
    index_everything,
    memory_runtime_fixture,
    minilm_fixture,
    test_embedder_fixture,
    unique,
)

# (answer stored as a memory, paraphrased question)
LABELLED = [
    ("My sister Olena lives in Lviv and works as a pediatrician.", "Which city is my sibling based in?"),
    ("I switched my phone plan to Kyivstar last week.", "Which mobile carrier am I with now?"),
    ("I'm lactose intolerant, so no milk in my coffee please.", "Can I have dairy products?"),
    ("Our weekly sync moved to Thursdays at 4 pm.", "When is the regular team meeting now?"),
    ("My laptop is a ThinkPad X1 Carbon from 2021.", "What computer do I work on?"),
    ("I'm training for the Kyiv half marathon in September.", "What race am I preparing for?"),
    ("The grant proposal for the solar panels project is due on May 15.",
     "What's the deadline for the renewable energy funding application?"),
    ("I parked the car on level 3 of the mall garage, spot B12.", "Where did I leave my vehicle?"),
    ("My favourite author is Serhiy Zhadan.", "Which writer do I like the most?"),
    ("We decided to use Postgres instead of MongoDB for the marketplace.",
     "Which database did the team pick for the store backend?"),
    ("My son is allergic to bee stings and carries an EpiPen.", "Does my child have any medical emergency needs?"),
    ("The office wifi password was changed to sunflower2026.", "What's the new network key at work?"),
    ("I'm flying to Warsaw on the 12th for the blockchain conference.", "Where am I travelling for the crypto event?"),
    ("Dmytro is the new moderator of the governance forum.", "Who moderates the discussions about voting rules now?"),
    ("I pay 450 euros a month for my apartment.", "How much is my rent?"),
]

DISTRACTORS = [
    "My brother lives in Odesa and teaches history.", "Olena recommended a good dentist near the station.",
    "I opened an account at a new bank last week.", "The phone screen cracked when I dropped it.",
    "I drink green tea every morning.", "The coffee machine in the kitchen is broken again.",
    "Our monthly all-hands is on the first Monday.", "The sync between the calendar and email is failing.",
    "My tablet is an old iPad I use for reading.", "The printer on the second floor needs new toner.",
    "I went hiking in the Carpathians in July.", "The city marathon closes several streets on Sunday.",
    "The hackathon registration closes on Friday.", "The solar eclipse will be visible in April.",
    "I left my keys at the office yesterday.", "The garage door opener needs a new battery.",
    "I'm reading a long book about medieval history.", "Zhadan's concert tickets sold out in an hour.",
    "We use Redis for caching session data.", "The marketplace listings page loads slowly.",
    "My daughter loves swimming lessons.", "Bees are important pollinators for the garden.",
    "The guest wifi in the lobby is open.", "The password manager subscription renews in June.",
    "I'm flying to Berlin next month for a holiday.", "The conference hall seats two hundred people.",
    "The governance forum has a new dark theme.", "Voting on proposal 12 ends tomorrow.",
    "The apartment next door is being renovated.", "Electricity prices went up by ten percent.",
    "I bought running shoes on sale.", "The team lunch is on Friday at noon.",
    "My cousin works as a software engineer in Kharkiv.", "The treasury report was published on time.",
    "The moderator team meets every two weeks.", "Our database backups run every night at 2 am.",
    "I need to renew my passport before summer.", "The doctor said my blood pressure is fine.",
]


async def test_paraphrased_questions_find_their_answers_among_distractors_recall_at_5(
    memory_runtime: MemoryContainer,
) -> None:
    sofia, memory = Scope(unique("relevance"), "sofia"), memory_runtime.service
    answers = []
    for text in [answer for answer, _ in LABELLED] + DISTRACTORS:
        stored = await memory.store(sofia, "relevance", StoreMemory(MemoryContent(text=text), kind="fact"))
        answers.append(stored.id)
    assert await index_everything(memory_runtime) >= len(answers)

    hybrid_hits, text_only_hits = 0, 0
    for (_, question), answer_id in zip(LABELLED, answers, strict=False):
        command = msgspec.convert({"query": question, "limit": 5}, QueryMemory)
        result = await memory.query(sofia, command)
        hybrid_hits += answer_id in [hit.id for hit in result.memories]
        text_only = await memory_runtime.store.text_search(to_search(command, sofia, memory_runtime.settings.limits), 5)
        text_only_hits += answer_id in [candidate.item_id for candidate in text_only]
    recall, text_recall = hybrid_hits / len(LABELLED), text_only_hits / len(LABELLED)
    assert recall >= 0.9, f"hybrid recall@5 {recall:.2f}"
    assert text_recall < recall, f"full text alone {text_recall:.2f} should miss paraphrases the hybrid finds"
