"""When something is refused, failing or down, the turn says so instead of breaking (or breaks cleanly)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx

from domain.ledger.events import AgentTurnCompleted, LlmCallCompleted, MemoryStored, ToolInvoked
from tests.e2e.conftest import Stack, dead_url


def of_type(events: list[Any], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def has_turn(events: list[Any]) -> bool:
    return bool(of_type(events, AgentTurnCompleted))


def tool_messages(stack: Stack) -> list[str]:
    """What the model read back from tools in the last request it got."""
    return [m["content"] for m in stack.llm.requests[-1].messages if m.get("role") == "tool"]


def test_a_tool_the_agent_was_never_granted_is_refused_by_toolcore_and_the_model_still_answers(stack: Stack) -> None:
    text, request_id = "Sofia, please clean up all the old records", f"denied-{uuid.uuid4().hex[:8]}"
    response = stack.ask(text, f"telegram:denied-{request_id}", request_id=request_id)

    assert response.status_code == 200, response.text
    body = response.json()
    [call] = body["tool_calls"]
    assert (call["tool_id"], call["status"], call["error"]["type"]) == ("admin.wipe_everything", "denied",
                                                                         "permission_denied")
    assert "may not call" in body["reply"]
    assert "permission_denied" in tool_messages(stack)[0]
    events = stack.events(request_id, until=has_turn)
    [refusal] = of_type(events, ToolInvoked)
    assert (refusal.tool_id, refusal.status, refusal.error_type) == ("admin.wipe_everything", "denied",
                                                                    "permission_denied")


def test_a_failing_tool_is_an_error_the_model_reads_and_answers_about(stack: Stack) -> None:
    text, request_id = "Show me the tasks of the archived project", f"failing-{uuid.uuid4().hex[:8]}"
    channel = f"telegram:failing-{request_id}"
    response = stack.ask(text, channel, request_id=request_id)

    assert response.status_code == 200, response.text
    body = response.json()
    [call] = body["tool_calls"]
    assert (call["tool_id"], call["status"]) == ("tasks.list", "failed")
    assert call["error"]["type"] == "upstream_rejected" and "404" in call["error"]["message"]
    assert "error: upstream answered 404" in body["reply"]
    assert '"upstream_rejected"' in tool_messages(stack)[0]
    assert stack.recall(channel, text)["short_term"][-1]["agent_reply"] == body["reply"]
    events = stack.events(request_id, until=lambda found: has_turn(found) and bool(of_type(found, MemoryStored)))
    assert [e.status for e in of_type(events, ToolInvoked)] == ["failed"]
    assert of_type(events, AgentTurnCompleted)[0].status == "completed"


def test_with_memory_down_sofia_answers_without_memories_and_says_so(
    stack: Stack, runtime_with: Callable[..., str],
) -> None:
    runtime = runtime_with(memory=dead_url())
    request_id = f"nomemory-{uuid.uuid4().hex[:8]}"
    response = stack.ask("Sofia, що нового в проєкті X?", f"telegram:nomemory-{request_id}", runtime=runtime,
                         request_id=request_id)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["memories_used"] == []
    assert [c["status"] for c in body["tool_calls"]] == ["succeeded", "succeeded"]  # tools and the model still work
    assert "Draft the escrow smart-contract spec" in body["reply"]
    assert len(body["warnings"]) == 2
    assert body["warnings"][0].startswith("memory unavailable, answered without memories: cannot reach the memory")
    assert "not stored in memory" in body["warnings"][1]
    events = stack.events(request_id, until=has_turn)
    assert of_type(events, MemoryStored) == []
    assert of_type(events, AgentTurnCompleted)[0].status == "completed"


def test_with_the_llm_proxy_down_the_caller_gets_a_clear_502_and_nothing_is_half_stored(
    stack: Stack, runtime_with: Callable[..., str],
) -> None:
    runtime = runtime_with(llm_proxy=dead_url())
    request_id = f"noproxy-{uuid.uuid4().hex[:8]}"
    channel = f"telegram:noproxy-{request_id}"
    response = stack.ask("Sofia, що нового в проєкті X?", channel, runtime=runtime, request_id=request_id)

    assert response.status_code == 502
    error = response.json()["error"]
    assert error["type"] == "upstream_error" and error["request_id"] == request_id
    assert error["message"].startswith("cannot reach the LLM proxy service at http://127.0.0.1:")
    streamed = stack.ask("Sofia, що нового в проєкті X?", channel, runtime=runtime, stream="true")
    assert streamed.status_code == 502  # a real status, not an error hidden inside a 200 stream
    assert stack.recall(channel, "проєкт X")["short_term"] == []
    events = stack.events(request_id, until=has_turn)
    assert of_type(events, MemoryStored) == [] and of_type(events, LlmCallCompleted) == []
    assert [e.status for e in of_type(events, AgentTurnCompleted)] == ["failed"]


def test_with_toolcore_down_sofia_answers_without_tools_and_says_so(
    stack: Stack, runtime_with: Callable[..., str],
) -> None:
    runtime = runtime_with(toolcore=dead_url())
    response = stack.ask("Sofia, що нового в проєкті X?", f"telegram:notools-{uuid.uuid4().hex[:8]}",
                         runtime=runtime)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["tool_calls"] == []
    assert body["reply"] == "(stub) You said: Sofia, що нового в проєкті X?"
    assert body["warnings"][0].startswith("tools unavailable, answered without tools: cannot reach the toolcore")
    health = httpx.get(f"{runtime}/healthz")
    assert health.status_code == 200
