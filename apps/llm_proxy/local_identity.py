"""The identity a local install needs to work in one command: the configured agents registered, an admin key
and one key per agent in the local keys file (0600). `daarion up` calls it before starting the services."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apps.common.core import open_ledger_writer
from domain.identity.administration import IdentityAdmin
from domain.identity.keys import key_id_of
from domain.identity.ports import IdentityStore
from domain.identity.scopes import AGENT_SCOPES, OPERATOR_SCOPES, Scope
from infra.identity.local_keys import LocalKeys, read_local_keys, write_local_keys
from infra.identity.pg_identity_store import PgIdentityStore
from infra.platform.clock import SystemClock
from infra.platform.db import create_pool

ACTOR = "cli"
DELEGATE_SCOPES = frozenset({Scope.LLM_ON_BEHALF})


@dataclass(frozen=True)
class LocalAgent:
    agent_id: str
    microdao_id: str
    display_name: str | None = None


@asynccontextmanager
async def identity_admin(url: str, allow_unregistered_agents: bool = False) -> AsyncIterator[IdentityAdmin]:
    """An IdentityAdmin on the database at `url`, its audit entries written to the ledger (for the CLI)."""
    pool = await create_pool(url, max_size=2)
    try:
        async with open_ledger_writer(url, "per_request") as (_, recorder):
            yield IdentityAdmin(PgIdentityStore(pool), recorder, SystemClock(), allow_unregistered_agents)
    finally:
        await pool.close()


async def ensure_local_keys(url: str, agents: Sequence[LocalAgent], memory_delegate: bool = False) -> list[str]:
    """Registers `agents`, keeps every key of the keys file that still works and issues the missing ones;
    returns the lines to print about keys issued now (each key is shown this once). With `memory_delegate`
    (the memory service's config bills indexing to each agent through the proxy) the file also keeps an
    operator key with only llm:on_behalf for it; it is the memory service's, so it is not printed."""
    keys = read_local_keys()
    issued: list[str] = []
    async with identity_admin(url) as admin:
        store = admin.store
        for agent in agents:
            await admin.register_agent(agent.agent_id, agent.microdao_id, ACTOR, agent.display_name)
        if not await _still_valid(store, keys.admin, None):
            keys.admin = (await admin.issue_key(None, OPERATOR_SCOPES, ACTOR, name="local admin")).key
            issued.append(f"  admin         {keys.admin}")
        for agent in agents:
            if not await _still_valid(store, keys.agents.get(agent.agent_id), agent.agent_id):
                key = (await admin.issue_key(agent.agent_id, AGENT_SCOPES, ACTOR, name="local")).key
                keys.agents[agent.agent_id] = key
                issued.append(f"  {agent.agent_id:<13} {key}")
        renew_delegate = memory_delegate and not await _still_valid(store, keys.memory_delegate, None)
        if renew_delegate:
            keys.memory_delegate = (await admin.issue_key(None, DELEGATE_SCOPES, ACTOR, name="memory indexing")).key
    if issued or renew_delegate:
        write_local_keys(LocalKeys(keys.admin, dict(keys.agents), keys.memory_delegate))
    return issued


async def _still_valid(store: IdentityStore, key: str | None, agent_id: str | None) -> bool:
    """A key from the file works against this database (files outlive databases: a new data dir or
    DATABASE_URL makes them strangers)."""
    key_id = key_id_of(key) if key else None
    if key is None or key_id is None:
        return False
    record = await store.key(key_id)
    return (record is not None and record.matches(key) and record.is_valid_at(datetime.now(UTC))
            and record.agent_id == agent_id)


def memory_delegate_env() -> str | None:
    """The variable the memory service reads a delegating key from, when its config embeds through the proxy
    on each agent's behalf (the shipped config embeds in-process: then None, and no such key is made)."""
    from apps.memory.settings import load_memory_settings

    embedder = load_memory_settings().embedder
    return embedder.api_key_env if embedder.provider == "proxy" and embedder.on_behalf else None


def configured_agents(settings: Any) -> list[LocalAgent]:
    return [LocalAgent(profile.id, profile.microdao_id, profile.display_name) for profile in settings.agents]
