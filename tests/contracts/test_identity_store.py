"""IdentityStore: InMemoryIdentityStore and PgIdentityStore keep agents and keys, and report changes, alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.identity.keys import AgentRecord, KeyRecord, digest, new_key
from domain.identity.ports import IdentityStore
from domain.identity.scopes import AGENT_SCOPES, OPERATOR_SCOPES
from infra.identity.pg_identity_store import PgIdentityStore
from tests.contracts.support import BOTH, unique
from tests.fakes.identity import InMemoryIdentityStore

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


@pytest.fixture(params=BOTH, name="store")
def store_fixture(request: pytest.FixtureRequest) -> IdentityStore:
    if request.param == "fake":
        return InMemoryIdentityStore()
    pool: Any = request.getfixturevalue("pg_pool")
    return PgIdentityStore(pool)


def key_of(agent: AgentRecord | None, **fields: Any) -> tuple[KeyRecord, str]:
    key_id, key = new_key()
    record = KeyRecord(key_id, digest(key), agent.agent_id if agent else None, agent.microdao_id if agent else None,
                       AGENT_SCOPES if agent else OPERATOR_SCOPES, "test", created_at=NOW, **fields)
    return record, key


async def test_an_agent_is_registered_once_and_its_first_microdao_stays(store: IdentityStore) -> None:
    agent_id = unique("agent:c")
    first = await store.register_agent(AgentRecord(agent_id, "microdao:7", "Sofia"))
    again = await store.register_agent(AgentRecord(agent_id, "microdao:8"))
    assert first == again == AgentRecord(agent_id, "microdao:7", "Sofia")
    assert await store.agent(agent_id) == first
    assert agent_id in [agent.agent_id for agent in await store.agents()]


async def test_a_key_is_found_by_id_and_matches_only_its_own_secret(store: IdentityStore) -> None:
    agent = await store.register_agent(AgentRecord(unique("agent:c"), "microdao:7"))
    record, key = key_of(agent, monthly_budget_usd=None)
    await store.add_key(record)
    found = await store.key(record.key_id)
    assert found is not None and found.matches(key) and not found.matches(key[:-1] + "x")
    assert (found.agent_id, found.microdao_id, found.scopes) == (agent.agent_id, "microdao:7", AGENT_SCOPES)
    assert [k.key_id for k in await store.keys(agent.agent_id)] == [record.key_id]


async def test_revoking_keeps_the_first_revocation_time_and_unknown_keys_are_none(store: IdentityStore) -> None:
    record, _ = key_of(None)
    await store.add_key(record)
    first = await store.revoke_key(record.key_id, NOW)
    second = await store.revoke_key(record.key_id, NOW + timedelta(hours=1))
    assert first is not None and second is not None and first.revoked_at == second.revoked_at == NOW
    assert await store.revoke_key("0123456789abcdef", NOW) is None


async def test_expiring_a_key_only_ever_brings_its_end_closer(store: IdentityStore) -> None:
    record, _ = key_of(None, expires_at=NOW + timedelta(days=1))
    await store.add_key(record)
    sooner = await store.expire_key(record.key_id, NOW + timedelta(hours=1))
    later = await store.expire_key(record.key_id, NOW + timedelta(days=3))
    assert sooner is not None and later is not None
    assert sooner.expires_at == later.expires_at == NOW + timedelta(hours=1)


async def test_changes_since_a_position_include_every_later_change(store: IdentityStore) -> None:
    position, _, _ = await store.changes_since(0)
    agent = await store.register_agent(AgentRecord(unique("agent:c"), "microdao:7"))
    record, _ = key_of(agent)
    await store.add_key(record)
    moved, keys, agents = await store.changes_since(position)
    assert moved > position
    assert record.key_id in {k.key_id for k in keys} and agent.agent_id in {a.agent_id for a in agents}
    await store.revoke_key(record.key_id, NOW)
    _, keys, _ = await store.changes_since(moved)
    assert [k.revoked_at for k in keys if k.key_id == record.key_id] == [NOW]
    await store.disable_agent(agent.agent_id, NOW)
    _, _, agents = await store.changes_since(moved)
    assert [a.disabled_at for a in agents if a.agent_id == agent.agent_id] == [NOW]
