"""The key a turn acts with goes only into the Authorization headers of its downstream calls: never into a
log line, a ledger event, a metric or a response, whether the turn succeeds, streams or fails."""

from __future__ import annotations

import logging
import uuid

import httpx
import pytest

from domain.ledger.application import UsageLedger
from domain.llm.policies import ProviderError
from tests.integration.agents.conftest import SOFIA, TARAS, RuntimeStack
from tests.proxy_support import events_of, operator_key
from tests.support import bearer, issue_key, wait_until


def test_the_key_appears_in_no_log_ledger_event_metric_or_response_of_its_turns(
    runtime_stack: RuntimeStack, database_url: str, ledger: UsageLedger, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    key = issue_key(database_url, SOFIA.id, "microdao:7")
    secret = key.split("_", 2)[2]  # dk_<id>_<secret>: the secret itself may hold "_" (URL-safe base64)
    url = f"{runtime_stack.runtime}/internal/agents/{SOFIA.id}/messages"
    body = {"channel_id": "cli:secrecy", "user_id": "member:olena", "text": "what time is it?"}
    request_ids = [f"secrecy-{uuid.uuid4().hex[:8]}" for _ in range(4)]
    responses = [
        httpx.post(url, json=body, headers={**bearer(key), "x-request-id": request_ids[0]}, timeout=60),
        httpx.post(url, json=body, params={"stream": "true"}, headers={**bearer(key), "x-request-id": request_ids[1]},
                   timeout=60),
        httpx.post(url, json={**body, "microdao_id": "microdao:8"}, headers=bearer(key), timeout=60),
        httpx.post(f"{runtime_stack.runtime}/internal/agents/{TARAS.id}/messages", json=body, headers=bearer(key)),
    ]
    runtime_stack.llm.failure = ProviderError("server_error", "the model is down")
    try:
        responses.append(httpx.post(url, json=body, headers={**bearer(key), "x-request-id": request_ids[2]},
                                    timeout=60))
        responses.append(httpx.post(url, json=body, params={"stream": "true"},
                                    headers={**bearer(key), "x-request-id": request_ids[3]}, timeout=60))
    finally:
        runtime_stack.llm.failure = None

    assert [r.status_code for r in responses] == [200, 200, 403, 403, 502, 502]
    for response in responses:
        assert secret not in response.text and all(secret not in value for value in response.headers.values())
    metrics = httpx.get(f"{runtime_stack.runtime}/metrics", headers=bearer(operator_key())).text
    assert secret not in metrics
    turns: list[object] = []
    for request_id in request_ids:
        wait_until(lambda rid=request_id: any(type(e).__name__ == "AgentTurnCompleted"  # type: ignore[misc]
                                              for e in events_of(ledger, rid)), timeout=10)
        turns += events_of(ledger, request_id)
    assert len(turns) >= 8 and all(secret not in repr(vars(event)) for event in turns)
    assert caplog.records and secret not in caplog.text

