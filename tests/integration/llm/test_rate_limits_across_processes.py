"""Rate limits are exact across several proxy processes sharing one database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support import free_port, wait_for_http

LIMIT = 50


@pytest.fixture
def two_proxies(database_url: str, tmp_path: Path) -> Iterator[list[str]]:
    config = {
        "providers": {"stub": {"kind": "stub"}},
        "models": {"stub": {"targets": [{"provider": "stub", "model": "stub-1"}]}},
        "limits": {"default": {"requests_per_minute": LIMIT, "tokens_per_minute": 100_000_000}},
    }
    path = tmp_path / "llm_proxy.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {**os.environ, "DATABASE_URL": database_url, "DAARION_LLM_PROXY_CONFIG": str(path)}
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen([sys.executable, "-m", "apps.cli", "serve", "llm-proxy", "--port", str(port),
                          "--log-level", "warning"], env=env)
        for port in ports
    ]
    try:
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for base in bases:
            wait_for_http(base + "/readyz", timeout=90)
        yield bases
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def test_two_processes_admit_exactly_the_limit_out_of_200_concurrent_requests(two_proxies: list[str]) -> None:
    if time.time() % 60 > 45:  # keep the burst inside one rate window
        time.sleep(61 - time.time() % 60)
    agent = f"agent:burst-{int(time.time() * 1000)}"

    async def burst() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=200)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            return await asyncio.gather(*(
                client.post(two_proxies[i % 2] + "/internal/llm/proxy", json={
                    "model": "stub", "messages": [{"role": "user", "content": f"n{i}"}],
                    "metadata": {"agent_id": agent, "microdao_id": "microdao:burst"}})
                for i in range(200)
            ))

    responses = asyncio.run(burst())
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == LIMIT
    assert statuses.count(429) == 200 - LIMIT
    served_by = {i % 2 for i, r in enumerate(responses) if r.status_code == 200}
    assert served_by == {0, 1}
    for response in responses:
        if response.status_code == 429:
            assert 1 <= int(response.headers["retry-after"]) <= 60
            assert response.json()["error"]["type"] == "rate_limited"
