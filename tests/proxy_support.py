"""Fixtures for LLM proxy tests: fake upstreams and a real proxy served on 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from apps.llm_proxy.app import create_app
from apps.llm_proxy.settings import ProxySettings, validate
from domain.ledger.application import UsageLedger
from infra.ledger.event_store import open_ledger
from tests.fakes.llm_servers import FakeOllama, FakeOpenAI
from tests.support import bearer, issue_key, serve_in_thread

UPSTREAM_KEY = "sk-test-upstream-SECRET-0123456789"
_keys: dict[tuple[str, str | None, str | None], str] = {}


def key_of(agent: str = "agent:sofia", microdao: str | None = None) -> str:
    """A real API key of `agent` (registered in `microdao`, default: Sofia's microdao:7 or microdao:test) in
    the session's database; one per agent for the session."""
    return _session_key(agent, microdao or ("microdao:7" if agent == "agent:sofia" else "microdao:test"))


def operator_key() -> str:
    """An operator key (admin, usage:read, metrics:read) in the session's database."""
    return _session_key(None, None)


def _session_key(agent: str | None, microdao: str | None) -> str:
    cache_key = (os.environ["DATABASE_URL"], agent, microdao)
    if cache_key not in _keys:
        _keys[cache_key] = issue_key(os.environ["DATABASE_URL"], agent, microdao)
    return _keys[cache_key]


def auth(agent: str = "agent:sofia", microdao: str | None = None) -> dict[str, str]:
    return bearer(key_of(agent, microdao))


def auth_for(payload: Any) -> dict[str, str]:
    """The credential of the agent a request body names (body() below), so a test reads as before."""
    metadata = payload.get("metadata") if isinstance(payload, dict) else None
    if not isinstance(metadata, dict) or "agent_id" not in metadata:
        return auth()
    return auth(metadata["agent_id"], metadata.get("microdao_id"))


def proxy_config(openai_url: str, ollama_url: str, **overrides: Any) -> ProxySettings:
    openai = {"kind": "openai", "base_url": openai_url, "api_key_env": "TEST_UPSTREAM_KEY"}
    raw: dict[str, Any] = {
        "providers": {
            "stub": {"kind": "stub"},
            "openai": openai,
            "deepseek": {"kind": "deepseek", "base_url": openai_url, "api_key_env": "TEST_UPSTREAM_KEY"},
            "nokey": {"kind": "openai", "base_url": openai_url, "api_key_env": "TEST_KEY_THAT_IS_NOT_SET"},
            "ollama": {"kind": "ollama", "host": ollama_url},
            "minilm": {"kind": "minilm"},
            "strict": {**openai, "unsupported_params": "reject", "supported_params": ["logprobs"]},
            "compatible": {"kind": "openai_compatible", "base_url": openai_url, "api_key_env": "TEST_UPSTREAM_KEY"},
        },
        "embeddings": {
            "embed": {"targets": [{"provider": "openai", "model": "ok-embed"}]},
            "embed-fallback": {"targets": [{"provider": "openai", "model": "fail-500"},
                                           {"provider": "ollama", "model": "ok-embed-ollama"}]},
            "embed-rejected": {"targets": [{"provider": "openai", "model": "reject-400"}]},
            "embed-nokey": {"targets": [{"provider": "nokey", "model": "ok-embed"}]},
            "minilm": {"targets": [{"provider": "minilm", "model": "all-minilm-l6-v2"}]},
        },
        "models": {
            "gpt": {"targets": [{"provider": "openai", "model": "ok-gpt"}]},
            "fallback": {"targets": [{"provider": "openai", "model": "fail-500"},
                                     {"provider": "deepseek", "model": "ok-deepseek"}]},
            "fallback-429": {"targets": [{"provider": "openai", "model": "fail-429"},
                                         {"provider": "deepseek", "model": "ok-deepseek"}]},
            "rejected": {"targets": [{"provider": "openai", "model": "reject-400"},
                                     {"provider": "deepseek", "model": "ok-deepseek"}]},
            "all-fail": {"targets": [{"provider": "openai", "model": "fail-500"},
                                     {"provider": "deepseek", "model": "fail-429"}]},
            "timeout": {"targets": [{"provider": "openai", "model": "slow-3", "timeout_s": 0.3}]},
            "no-key": {"targets": [{"provider": "nokey", "model": "ok-nokey"},
                                   {"provider": "openai", "model": "ok-gpt"}]},
            "unpriced": {"targets": [{"provider": "openai", "model": "ok-unpriced"}]},
            "tools": {"targets": [{"provider": "openai", "model": "tool-gpt"}]},
            "ollama": {"targets": [{"provider": "ollama", "model": "llama-test"}]},
            "ollama-tools": {"targets": [{"provider": "ollama", "model": "tool-llama"}]},
            "break": {"targets": [{"provider": "openai", "model": "break-stream"}]},
            "drip": {"targets": [{"provider": "openai", "model": "drip-60"}]},
            "stub": {"targets": [{"provider": "stub", "model": "stub-1"}]},
            "strict": {"targets": [{"provider": "strict", "model": "ok-strict"}]},
            "compatible": {"targets": [{"provider": "compatible", "model": "ok-compatible"}]},
        },
        "prices": {
            "ok-gpt": {"input_per_1m": "2", "output_per_1m": "8"},
            "ok-deepseek": {"input_per_1m": "1", "output_per_1m": "2"},
            "ok-nokey": {"input_per_1m": "1", "output_per_1m": "1"},
            "break-stream": {"input_per_1m": "1", "output_per_1m": "1"},
            "drip-60": {"input_per_1m": "1", "output_per_1m": "1"},
            "stub-1": {"input_per_1m": "0", "output_per_1m": "0"},
            "llama-test": {"input_per_1m": "0", "output_per_1m": "0"},
            "ok-embed": {"input_per_1m": "0.02", "output_per_1m": "0"},
            "ok-embed-ollama": {"input_per_1m": "0", "output_per_1m": "0"},
        },
        "limits": {"default": {"requests_per_minute": 10000, "tokens_per_minute": 10000000},
                   "agents": {"agent:limited": {"requests_per_minute": 3, "tokens_per_minute": 10000000},
                              "agent:few-tokens": {"requests_per_minute": 100, "tokens_per_minute": 2000}}},
        "budgets": {"agents": {"agent:broke": "0.0000001"}, "microdaos": {"microdao:poor": "0.0000001"}},
    }
    raw.update(overrides)
    return validate(msgspec.convert(raw, ProxySettings, strict=False), Path("test-config"))


@pytest.fixture(scope="session")
def fake_openai() -> Iterator[tuple[FakeOpenAI, str]]:
    fake = FakeOpenAI(UPSTREAM_KEY)
    with serve_in_thread(fake) as base:
        yield fake, base + "/v1"


@pytest.fixture(scope="session")
def fake_ollama() -> Iterator[tuple[FakeOllama, str]]:
    fake = FakeOllama()
    with serve_in_thread(fake) as base:
        yield fake, base


@pytest.fixture(scope="session")
def proxy(database_url: str, fake_openai: tuple[FakeOpenAI, str], fake_ollama: tuple[FakeOllama, str]) -> Iterator[str]:
    os.environ["TEST_UPSTREAM_KEY"] = UPSTREAM_KEY
    app = create_app(proxy_config(fake_openai[1], fake_ollama[1]))
    with serve_in_thread(app) as base:
        yield base


@pytest.fixture(scope="session")
def ledger(database_url: str) -> Iterator[UsageLedger]:
    opened = open_ledger(database_url)
    yield opened
    opened.close()


def events_of(ledger: UsageLedger, request_id: str) -> list[Any]:
    found: list[Any] = []
    position = 1
    while True:
        batch = ledger.recorder.select_notifications(start=position, limit=1000)
        if not batch:
            return found
        for notification in batch:
            event = ledger.mapper.to_domain_event(notification)
            if getattr(event, "request_id", None) == request_id:
                found.append(event)
        position = batch[-1].id + 1


def body(agent: str = "agent:sofia", model: str = "gpt", text: str = "hello", **extra: Any) -> dict[str, Any]:
    metadata = {"agent_id": agent}
    if agent != "agent:sofia":
        metadata["microdao_id"] = extra.pop("microdao_id", "microdao:test")
    return {"model": model, "messages": [{"role": "user", "content": text}], "metadata": metadata, **extra}
