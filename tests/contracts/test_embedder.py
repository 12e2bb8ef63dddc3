"""Embedder: FakeEmbedder and MiniLMEmbedder turn texts into unit vectors alike (MiniLM is loaded once here)."""

from __future__ import annotations

import math

import pytest

from domain.memory.ports import Embedder
from infra.memory.embedders.minilm import MiniLMEmbedder
from tests.contracts.support import BOTH
from tests.fakes.memory import FakeEmbedder

TEXTS = ["The cat sleeps on the sofa", "Send the invoice to accounting by Friday", "Olena prefers green tea"]


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedder:
    embedder = MiniLMEmbedder()
    embedder.load()
    return embedder


@pytest.fixture(params=BOTH, ids=["fake", "minilm"], name="embedder")
def embedder_fixture(request: pytest.FixtureRequest) -> Embedder:
    return FakeEmbedder() if request.param == "fake" else request.getfixturevalue("minilm")


def close(a: list[float], b: list[float]) -> bool:
    return max(abs(x - y) for x, y in zip(a, b, strict=True)) < 1e-4


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


async def test_each_text_gets_one_vector_of_the_embedder_s_dimensions_in_order(embedder: Embedder) -> None:
    vectors = await embedder.embed(TEXTS)
    assert len(vectors) == len(TEXTS) and {len(v) for v in vectors} == {embedder.dimensions}
    for text, vector in zip(TEXTS, vectors, strict=True):
        [alone] = await embedder.embed([text])
        assert close(alone, vector), "a text's vector does not depend on its neighbours in the batch"


async def test_every_vector_has_unit_length_even_for_a_text_without_words(embedder: Embedder) -> None:
    for vector in await embedder.embed([*TEXTS, "", "?!", "a " * 300]):
        assert abs(math.sqrt(sum(x * x for x in vector)) - 1) < 1e-4


async def test_the_same_text_gets_the_same_vector_every_time(embedder: Embedder) -> None:
    first, second = await embedder.embed(TEXTS), await embedder.embed(TEXTS)
    assert all(close(a, b) for a, b in zip(first, second, strict=True))


async def test_no_texts_make_no_vectors(embedder: Embedder) -> None:
    assert await embedder.embed([]) == []


async def test_texts_that_share_their_words_are_closer_than_unrelated_ones(embedder: Embedder) -> None:
    cat, same_cat, invoice = await embedder.embed(["the cat sleeps on the sofa", "on the sofa the cat sleeps",
                                                   "send the invoice to accounting"])
    assert cosine(cat, same_cat) > cosine(cat, invoice) + 0.2


def test_it_names_its_model_and_dimensions(embedder: Embedder) -> None:
    assert embedder.model and embedder.dimensions > 0
