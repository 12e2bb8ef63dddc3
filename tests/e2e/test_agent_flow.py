"""The Sofia flow end to end: memory + Toolcore + the projects service + the LLM proxy + the ledger."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import httpx

from domain.ledger.events import AgentTurnCompleted, LlmCallCompleted, MemoryStored, ToolInvoked
from tests.e2e.conftest import Stack
from tests.proxy_support import key_of, operator_key
from tests.support import bearer

QUESTION = "Sofia, що нового в проєкті X?"


def project_x_titles(stack: Stack) -> list[str]:
    """What the projects service itself says (tasks.list asks for its default of 10)."""
    url = f"{stack.projects}/microdaos/microdao:7/projects/prj_project_x/tasks"
    return [task["title"] for task in httpx.get(url, params={"limit": 10}, headers=stack.auth).json()["tasks"]]


def turn_complete(events: list[Any]) -> bool:
    return any(isinstance(e, AgentTurnCompleted) for e in events) and any(isinstance(e, MemoryStored) for e in events)


def test_sofia_answers_whats_new_in_project_x_from_memory_tools_and_the_model(stack: Stack) -> None:
    marker = uuid.uuid4().hex[:8]
    channel = f"telegram:flow-{marker}"
    greeting = stack.remember(channel, "Привіт, Софіє!", "Привіт! Чим можу допомогти?")
    earlier = stack.remember(f"telegram:elsewhere-{marker}", "Що нового в проєкті X минулого тижня?",
                             f"Минулого тижня в проєкті X почали специфікацію escrow (нотатка {marker}).")
    request_id = f"turn-{marker}"
    asked_before = len(stack.llm.requests)

    response = stack.ask(QUESTION, channel, request_id=request_id)

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"reply", "tool_calls", "memories_used", "usage", "request_id", "warnings", "grounding"}
    assert body["request_id"] == request_id == response.headers["x-request-id"]
    assert body["warnings"] == []
    assert [(c["tool_id"], c["status"], c["arguments"]) for c in body["tool_calls"]] == [
        ("projects.list", "succeeded", {}), ("tasks.list", "succeeded", {"project_id": "prj_project_x"})]
    titles = project_x_titles(stack)
    assert len(titles) >= 3
    assert all(title in body["reply"] for title in titles), body["reply"]
    assert greeting in body["memories_used"] and earlier in body["memories_used"]
    usage = body["usage"]
    assert usage["llm_calls"] == 3 and usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert Decimal(usage["cost_usd"]) > 0

    # The model was shown the memories: the earlier turn as chat history, the relevant one in the system prompt.
    first = stack.llm.requests[asked_before]
    assert first.messages[0]["role"] == "system" and f"нотатка {marker}" in first.messages[0]["content"]
    assert {"role": "user", "content": "Привіт, Софіє!"} in first.messages
    assert [t["function"]["name"] for t in first.tools or []] == [
        "math__eval", "projects__list", "task__create", "tasks__list", "time__now"]

    # The turn itself is now in memory, in its channel.
    recent = stack.recall(channel, QUESTION)["short_term"]
    assert (recent[-1]["user_message"], recent[-1]["agent_reply"]) == (QUESTION, body["reply"])

    # One request id across the proxy, Toolcore, memory and the runtime.
    events = stack.events(request_id, until=turn_complete)
    kinds = sorted(type(e).__name__ for e in events)
    assert kinds == ["AgentTurnCompleted", "LlmCallCompleted", "LlmCallCompleted", "LlmCallCompleted",
                     "MemoryStored", "ToolInvoked", "ToolInvoked"]
    assert [e.status for e in events if isinstance(e, ToolInvoked)] == ["succeeded", "succeeded"]
    [turn] = [e for e in events if isinstance(e, AgentTurnCompleted)]
    llm_cost = sum(e.cost_usd or Decimal(0) for e in events if isinstance(e, LlmCallCompleted))
    assert (turn.agent_id, turn.microdao_id, turn.channel_id) == ("agent:sofia", "microdao:7", channel)
    # Each service took the turn's calls as Sofia: the key her caller presented, passed on by the runtime.
    assert {(e.agent_id, e.microdao_id) for e in events} == {("agent:sofia", "microdao:7")}
    assert (turn.steps, turn.tools_used, turn.status) == (3, ["projects.list", "tasks.list"], "completed")
    assert turn.cost_usd == llm_cost == Decimal(usage["cost_usd"])
    assert turn.prompt_tokens == usage["prompt_tokens"]


def test_a_streamed_turn_sends_memories_then_tool_calls_then_the_reply_as_it_is_generated(stack: Stack) -> None:
    channel = f"telegram:stream-{uuid.uuid4().hex[:8]}"
    events: list[tuple[str, dict[str, Any]]] = []
    body = {"microdao_id": "microdao:7", "channel_id": channel, "user_id": "member:olena", "text": QUESTION}
    with httpx.stream("POST", f"{stack.runtime}/internal/agents/agent:sofia/messages", params={"stream": "true"},
                      json=body, headers=stack.auth, timeout=60) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        name = ""
        for line in response.iter_lines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                events.append((name, json.loads(line[5:])))

    names = [name for name, _ in events]
    assert names[0] == "memories" and names[1:3] == ["tool_call", "tool_call"] and names[-1] == "done"
    assert set(names[3:-1]) == {"delta"} and len(names[3:-1]) > 3  # the reply came word by word
    done = events[-1][1]
    assert "".join(data["text"] for name, data in events if name == "delta") == done["reply"]
    assert all(title in done["reply"] for title in project_x_titles(stack))
    assert [c["status"] for c in done["tool_calls"]] == ["succeeded", "succeeded"]
    assert done["usage"]["llm_calls"] == 3


def test_a_message_without_sofias_key_for_another_agent_or_microdao_or_malformed_is_refused(stack: Stack) -> None:
    body = {"microdao_id": "microdao:7", "channel_id": "c1", "user_id": "member:olena", "text": "hi"}
    sofia = f"{stack.runtime}/internal/agents/agent:sofia/messages"

    def refusal(url: str, key: str | None, payload: dict[str, Any] = body) -> tuple[int, str]:
        response = httpx.post(url, json=payload, headers=bearer(key) if key else {})
        return response.status_code, response.json()["error"]["type"]

    assert refusal(sofia, None) == (401, "unauthenticated")
    assert refusal(sofia, operator_key()) == (403, "agent_key_required")
    assert refusal(f"{stack.runtime}/internal/agents/agent:nobody/messages", stack.key) == (403, "identity_mismatch")
    assert refusal(f"{stack.runtime}/internal/agents/agent:nobody/messages",
                   key_of("agent:nobody", "microdao:7")) == (404, "not_found")  # a key, but no such agent here
    assert refusal(sofia, stack.key, {**body, "microdao_id": "microdao:8"}) == (403, "identity_mismatch")
    assert refusal(sofia, stack.key, {**body, "text": ""}) == (400, "invalid_request")
