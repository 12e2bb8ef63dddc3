"""Embedder adapters: MiniLM in-process; Ollama, OpenAI and the LLM proxy against a local fake server over real
HTTP (with the traceparent of the current span when tracing is on)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Literal

import pytest

from apps.memory.embedders import build_embedder
from apps.memory.settings import EmbedderSettings
from domain.kernel.errors import ServiceUnavailable, UpstreamFailed, UpstreamTimeout
from infra.memory.embedders.minilm import MiniLMEmbedder
from infra.memory.embedders.ollama_embedder import OllamaEmbedder
from infra.memory.embedders.openai_embedder import OpenAIEmbedder
from infra.platform.tracing import service_tracing
from tests.fakes.embedding_servers import FakeEmbeddingServer
from tests.memory_support import minilm_fixture  # noqa: F401 - the `minilm` fixture
from tests.support import free_port, serve_in_thread
from tests.tracing_support import collected_spans

KEY = "sk-embed-test"


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[str, FakeEmbeddingServer]]:
    server = FakeEmbeddingServer(api_key=KEY)
    with serve_in_thread(server) as base:
        yield base, server


def norm(vector: list[float]) -> float:
    return math.sqrt(sum(x * x for x in vector))


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


async def test_minilm_makes_384_dimensional_unit_vectors_that_put_paraphrases_close(minilm: MiniLMEmbedder) -> None:
    cat, kitten, invoice = await minilm.embed(["The cat sleeps on the sofa", "A kitten naps on the couch",
                                               "Send the invoice to accounting by Friday"])
    assert (minilm.model, minilm.dimensions, len(cat)) == ("sentence-transformers/all-MiniLM-L6-v2", 384, 384)
    assert all(abs(norm(v) - 1) < 1e-4 for v in (cat, kitten, invoice))
    assert cosine(cat, kitten) > cosine(cat, invoice) + 0.3
    assert await minilm.embed([]) == []


async def test_ollama_embeddings_come_back_normalized_in_order_and_in_batches(
    fake: tuple[str, FakeEmbeddingServer],
) -> None:
    base, server = fake
    embedder = OllamaEmbedder("ok-384", 384, host=base, batch_size=2)
    before = len(server.requests)
    vectors = await embedder.embed(["one", "two", "three"])
    sent = server.requests[before:]
    assert [(r["path"], r["body"]["input"]) for r in sent] == [("/api/embed", ["one", "two"]),
                                                                ("/api/embed", ["three"])]
    assert len(vectors) == 3 and all(abs(norm(v) - 1) < 1e-9 for v in vectors)
    assert vectors[0] != vectors[1]
    await embedder.aclose()


@pytest.mark.parametrize(("model", "timeout", "error", "needle"), [
    ("wrong-dims", 5.0, UpstreamFailed, "3-dimensional embeddings; the config says 384"),
    ("fail-500", 5.0, UpstreamFailed, "refused the embedding request (500)"),
    ("slow-2", 0.3, UpstreamTimeout, "did not answer"),
])
async def test_ollama_failures_become_the_domains_upstream_errors(
    fake: tuple[str, FakeEmbeddingServer], model: str, timeout: float, error: type[Exception], needle: str,
) -> None:
    embedder = OllamaEmbedder(model, 384, host=fake[0], timeout_s=timeout)
    with pytest.raises(error, match=needle.replace("(", r"\(").replace(")", r"\)")):
        await embedder.embed(["text"])
    await embedder.aclose()


async def test_an_unreachable_ollama_is_service_unavailable() -> None:
    embedder = OllamaEmbedder("ok-384", 384, host=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ServiceUnavailable, match="not reachable"):
        await embedder.embed(["text"])
    await embedder.aclose()


async def test_openai_embeddings_send_the_key_reorder_by_index_and_ask_for_dimensions_only_when_told(
    fake: tuple[str, FakeEmbeddingServer],
) -> None:
    base, server = fake
    plain = OpenAIEmbedder("ok-768", 768, base_url=base + "/v1", api_key=KEY)
    shortened = OpenAIEmbedder("ok-384", 384, base_url=base + "/v1", api_key=KEY, send_dimensions=True)
    before = len(server.requests)
    first, second = await plain.embed(["alpha", "beta"])
    [short] = await shortened.embed(["alpha"])
    sent = server.requests[before:]
    assert [r["path"] for r in sent] == ["/v1/embeddings", "/v1/embeddings"]
    assert sent[0]["headers"]["authorization"] == f"Bearer {KEY}"
    assert "dimensions" not in sent[0]["body"] and sent[1]["body"]["dimensions"] == 384
    assert (len(first), len(short)) == (768, 384) and abs(norm(first) - 1) < 1e-9
    # The server answers data in reverse order; the adapter must follow `index`, not position.
    assert first == (await plain.embed(["alpha"]))[0] and second == (await plain.embed(["beta"]))[0]
    await plain.aclose()
    await shortened.aclose()


async def test_openai_errors_name_the_status_and_never_pass_silently(fake: tuple[str, FakeEmbeddingServer]) -> None:
    base, _ = fake
    wrong_key = OpenAIEmbedder("ok-384", 384, base_url=base, api_key="sk-wrong")
    with pytest.raises(UpstreamFailed, match="answered 401"):
        await wrong_key.embed(["text"])
    timeout = OpenAIEmbedder("slow-2", 384, base_url=base, api_key=KEY, timeout_s=0.3)
    with pytest.raises(UpstreamTimeout):
        await timeout.embed(["text"])
    for embedder in (wrong_key, timeout):
        await embedder.aclose()


@pytest.mark.parametrize("provider", ["proxy", "openai", "ollama"])
async def test_an_http_embedder_built_with_tracing_on_sends_the_current_spans_traceparent(
    fake: tuple[str, FakeEmbeddingServer], provider: Literal["proxy", "openai", "ollama"],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, server = fake
    monkeypatch.setenv("TEST_EMBEDDER_KEY", KEY)
    settings = EmbedderSettings(provider=provider, model="ok-384", base_url=base, api_key_env="TEST_EMBEDDER_KEY")
    with collected_spans():
        tracing = service_tracing("memory")
        embedder = build_embedder(settings, tracing)
        try:
            with tracing.span("retrieval memory") as span:
                await embedder.embed(["green tea"])
        finally:
            await embedder.aclose()
    sent = span.get_span_context()
    assert server.requests[-1]["headers"]["traceparent"] == (
        f"00-{sent.trace_id:032x}-{sent.span_id:016x}-{sent.trace_flags:02x}")

