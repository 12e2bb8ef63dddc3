"""Sofia on a real model with no keys and no network: SmolLM2-135M through llama.cpp, the whole flow."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import msgspec
import pytest

from apps.llm_proxy.app import create_app as create_proxy
from apps.llm_proxy.settings import ProxySettings
from domain.kernel.tool_calls import ToolCallStatus
from domain.ledger.events import AgentTurnCompleted, LlmCallCompleted, MemoryStored
from tests.e2e.conftest import MODEL, Stack
from tests.local_llm import needs_local_llm
from tests.support import serve_in_thread

pytestmark = needs_local_llm
STATUSES = set(ToolCallStatus)


@pytest.fixture(scope="module")
def local_proxy(database_url: str) -> Iterator[str]:
    raw = {
        "providers": {"llama": {"kind": "llama_cpp", "threads": 2}},
        "models": {MODEL: {"targets": [{"provider": "llama", "model": "smollm2-135m-instruct", "timeout_s": 180}]}},
        "prices": {"smollm2-135m-instruct": {"input_per_1m": "0", "output_per_1m": "0"}},
    }
    with serve_in_thread(create_proxy(msgspec.convert(raw, ProxySettings))) as base:
        yield base


def test_smollm2_answers_sofias_question_through_memory_toolcore_and_the_proxy(
    stack: Stack, runtime_with: Callable[..., str], local_proxy: str,
) -> None:
    runtime = runtime_with(timeout_s=180, llm_proxy=local_proxy)
    channel, request_id = f"telegram:local-{uuid.uuid4().hex[:8]}", f"local-{uuid.uuid4().hex[:8]}"
    question = "Sofia, what's new in Project X?"

    response = stack.ask(question, channel, runtime=runtime, request_id=request_id)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["reply"].strip() and body["warnings"] == []
    assert {call["status"] for call in body["tool_calls"]} <= STATUSES
    assert body["usage"]["completion_tokens"] > 0 and body["usage"]["cost_usd"] == "0"
    assert stack.recall(channel, question)["short_term"][-1]["agent_reply"] == body["reply"]

    def complete(events: list[Any]) -> bool:
        return any(isinstance(e, AgentTurnCompleted) for e in events)

    events = stack.events(request_id, until=complete)
    calls = [e for e in events if isinstance(e, LlmCallCompleted)]
    assert {e.provider for e in calls} == {"llama"} and len(calls) == body["usage"]["llm_calls"]
    assert sum(e.completion_tokens for e in calls) == body["usage"]["completion_tokens"]
    assert [e for e in events if isinstance(e, MemoryStored)]
