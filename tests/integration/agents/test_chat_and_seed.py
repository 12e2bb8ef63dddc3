"""`daarion chat` and the runtime's demo seed find each agent's key by themselves (DAARION_API_KEY or the
local keys file that `daarion up` writes) and speak with it."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from apps.agent_runtime import cli
from apps.agent_runtime.seed import seed_memories
from apps.agent_runtime.settings import RuntimeSettings, SeedConversation, SeedSettings, ServicesSettings
from infra.agents.memory_client import MemoryClient
from infra.agents.service_http import ServiceEndpoint, ServiceHttp
from infra.identity.local_keys import LocalKeys, write_local_keys
from tests.fakes.agents import RecordingServices
from tests.integration.agents.conftest import SOFIA, TARAS, RuntimeStack
from tests.support import issue_key, serve_in_thread


@pytest.fixture()
def keys_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "keys.json"
    monkeypatch.setenv("DAARION_KEYS_FILE", str(path))
    monkeypatch.delenv("DAARION_API_KEY", raising=False)
    return path


def chat(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="daarion")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["chat", *argv])
    return int(args.handler(args))


def test_chat_speaks_with_the_agents_key_from_the_local_keys_file(
    runtime_stack: RuntimeStack, database_url: str, keys_file: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    key = issue_key(database_url, SOFIA.id, "microdao:7")
    write_local_keys(LocalKeys(None, {SOFIA.id: key}), keys_file)
    runtime_stack.services.calls.clear()

    code = chat(SOFIA.id, "hello there", "--url", runtime_stack.runtime)

    out = capsys.readouterr()
    assert code == 0, out.err
    assert "Sofia › (stub) You said: hello there" in out.out and key not in out.out + out.err
    assert runtime_stack.services.authorizations() == {f"Bearer {key}"}


def test_chat_prefers_daarion_api_key_and_prints_the_runtimes_refusal_of_another_agents_key(
    runtime_stack: RuntimeStack, database_url: str, keys_file: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_local_keys(LocalKeys(None, {SOFIA.id: issue_key(database_url, SOFIA.id, "microdao:7")}), keys_file)
    monkeypatch.setenv("DAARION_API_KEY", issue_key(database_url, TARAS.id, "microdao:7"))

    assert chat(SOFIA.id, "hello", "--url", runtime_stack.runtime) == 1
    assert "error: 403 identity_mismatch: this key belongs to 'agent:runtime-taras'" in capsys.readouterr().err


def test_chat_without_any_key_says_how_to_get_one(keys_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert chat(SOFIA.id, "hello", "--url", "http://127.0.0.1:9") == 2
    err = capsys.readouterr().err
    assert "no API key for agent:sofia" in err and "`daarion up`" in err and "DAARION_API_KEY" in err
    assert str(keys_file) in err


@pytest.fixture()
def stand_in() -> Iterator[tuple[RecordingServices, str]]:
    services = RecordingServices()
    with serve_in_thread(services) as url:
        yield services, url


def seed_config(url: str) -> RuntimeSettings:
    conversations = [SeedConversation(agent, "telegram:general", "member:olena", f"question {n}", f"answer {n}")
                     for agent in (SOFIA.id, TARAS.id) for n in range(2)]
    return RuntimeSettings([SOFIA, TARAS], ServicesSettings(memory=ServiceEndpoint(url, 5)),
                           SeedSettings(on_start=True, conversations=conversations))


async def test_the_seed_stores_each_agents_conversations_with_its_own_key_and_skips_an_agent_without_one(
    stand_in: tuple[RecordingServices, str], database_url: str, keys_file: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    services, url = stand_in
    key = issue_key(database_url, SOFIA.id, "microdao:7")
    write_local_keys(LocalKeys(None, {SOFIA.id: key}), keys_file)
    http = ServiceHttp()
    caplog.set_level(logging.INFO, logger="daarion.agent_runtime.seed")
    try:
        stored = await seed_memories(seed_config(url), MemoryClient(http, ServiceEndpoint(url, 5)), pause_s=0.01)
    finally:
        await http.aclose()

    assert stored == 2
    assert [(path, authorization) for _, path, authorization in services.calls] == [
        ("/internal/agent-memory/store", f"Bearer {key}")] * 2
    skipped = [r.getMessage() for r in caplog.records if TARAS.id in r.getMessage()]
    assert len(skipped) == 1 and "daarion up" in skipped[0] and all(r.levelno < logging.ERROR for r in caplog.records)
    assert key not in caplog.text


async def test_a_seed_key_that_memory_refuses_is_skipped_at_once_not_retried(
    stand_in: tuple[RecordingServices, str], database_url: str, keys_file: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    services, url = stand_in
    refused, accepted = issue_key(database_url, SOFIA.id, "microdao:7"), issue_key(database_url, TARAS.id, "microdao:7")
    services.refuse.add(refused)
    write_local_keys(LocalKeys(None, {SOFIA.id: refused, TARAS.id: accepted}), keys_file)
    http = ServiceHttp()
    try:
        stored = await seed_memories(seed_config(url), MemoryClient(http, ServiceEndpoint(url, 5)), pause_s=5.0)
    finally:
        await http.aclose()

    assert stored == 2
    assert [authorization for _, _, authorization in services.calls] == [f"Bearer {refused}"] + [f"Bearer {accepted}"] * 2
    assert [r.getMessage() for r in caplog.records if "refused" in r.getMessage()] == [
        f"seed: memory refused {SOFIA.id}'s key (identity_mismatch); its conversations are skipped"]
