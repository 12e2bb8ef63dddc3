"""The runtime acts as the agent whose own key its caller presented, and with that key, over real HTTP."""

from __future__ import annotations

import json
import uuid

import httpx

from domain.ledger.events import AgentTurnCompleted, LlmCallCompleted
from tests.integration.agents.conftest import MOVED, SOFIA, TARAS, RuntimeStack, revoke
from tests.proxy_support import events_of, operator_key
from tests.support import bearer, issue_key, wait_until


def error_of(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["type"]


def test_a_message_without_a_credential_or_with_a_made_up_one_is_refused_with_401(
    runtime_stack: RuntimeStack,
) -> None:
    missing = runtime_stack.ask(None)
    assert error_of(missing) == (401, "unauthenticated")
    assert missing.headers["www-authenticate"] == 'Bearer realm="daarion"'
    assert error_of(runtime_stack.ask("dk_0123456789abcdef_" + "x" * 43)) == (401, "unauthenticated")


def test_an_agents_key_cannot_speak_for_another_agent_or_another_microdao(
    runtime_stack: RuntimeStack, database_url: str,
) -> None:
    key = issue_key(database_url, SOFIA.id, "microdao:7")
    calls_before = len(runtime_stack.services.calls)

    other_agent = runtime_stack.ask(key, agent=TARAS.id)
    other_microdao = runtime_stack.ask(key, microdao_id="microdao:8")

    assert error_of(other_agent) == (403, "identity_mismatch")
    assert "agent:sofia" in other_agent.json()["error"]["message"]
    assert error_of(other_microdao) == (403, "identity_mismatch")
    moved = runtime_stack.ask(issue_key(database_url, MOVED.id, "microdao:9"), agent=MOVED.id)
    assert error_of(moved) == (403, "identity_mismatch") and "microdao:9" in moved.json()["error"]["message"]
    assert len(runtime_stack.services.calls) == calls_before, "a refused turn calls nothing downstream"


def test_an_operator_key_is_told_that_the_runtime_needs_the_agents_own_key(runtime_stack: RuntimeStack) -> None:
    assert error_of(runtime_stack.ask(operator_key())) == (403, "agent_key_required")


def test_a_key_without_a_scope_its_agents_turn_needs_is_refused_before_any_work(
    runtime_stack: RuntimeStack, database_url: str,
) -> None:
    llm_only = issue_key(database_url, SOFIA.id, "microdao:7", scopes="llm")
    no_llm = issue_key(database_url, SOFIA.id, "microdao:7", scopes="memory,tools")
    calls_before = len(runtime_stack.services.calls)

    refused = runtime_stack.ask(llm_only)

    assert error_of(refused) == (403, "insufficient_scope")
    assert refused.json()["error"]["message"].endswith("memory:read, memory:write, tools:call, tools:list")
    assert error_of(runtime_stack.ask(no_llm)) == (403, "insufficient_scope")
    assert len(runtime_stack.services.calls) == calls_before


def test_every_call_of_a_turn_carries_the_key_its_caller_presented(
    runtime_stack: RuntimeStack, database_url: str, ledger: object,
) -> None:
    first, second = (issue_key(database_url, SOFIA.id, "microdao:7") for _ in range(2))
    seen: list[set[str | None]] = []
    for key in (first, second):
        runtime_stack.services.calls.clear()
        request_id = f"carry-{uuid.uuid4().hex[:8]}"
        response = httpx.post(f"{runtime_stack.runtime}/internal/agents/{SOFIA.id}/messages",
                              json={"channel_id": "cli:test", "user_id": "member:olena", "text": "what time is it?"},
                              headers={**bearer(key), "x-request-id": request_id}, timeout=60)
        assert response.status_code == 200, response.text
        assert [call["status"] for call in response.json()["tool_calls"]] == ["succeeded"]
        assert {path for _, path, _ in runtime_stack.services.calls} == {
            "/internal/agent-memory/query", "/internal/tools", "/internal/tools/call", "/internal/agent-memory/store"}
        seen.append(runtime_stack.services.authorizations())
        # The proxy took the same key: its ledger entries for the turn are the caller's agent's.
        events = events_of(ledger, request_id)  # type: ignore[arg-type]
        calls = [e for e in events if isinstance(e, LlmCallCompleted)]
        assert len(calls) == 2 and {(e.agent_id, e.microdao_id) for e in calls} == {(SOFIA.id, "microdao:7")}
    assert seen == [{f"Bearer {first}"}, {f"Bearer {second}"}]


def test_a_streamed_turn_acts_with_the_callers_key_too(runtime_stack: RuntimeStack, database_url: str) -> None:
    key = issue_key(database_url, TARAS.id, "microdao:7")
    runtime_stack.services.calls.clear()

    response = runtime_stack.ask(key, agent=TARAS.id, stream=True)

    assert response.status_code == 200, response.text
    events = [line for line in response.text.splitlines() if line.startswith("event:")]
    assert events[0] == "event: memories" and events[-1] == "event: done"
    done = json.loads(response.text.rsplit("data:", 1)[1])
    assert done["reply"] == "(stub) You said: hello"
    assert runtime_stack.services.authorizations() == {f"Bearer {key}"}


def test_a_revoked_key_is_refused_at_the_runtime_within_a_second(
    runtime_stack: RuntimeStack, database_url: str,
) -> None:
    key = issue_key(database_url, SOFIA.id, "microdao:7")
    assert runtime_stack.ask(key).status_code == 200

    revoke(database_url, key)

    wait_until(lambda: runtime_stack.ask(key).status_code == 401, timeout=2, interval=0.1)
    refused = runtime_stack.ask(key)
    assert error_of(refused) == (401, "unauthenticated") and "revoked" in refused.json()["error"]["message"]


def test_memory_and_toolcore_refusing_the_key_degrade_the_turn_with_warnings_that_say_so(
    runtime_stack: RuntimeStack, database_url: str, ledger: object,
) -> None:
    key = issue_key(database_url, SOFIA.id, "microdao:7")
    runtime_stack.services.refuse.add(key)
    try:
        request_id = f"refused-{uuid.uuid4().hex[:8]}"
        response = httpx.post(f"{runtime_stack.runtime}/internal/agents/{SOFIA.id}/messages",
                              json={"channel_id": "cli:test", "user_id": "member:olena", "text": "what time is it?"},
                              headers={**bearer(key), "x-request-id": request_id}, timeout=60)
    finally:
        runtime_stack.services.refuse.discard(key)

    # Memory's and Toolcore's refusals degrade the turn like an outage would, and say why.
    assert response.status_code == 200, response.text
    warnings = sorted(response.json()["warnings"])  # memory and the tool list are asked at once
    assert warnings[0].startswith("memory unavailable, answered without memories: the memory service answered 403")
    assert warnings[2].startswith("tools unavailable, answered without tools: the toolcore service answered 403")
    assert "not stored in memory" in warnings[1]
    [turn] = [e for e in events_of(ledger, request_id) if isinstance(e, AgentTurnCompleted)]  # type: ignore[arg-type]
    assert (turn.agent_id, turn.status) == (SOFIA.id, "completed")


def test_an_agent_with_a_key_but_no_profile_here_gets_404_and_no_metric_series(
    runtime_stack: RuntimeStack, database_url: str,
) -> None:
    ghost = f"agent:ghost-{uuid.uuid4().hex[:6]}"
    key = issue_key(database_url, ghost, "microdao:7")

    assert error_of(runtime_stack.ask(key, agent=ghost)) == (404, "not_found")
    assert runtime_stack.ask(issue_key(database_url, SOFIA.id, "microdao:7")).status_code == 200

    metrics = httpx.get(f"{runtime_stack.runtime}/metrics", headers=bearer(operator_key())).text
    assert 'agent_id="agent:sofia"' in metrics and ghost not in metrics
