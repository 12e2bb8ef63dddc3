"""The per-request ledger mode keeps the same contract as group commit, behind the same credentials."""

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
from tests.proxy_support import UPSTREAM_KEY, auth, body, events_of, key_of, proxy_config
from tests.support import serve_in_thread


@pytest.fixture(scope="module")
def per_request_proxy(
    database_url: str, fake_openai: tuple[FakeOpenAI, str], fake_ollama: tuple[FakeOllama, str]
) -> Iterator[str]:
    config = proxy_config(fake_openai[1], fake_ollama[1])
    config = msgspec.structs.replace(config, ledger=LedgerSettings(mode="per_request"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TEST_UPSTREAM_KEY", UPSTREAM_KEY)
        with serve_in_thread(create_app(config)) as base:
            yield base


def test_calls_without_a_valid_key_are_refused_and_the_key_never_echoed(per_request_proxy: str) -> None:
    key = key_of()
    for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": key}, {"authorization": f"Basic {key}"},
                    {"authorization": f"Bearer {key[:-1]}x"}):
        response = httpx.post(per_request_proxy + "/internal/llm/proxy", json=body(), headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["type"] == "unauthenticated"
        assert key not in response.text and key[20:] not in response.text
    assert httpx.get(per_request_proxy + "/healthz").status_code == 200


def test_per_request_ledger_mode_commits_before_the_response(per_request_proxy: str, ledger: Any) -> None:
    response = httpx.post(per_request_proxy + "/internal/llm/proxy", json=body(model="gpt"), headers=auth())
    [event] = events_of(ledger, response.headers["x-request-id"])
    assert isinstance(event, LlmCallCompleted)
