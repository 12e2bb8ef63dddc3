"""Budgets are exact across proxy processes: two real proxies, 64 concurrent calls, a budget that allows 10.

The priced stub answers every call the same ("(stub) You said: go": 5 completion tokens at $2,000 per 1M
output tokens, input free), so each call costs exactly $0.01, and with max_tokens 5 it reserves exactly
that. A budget of $0.10 then admits exactly 10 of 64 concurrent calls, whichever process they reach.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from domain.ledger.application import UsageLedger
from tests.integration.llm.proxy_processes import proxy_processes
from tests.support import bearer, issue_key, unique_id

COST, BUDGET, CALLS = Decimal("0.01"), Decimal("0.10"), 64
AGENT_WITH_BUDGET = unique_id("agent:frugal")


@pytest.fixture(scope="module")
def two_proxies(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    config = {
        "providers": {"stub": {"kind": "stub", "latency_ms": 20}},
        "models": {"priced": {"targets": [{"provider": "stub", "model": "stub-priced"}]}},
        "prices": {"stub-priced": {"input_per_1m": "0", "output_per_1m": "2000"}},
        "limits": {"default": {"requests_per_minute": 100_000, "tokens_per_minute": 100_000_000, "max_tokens": 64}},
        "budgets": {"agents": {AGENT_WITH_BUDGET: str(BUDGET)}},
    }
    with proxy_processes(database_url, config, tmp_path_factory.mktemp("budgets")) as bases:
        yield bases


def ledger_entries_of(ledger: UsageLedger, agent: str) -> list[Any]:
    found, position = [], 1
    while batch := ledger.recorder.select_notifications(start=position, limit=1000):
        for notification in batch:
            event = ledger.mapper.to_domain_event(notification)
            if getattr(event, "agent_id", None) == agent and hasattr(event, "cost_usd"):
                found.append(event)
        position = batch[-1].id + 1
    return found


def burst(proxies: list[str], key: str, agent: str, microdao: str) -> list[httpx.Response]:
    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=CALLS)) as client:
            return await asyncio.gather(*(
                client.post(proxies[i % 2] + "/internal/llm/proxy", headers=bearer(key), json={
                    "model": "priced", "max_tokens": 5, "messages": [{"role": "user", "content": "go"}],
                    "metadata": {"agent_id": agent, "microdao_id": microdao}})
                for i in range(CALLS)
            ))

    return asyncio.run(run())


@pytest.mark.parametrize("budget_of", ["agent", "key"])
def test_64_concurrent_calls_through_two_processes_spend_no_more_than_the_budget(
    two_proxies: list[str], ledger: UsageLedger, budget_of: str,
) -> None:
    agent = AGENT_WITH_BUDGET if budget_of == "agent" else unique_id("agent:keyed")
    microdao = unique_id("microdao:frugal")
    key = issue_key(os.environ["DATABASE_URL"], agent, microdao,
                    monthly_budget_usd=BUDGET if budget_of == "key" else None)

    responses = burst(two_proxies, key, agent, microdao)

    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 10 and statuses.count(402) == CALLS - 10, statuses
    recorded = ledger_entries_of(ledger, agent)
    assert len(recorded) == statuses.count(200), "every admitted call is in the ledger, and only those"
    assert all(entry.status == "completed" and entry.cost_usd == COST for entry in recorded)
    assert sum(entry.cost_usd for entry in recorded) <= BUDGET
    assert {r.headers["x-request-id"] for r in responses if r.status_code == 200} == {e.request_id for e in recorded}
    for response in responses:
        assert "x-ratelimit-remaining-requests" in response.headers
        if response.status_code == 402:
            assert response.json()["error"]["type"] == "budget_exhausted"
            assert Decimal(response.headers["x-daarion-budget-remaining-usd"]) < COST
        else:
            assert Decimal(response.headers["x-daarion-budget-remaining-usd"]) <= BUDGET - COST
