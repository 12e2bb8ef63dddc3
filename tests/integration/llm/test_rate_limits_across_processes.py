"""Rate limits are exact across several proxy processes sharing one database."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.llm.proxy_processes import proxy_processes
from tests.support import bearer, issue_key

LIMIT = 50


@pytest.fixture
def two_proxies(database_url: str, tmp_path: Path) -> Iterator[list[str]]:
    config = {
        "providers": {"stub": {"kind": "stub"}},
        "models": {"stub": {"targets": [{"provider": "stub", "model": "stub-1"}]}},
        "limits": {"default": {"requests_per_minute": LIMIT, "tokens_per_minute": 100_000_000}},
    }
    with proxy_processes(database_url, config, tmp_path) as bases:
        yield bases


def test_two_processes_admit_exactly_the_limit_out_of_200_concurrent_requests(two_proxies: list[str]) -> None:
    if time.time() % 60 > 45:  # keep the burst inside one rate window
        time.sleep(61 - time.time() % 60)
    agent = f"agent:burst-{int(time.time() * 1000)}"
    key = bearer(issue_key(os.environ["DATABASE_URL"], agent, "microdao:burst"))
    for base in two_proxies:  # both know the key before the race starts
        assert httpx.get(base + "/v1/models", headers=key).status_code == 200

    async def burst() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=200)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            return await asyncio.gather(*(
                client.post(two_proxies[i % 2] + "/internal/llm/proxy", json={
                    "model": "stub", "messages": [{"role": "user", "content": f"n{i}"}],
                    "metadata": {"agent_id": agent, "microdao_id": "microdao:burst"}}, headers=key)
                for i in range(200)
            ))

    responses = asyncio.run(burst())
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == LIMIT
    assert statuses.count(429) == 200 - LIMIT
    # Each process answered its half: had either counted on its own, 2 x LIMIT would have been admitted.
    # (Which process wins the admissions is a race; one may take them all and the other refuse all.)
    assert all(r.status_code in (200, 429) for r in responses)
    for response in responses:
        if response.status_code == 429:
            assert 1 <= int(response.headers["retry-after"]) <= 120
            assert response.json()["error"]["type"] == "rate_limited"
            assert response.headers["x-ratelimit-limit-requests"] == str(LIMIT)
            assert response.headers["x-ratelimit-remaining-requests"] == "0"
