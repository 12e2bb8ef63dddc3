"""Internal endpoints behind DAARION_INTERNAL_TOKEN; the per-request ledger mode keeps the same contract."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest

from apps.llm_proxy.app import create_app
from domain.ledger.events import LlmCallCompleted
from infra.platform.settings import LedgerSettings
from tests.fakes.llm_servers import FakeOllama, FakeOpenAI
from tests.proxy_support import UPSTREAM_KEY, body, events_of, proxy_config
from tests.support import serve_in_thread

TOKEN = "internal-test-token-123"


@pytest.fixture(scope="module")
def guarded_proxy(
    database_url: str, fake_openai: tuple[FakeOpenAI, str], fake_ollama: tuple[FakeOllama, str]
) -> Iterator[str]:
    config = proxy_config(fake_openai[1], fake_ollama[1])
    config = msgspec.structs.replace(config, ledger=LedgerSettings(mode="per_request"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAARION_INTERNAL_TOKEN", TOKEN)
        patch.setenv("TEST_UPSTREAM_KEY", UPSTREAM_KEY)
        with serve_in_thread(create_app(config)) as base:
            yield base


def test_internal_endpoints_refuse_calls_without_the_internal_token(guarded_proxy: str) -> None:
    for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": TOKEN}):
        response = httpx.post(guarded_proxy + "/internal/llm/proxy", json=body(), headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["type"] == "unauthenticated"
        assert TOKEN not in response.text
    assert httpx.get(guarded_proxy + "/internal/usage").status_code == 401


def test_the_right_token_passes_and_health_stays_open(guarded_proxy: str) -> None:
    response = httpx.post(guarded_proxy + "/internal/llm/proxy", json=body(),
                          headers={"authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert httpx.get(guarded_proxy + "/healthz").status_code == 200


def test_per_request_ledger_mode_commits_before_the_response(guarded_proxy: str, ledger: Any) -> None:
    response = httpx.post(guarded_proxy + "/internal/llm/proxy", json=body(model="gpt"),
                          headers={"authorization": f"Bearer {TOKEN}"})
    [event] = events_of(ledger, response.headers["x-request-id"])
    assert isinstance(event, LlmCallCompleted)
