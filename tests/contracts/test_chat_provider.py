"""ChatProvider: RecordingProvider (over the stub), StubProvider, OpenAICompatibleProvider and OllamaProvider
answer alike.

OpenAICompatibleProvider and OllamaProvider talk to the local FakeOpenAI and FakeOllama
(tests/fakes/llm_servers.py), which pick their behaviour by model name; the stub calls a tool when the
user's message asks for it in a directive. Failures are contracted for OpenAICompatibleProvider (by the
fake server or its configuration) and the RecordingProvider (by being given the failure);
tests/integration/llm/test_provider_bad_responses.py fails OllamaProvider's malformed answers.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from domain.llm.policies import ChatChunk, ChatRequest, ProviderError
from domain.llm.ports import ChatProvider
from infra.llm.providers.ollama import OllamaProvider
from infra.llm.providers.openai_compatible import OpenAICompatibleProvider
from infra.llm.providers.stub import StubProvider
from tests.fakes.agents import RecordingProvider
from tests.fakes.llm_servers import FakeOpenAI
from tests.support import free_port

TOOL = {"type": "function", "function": {"name": "lookup", "description": "finds", "parameters": {"type": "object"}}}


@dataclass
class Chat:
    provider: ChatProvider
    tool_model: str  # the model that calls a tool when the prompt asks
    tool_prompt: str

    async def stream(self, model: str, request: ChatRequest, timeout_s: float = 5.0) -> list[ChatChunk]:
        return [chunk async for chunk in self.provider.stream(model, request, timeout_s)]


def ask(text: str, **fields: Any) -> ChatRequest:
    return ChatRequest([{"role": "system", "content": "be brief"}, {"role": "user", "content": text}], **fields)


def openai_compatible(base_url: str, api_key: str | None) -> ChatProvider:
    return OpenAICompatibleProvider("openai", base_url, api_key, requires_key=True)


@pytest.fixture(params=["fake", "stub", "openai_compatible", "ollama"], name="chat")
async def chat_fixture(request: pytest.FixtureRequest) -> AsyncIterator[Chat]:
    directive = '[[tool:lookup {"q": "x"}]]'
    if request.param == "openai_compatible":
        fake, base_url = request.getfixturevalue("fake_openai")
        chat = Chat(openai_compatible(base_url, fake.api_key), "tool-contract", "find x")
    elif request.param == "ollama":
        _, host = request.getfixturevalue("fake_ollama")
        chat = Chat(OllamaProvider("ollama", host), "tool-contract", "find x")
    else:
        chat = Chat(StubProvider() if request.param == "stub" else RecordingProvider(StubProvider()), "ok", directive)
    yield chat
    await chat.provider.aclose()


# kind -> (FakeOpenAI's model for it, the HTTP status the error carries)
FAILURES: dict[str, tuple[str, int | None]] = {
    "server_error": ("fail-500", 500), "rate_limited": ("fail-429", 429), "rejected": ("reject-400", 400),
    "timeout": ("slow-1", None), "connect": ("ok", None), "not_configured": ("ok", None),
    "bad_response": ("malformed-choices", None),
}


@pytest.fixture(params=["fake", "openai_compatible"], name="failing")
async def failing_fixture(request: pytest.FixtureRequest) -> AsyncIterator[Callable[[str], ChatProvider]]:
    """A provider whose every call fails as the kind it is given (its model: FAILURES[kind][0])."""
    opened: list[ChatProvider] = []

    def provider(kind: str) -> ChatProvider:
        if request.param == "fake":
            opened.append(RecordingProvider(StubProvider(), ProviderError(kind, f"down: {kind}", FAILURES[kind][1])))
            return opened[-1]
        fake: FakeOpenAI
        fake, base_url = request.getfixturevalue("fake_openai")
        if kind == "connect":
            base_url = f"http://127.0.0.1:{free_port()}/v1"
        key = None if kind == "not_configured" else fake.api_key
        opened.append(openai_compatible(base_url, key))
        return opened[-1]

    yield provider
    for each in opened:
        await each.aclose()


async def test_complete_answers_the_user_with_content_and_the_tokens_used(chat: Chat) -> None:
    result = await chat.provider.complete("ok-contract", ask("hello contract"), 5.0)
    assert result.content is not None and "hello contract" in result.content
    assert (result.tool_calls, result.finish_reason) == (None, "stop")
    assert result.usage.prompt_tokens > 0 and result.usage.completion_tokens > 0


async def test_a_completion_that_calls_a_tool_returns_the_call_in_openai_shape(chat: Chat) -> None:
    result = await chat.provider.complete(chat.tool_model, ask(chat.tool_prompt, tools=[TOOL]), 5.0)
    assert result.finish_reason == "tool_calls" and result.tool_calls is not None
    [call] = result.tool_calls
    assert call["type"] == "function" and call["id"] and call["function"]["name"] == "lookup"
    assert json.loads(call["function"]["arguments"]) == {"q": "x"}


async def test_a_stream_yields_the_answer_in_deltas_then_its_finish_then_one_chunk_with_usage(chat: Chat) -> None:
    completed = await chat.provider.complete("ok-contract", ask("hello contract"), 5.0)
    chunks = await chat.stream("ok-contract", ask("hello contract"))
    *deltas, finish, last = chunks
    assert last.usage == completed.usage and last.delta == {}
    assert [chunk.usage for chunk in chunks[:-1]] == [None] * (len(chunks) - 1)
    assert finish.finish_reason == "stop" and all(chunk.finish_reason is None for chunk in deltas)
    text = "".join(chunk.delta.get("content", "") for chunk in deltas)
    assert len(deltas) > 1 and text.strip() == (completed.content or "").strip()


@pytest.mark.parametrize("kind", list(FAILURES))
async def test_a_failing_backend_raises_a_provider_error_of_its_kind(
    failing: Callable[[str], ChatProvider], kind: str,
) -> None:
    model, status = FAILURES[kind]
    with pytest.raises(ProviderError) as raised:
        await failing(kind).complete(model, ask("hello"), 0.3)
    assert (raised.value.kind, raised.value.status) == (kind, status)
    assert raised.value.may_fall_back is (kind != "rejected") and raised.value.message


@pytest.mark.parametrize("kind", list(FAILURES))
async def test_a_stream_of_a_failing_backend_raises_before_its_first_chunk(
    failing: Callable[[str], ChatProvider], kind: str,
) -> None:
    model, _ = FAILURES[kind]
    chunks: list[ChatChunk] = []
    with pytest.raises(ProviderError) as raised:
        async for chunk in failing(kind).stream(model, ask("hello"), 0.3):
            chunks.append(chunk)
    assert (raised.value.kind, chunks) == (kind, [])
