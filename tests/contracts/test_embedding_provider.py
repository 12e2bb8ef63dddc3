"""EmbeddingProvider: MiniLMEmbeddings (in-process), OpenAICompatibleProvider and OllamaProvider (against the
local FakeOpenAI and FakeOllama of tests/fakes/llm_servers.py) embed alike: one vector per text, in order, the
same text to the same vector, and failures classified for fallback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from domain.llm.policies import ProviderError
from domain.llm.ports import EmbeddingProvider
from infra.llm.providers.minilm_embeddings import MiniLMEmbeddings
from infra.llm.providers.ollama import OllamaProvider
from infra.llm.providers.openai_compatible import OpenAICompatibleProvider


@dataclass
class Target:
    provider: EmbeddingProvider
    model: str
    counts_tokens: bool  # the target reports its own token count (MiniLM's is an estimate)


@pytest.fixture(params=["minilm", "openai_compatible", "ollama"], name="target")
def target_fixture(request: pytest.FixtureRequest) -> Iterator[Target]:
    if request.param == "openai_compatible":
        fake, base_url = request.getfixturevalue("fake_openai")
        yield Target(OpenAICompatibleProvider("openai", base_url, fake.api_key, requires_key=True), "ok-embed", True)
    elif request.param == "ollama":
        yield Target(OllamaProvider("ollama", request.getfixturevalue("fake_ollama")[1]), "ok-embed", True)
    else:
        yield Target(MiniLMEmbeddings(), "all-minilm-l6-v2", False)


async def test_each_text_gets_its_vector_in_order_and_the_same_text_the_same_vector(target: Target) -> None:
    first = await target.provider.embed(target.model, ["alpha beta", "gamma", "alpha beta"], None, 30)
    assert len(first.vectors) == 3 and len({len(vector) for vector in first.vectors}) == 1
    assert first.vectors[0] == pytest.approx(first.vectors[2], abs=1e-5)
    assert first.vectors[0] != pytest.approx(first.vectors[1], abs=1e-3)
    again = await target.provider.embed(target.model, ["gamma"], None, 30)
    assert again.vectors[0] == pytest.approx(first.vectors[1], abs=1e-5)  # MiniLM: batched or not, the same
    assert first.prompt_tokens is not None and first.prompt_tokens > 0
    if target.counts_tokens:
        assert first.prompt_tokens == 5  # the fakes count a token a word


async def test_a_server_failure_may_fall_back_and_a_refused_request_may_not(target: Target) -> None:
    if isinstance(target.provider, MiniLMEmbeddings):
        with pytest.raises(ProviderError) as caught:
            await target.provider.embed(target.model, ["x"], 12, 30)  # it makes 384 dimensions only
        assert caught.value.kind == "rejected" and not caught.value.may_fall_back
        return
    with pytest.raises(ProviderError) as caught:
        await target.provider.embed("fail-500", ["x"], None, 30)
    assert caught.value.may_fall_back


async def test_an_openai_target_without_its_key_is_not_configured() -> None:
    provider = OpenAICompatibleProvider("openai", "http://127.0.0.1:9/v1", None, requires_key=True)
    assert not provider.configured
    with pytest.raises(ProviderError) as caught:
        await provider.embed("ok-embed", ["x"], None, 5)
    assert caught.value.kind == "not_configured" and caught.value.may_fall_back
