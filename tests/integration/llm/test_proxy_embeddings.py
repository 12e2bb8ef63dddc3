"""POST /v1/embeddings through the official `openai` SDK: routed like chat, billed in the same ledger."""

from __future__ import annotations

import math
from typing import Any

import httpx
import openai
import pytest

from domain.ledger.events import EmbeddingsCompleted, EmbeddingsFailed
from tests.fakes.llm_servers import FakeOllama, FakeOpenAI
from tests.proxy_support import auth, events_of, key_of


@pytest.fixture
def client(proxy: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=proxy + "/v1", api_key=key_of("agent:embedder", "microdao:emb"), max_retries=0)


def test_the_sdk_embeds_through_openai_and_the_call_is_billed_to_the_keys_agent(
    client: openai.OpenAI, fake_openai: tuple[FakeOpenAI, str], ledger: Any,
) -> None:
    raw = client.embeddings.with_raw_response.create(model="embed", input=["one two three", "four five"])
    result = raw.parse()  # the SDK asks for base64 and decodes it
    assert [item.index for item in result.data] == [0, 1] and len(result.data[0].embedding) == 8
    assert result.usage.prompt_tokens == 5 and result.model == "embed"
    assert fake_openai[0].requests[-1]["path"] == "/v1/embeddings"
    [event] = events_of(ledger, raw.headers["x-request-id"])
    assert isinstance(event, EmbeddingsCompleted)
    assert (event.agent_id, event.microdao_id, event.provider, event.physical_model) == (
        "agent:embedder", "microdao:emb", "openai", "ok-embed")
    assert (event.inputs, event.prompt_tokens, event.dimensions) == (2, 5, 8)
    assert event.cost_usd is not None and float(event.cost_usd) == pytest.approx(5 * 0.02 / 1_000_000)
    assert float(raw.headers["x-daarion-cost-usd"]) == pytest.approx(1e-7)


def test_float_and_base64_encodings_carry_the_same_vector(proxy: str, client: openai.OpenAI) -> None:
    as_floats = httpx.post(proxy + "/v1/embeddings", headers=auth("agent:embedder", "microdao:emb"), timeout=30,
                           json={"model": "embed", "input": "same text", "encoding_format": "float"}).json()
    decoded = client.embeddings.create(model="embed", input="same text").data[0].embedding
    assert as_floats["data"][0]["embedding"] == pytest.approx(decoded)


def test_a_failing_target_falls_back_to_ollama(client: openai.OpenAI, fake_ollama: tuple[FakeOllama, str],
                                               ledger: Any) -> None:
    raw = client.embeddings.with_raw_response.create(model="embed-fallback", input="hello there", dimensions=16)
    assert len(raw.parse().data[0].embedding) == 16
    assert raw.headers["x-daarion-provider"] == "ollama"
    assert fake_ollama[0].requests[-1]["input"] == ["hello there"]
    [event] = events_of(ledger, raw.headers["x-request-id"])
    assert (event.fallbacks, event.prompt_tokens, event.cost_usd) == (1, 2, 0)


def test_a_rejected_request_is_a_400_recorded_as_failed(client: openai.OpenAI, ledger: Any) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model="embed-rejected", input="x")
    [event] = events_of(ledger, caught.value.response.headers["x-request-id"])
    assert isinstance(event, EmbeddingsFailed) and event.error_type == "rejected"


def test_an_unknown_embeddings_model_is_an_openai_shaped_404(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.embeddings.create(model="no-such-embedder", input="x")
    assert (caught.value.code, caught.value.param, caught.value.type) == ("unknown_model", "model",
                                                                         "invalid_request_error")


@pytest.mark.parametrize("body", [{"model": "embed", "input": []}, {"model": "embed", "input": ""},
                                  {"model": "embed", "input": [[1, 2, 3]]}, {"model": "embed"},
                                  {"model": "embed", "input": "x", "encoding_format": "int8"}])
def test_malformed_inputs_are_400s_naming_the_field(proxy: str, body: dict[str, Any]) -> None:
    response = httpx.post(proxy + "/v1/embeddings", json=body, headers=auth(), timeout=10)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["code"] == "invalid_request"
    assert error["param"].split("[")[0] in ("input", "encoding_format")


def test_minilm_embeds_in_process_with_unit_vectors_of_384_dimensions(client: openai.OpenAI, ledger: Any) -> None:
    raw = client.embeddings.with_raw_response.create(model="minilm", input=["Olena prefers green tea."])
    vector = raw.parse().data[0].embedding
    assert len(vector) == 384 and math.isclose(sum(x * x for x in vector), 1.0, rel_tol=1e-4)
    [event] = events_of(ledger, raw.headers["x-request-id"])
    assert (event.provider, event.dimensions) == ("minilm", 384)
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model="minilm", input="x", dimensions=128)


def test_the_usage_report_counts_embeddings_apart_from_chat(proxy: str) -> None:
    agent, microdao = "agent:embedding-reporter", "microdao:emb"
    client = openai.OpenAI(base_url=proxy + "/v1", api_key=key_of(agent, microdao), max_retries=0)
    client.embeddings.create(model="embed", input=["a b c d", "e f g h i j"])
    client.chat.completions.create(model="gpt", messages=[{"role": "user", "content": "hi"}])
    [row] = httpx.get(proxy + "/internal/usage", params={"group_by": "agent"}, headers=auth(agent, microdao),
                      timeout=30).json()["rows"]
    assert (row["key"], row["embedding_calls"], row["embedding_tokens"], row["llm_calls"]) == (agent, 1, 10, 1)
    assert row["embedding_cost_usd"] == "0.000000"  # 10 tokens at $0.02/1M: under the report's 6 decimals
    by_model = httpx.get(proxy + "/internal/usage", params={"group_by": "model"}, headers=auth(agent, microdao),
                         timeout=30).json()["rows"]
    assert {r["key"] for r in by_model} == {"embed -> openai/ok-embed", "gpt -> openai/ok-gpt"}


def test_an_embedding_that_could_pass_the_budget_is_refused_with_402_and_the_quota_headers(proxy: str) -> None:
    broke = openai.OpenAI(base_url=proxy + "/v1", api_key=key_of("agent:broke"), max_retries=0)
    with pytest.raises(openai.APIStatusError) as caught:
        broke.embeddings.create(model="embed", input="a sentence long enough to cost more than the budget " * 2)
    assert caught.value.status_code == 402 and caught.value.code == "budget_exhausted"
    assert caught.value.type == "insufficient_quota" and "x-ratelimit-limit-requests" in caught.value.response.headers
