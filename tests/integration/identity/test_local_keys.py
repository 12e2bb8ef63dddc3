"""The first `daarion up` leaves an admin key and one key per configured agent in a 0600 file; later runs keep
the keys that still work and replace only those that do not."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from apps.llm_proxy.local_identity import LocalAgent, ensure_local_keys, identity_admin, memory_delegate_env
from domain.identity.keys import key_id_of
from domain.identity.scopes import Scope
from infra.identity.local_keys import agent_key, read_local_keys

AGENTS = [LocalAgent("agent:sofia", "microdao:7", "Sofia"), LocalAgent("agent:local-b", "microdao:local")]


@pytest.fixture
def keys_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "daarion" / "keys.json"
    monkeypatch.setenv("DAARION_KEYS_FILE", str(path))
    monkeypatch.delenv("DAARION_API_KEY", raising=False)
    return path


async def test_the_first_run_writes_an_admin_key_and_one_key_per_agent_readable_only_by_its_owner(
    database_url: str, keys_path: Path,
) -> None:
    printed = await ensure_local_keys(database_url, AGENTS)
    keys = read_local_keys()
    assert stat.S_IMODE(keys_path.stat().st_mode) == 0o600
    assert keys.admin and set(keys.agents) == {"agent:sofia", "agent:local-b"}
    assert len(printed) == 3 and all(key in "\n".join(printed) for key in [keys.admin, *keys.agents.values()])
    assert agent_key("agent:sofia") == keys.agents["agent:sofia"]
    async with identity_admin(database_url) as admin:
        agent = await admin.store.agent("agent:local-b")
        assert agent is not None and agent.microdao_id == "microdao:local"


async def test_a_second_run_keeps_working_keys_and_replaces_a_revoked_one(database_url: str, keys_path: Path) -> None:
    await ensure_local_keys(database_url, AGENTS)
    before = read_local_keys()
    assert await ensure_local_keys(database_url, AGENTS) == []
    revoked: Any = key_id_of(before.agents["agent:local-b"])
    async with identity_admin(database_url) as admin:
        await admin.revoke_key(revoked, "test")
    printed = await ensure_local_keys(database_url, AGENTS)
    after = read_local_keys()
    assert len(printed) == 1 and "agent:local-b" in printed[0]
    assert after.admin == before.admin and after.agents["agent:sofia"] == before.agents["agent:sofia"]
    assert after.agents["agent:local-b"] != before.agents["agent:local-b"]


async def test_a_memory_indexing_key_acting_for_agents_is_made_only_when_the_memory_config_asks_for_it(
    database_url: str, keys_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DAARION_MEMORY_CONFIG", raising=False)
    assert memory_delegate_env() is None  # the shipped config embeds in-process
    await ensure_local_keys(database_url, AGENTS)
    assert read_local_keys().memory_delegate is None
    config = keys_path.parent / "memory.yaml"
    config.write_text("embedder: {provider: proxy, model: minilm, api_key_env: MY_MEMORY_KEY, on_behalf: true}\n")
    monkeypatch.setenv("DAARION_MEMORY_CONFIG", str(config))
    assert memory_delegate_env() == "MY_MEMORY_KEY"
    printed = await ensure_local_keys(database_url, AGENTS, memory_delegate=True)
    delegate = read_local_keys().memory_delegate
    assert delegate is not None and printed == [] and delegate not in "\n".join(printed)
    async with identity_admin(database_url) as admin:
        record = await admin.store.key(key_id_of(delegate) or "")
    assert record is not None and (record.agent_id, record.scopes) == (None, {Scope.LLM_ON_BEHALF})
    await ensure_local_keys(database_url, AGENTS, memory_delegate=True)
    assert read_local_keys().memory_delegate == delegate  # kept while it works


def test_an_explicit_key_in_the_environment_wins_over_the_file(keys_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAARION_API_KEY", "dk_x")
    assert agent_key("agent:sofia") == "dk_x"
