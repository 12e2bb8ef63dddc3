"""The official `openai` package works unchanged against the proxy's /v1 endpoints."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionFunctionToolParam, ChatCompletionMessageFunctionToolCall

from tests.fakes.llm_servers import FakeOllama, FakeOpenAI
from tests.proxy_support import events_of, key_of

WEATHER_TOOL: ChatCompletionFunctionToolParam = {"type": "function", "function": {
    "name": "projects_list", "description": "List projects",
    "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}


@pytest.fixture
def client(proxy: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=proxy + "/v1", api_key=key_of(), max_retries=0)


def test_the_sdk_lists_the_logical_models(client: openai.OpenAI) -> None:
    ids = {model.id for model in client.models.list()}
    assert {"gpt", "fallback", "stub"} <= ids


def test_the_sdk_gets_a_completion_billed_to_the_keys_agent(client: openai.OpenAI, ledger: Any) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="gpt", messages=[{"role": "user", "content": "Привіт"}], temperature=0.2, max_tokens=50)
    completion = raw.parse()
    assert completion.choices[0].message.content == "echo from ok-gpt: Привіт"
    assert completion.usage is not None and completion.usage.total_tokens > 0
    [event] = events_of(ledger, raw.headers["x-request-id"])
    assert (event.agent_id, event.microdao_id, event.logical_model) == ("agent:sofia", "microdao:7", "gpt")
    expected_cost = (completion.usage.prompt_tokens * 2 + completion.usage.completion_tokens * 8) / 1_000_000
    assert float(event.cost_usd) == pytest.approx(expected_cost)


def test_function_calling_passes_through_both_ways(client: openai.OpenAI, fake_openai: tuple[FakeOpenAI, str]) -> None:
    completion = client.chat.completions.create(
        model="tools", messages=[{"role": "user", "content": "list projects"}], tools=[WEATHER_TOOL],
        tool_choice="auto")
    call = completion.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert isinstance(call, ChatCompletionMessageFunctionToolCall)
    assert completion.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "projects_list" and json.loads(call.function.arguments) == {"q": "x"}
    follow_up = client.chat.completions.create(model="gpt", messages=[
        {"role": "user", "content": "list projects"},
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},  # type: ignore[list-item]
        {"role": "tool", "tool_call_id": call.id, "content": '{"items": []}'},
    ])
    sent = fake_openai[0].requests[-1]["body"]["messages"]
    assert sent[1]["tool_calls"][0]["function"]["name"] == "projects_list"
    assert sent[2] == {"role": "tool", "tool_call_id": call.id, "content": '{"items": []}'}
    assert follow_up.choices[0].message.content


def test_the_sdk_streams_and_receives_the_final_usage(client: openai.OpenAI, fake_openai: tuple[FakeOpenAI, str]) -> None:
    stream = client.chat.completions.create(model="gpt", messages=[{"role": "user", "content": "stream me"}],
                                            stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip() == "echo from ok-gpt: stream me"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    assert fake_openai[0].requests[-1]["body"]["stream_options"] == {"include_usage": True}


def test_a_wrong_api_key_is_rejected_with_401(proxy: str) -> None:
    bad = openai.OpenAI(base_url=proxy + "/v1", api_key="sk-not-a-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        bad.chat.completions.create(model="gpt", messages=[{"role": "user", "content": "x"}])
    assert caught.value.status_code == 401
    assert "sk-not-a-key" not in str(caught.value)


def test_sdk_errors_carry_openais_type_param_and_the_stable_type_as_code(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])
    error = caught.value
    assert (error.type, error.code, error.param) == ("invalid_request_error", "unknown_model", "model")
    assert error.body["request_id"].startswith("req_")  # type: ignore[index]


def test_the_ollama_adapter_speaks_ollama_including_tools_and_streaming(
    client: openai.OpenAI, fake_ollama: tuple[FakeOllama, str]
) -> None:
    completion = client.chat.completions.create(model="ollama", messages=[{"role": "user", "content": "hi"}],
                                                max_tokens=20, temperature=0.1)
    assert completion.choices[0].message.content == "ollama says: hi"
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (11, 7)  # type: ignore[union-attr]
    assert fake_ollama[0].requests[-1]["options"] == {"temperature": 0.1, "num_predict": 20}
    tool = client.chat.completions.create(model="ollama-tools", messages=[{"role": "user", "content": "hi"}],
                                          tools=[WEATHER_TOOL])
    call = tool.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert isinstance(call, ChatCompletionMessageFunctionToolCall)
    assert call.function.name == "projects_list" and json.loads(call.function.arguments) == {"q": "x"}
    chunks = list(client.chat.completions.create(model="ollama", messages=[{"role": "user", "content": "yo"}],
                                                 stream=True, stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices).strip() == "ollama says: yo"
    assert chunks[-1].usage.total_tokens == 18  # type: ignore[union-attr]
