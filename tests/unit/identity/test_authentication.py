"""Which principal a presented key stands for: the index, and the copy of it a process keeps current."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.identity.authentication import KeyIndex
from domain.identity.keys import AgentRecord, KeyRecord, digest, new_key
from domain.identity.scopes import AGENT_SCOPES
from domain.kernel.errors import ServiceUnavailable, Unauthenticated, UnknownAgent
from infra.identity.synced_index import SyncedKeyIndex
from tests.fakes.clock import FakeClock
from tests.fakes.identity import InMemoryIdentityStore

CLOCK = FakeClock()
SOFIA = AgentRecord("agent:sofia", "microdao:7")


def sofia_key(**fields: object) -> tuple[KeyRecord, str]:
    key_id, key = new_key()
    return KeyRecord(key_id, digest(key), "agent:sofia", "microdao:7", AGENT_SCOPES, **fields), key  # type: ignore[arg-type]


def index_with(*records: KeyRecord, agents: tuple[AgentRecord, ...] = (SOFIA,)) -> KeyIndex:
    index = KeyIndex()
    index.apply(records, agents)
    return index


def test_a_valid_key_stands_for_its_agent_and_scopes() -> None:
    record, key = sofia_key()
    principal = index_with(record).authenticate(key, CLOCK.now())
    assert (principal.key_id, principal.agent_id, principal.microdao_id) == (record.key_id, "agent:sofia", "microdao:7")


@pytest.mark.parametrize("presented", [None, "", "sk-daarion-sofia-dev", "dk_0123456789abcdef_" + "A" * 43])
def test_no_key_a_malformed_key_or_an_unknown_key_is_unauthenticated(presented: str | None) -> None:
    with pytest.raises(Unauthenticated):
        index_with(sofia_key()[0]).authenticate(presented, CLOCK.now())


def test_the_right_id_with_the_wrong_secret_is_unauthenticated() -> None:
    record, key = sofia_key()
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    with pytest.raises(Unauthenticated, match="invalid"):
        index_with(record).authenticate(forged, CLOCK.now())


def test_revoked_and_expired_keys_are_unauthenticated() -> None:
    revoked, revoked_key = sofia_key(revoked_at=CLOCK.now())
    expired, expired_key = sofia_key(expires_at=CLOCK.now() - timedelta(seconds=1))
    index = index_with(revoked, expired)
    with pytest.raises(Unauthenticated, match="revoked"):
        index.authenticate(revoked_key, CLOCK.now())
    with pytest.raises(Unauthenticated, match="expired"):
        index.authenticate(expired_key, CLOCK.now())


def test_the_key_of_a_disabled_agent_is_refused_as_an_unknown_agent() -> None:
    record, key = sofia_key()
    with pytest.raises(UnknownAgent):
        index_with(record, agents=(AgentRecord("agent:sofia", "microdao:7", disabled_at=CLOCK.now()),)).authenticate(
            key, CLOCK.now())


async def test_the_synced_copy_learns_of_a_revocation_at_its_next_refresh() -> None:
    store = InMemoryIdentityStore()
    await store.register_agent(SOFIA)
    record, key = sofia_key()
    await store.add_key(record)
    synced = SyncedKeyIndex(store, CLOCK)
    await synced.refresh()
    assert (await synced.authenticate(key)).agent_id == "agent:sofia"
    await store.revoke_key(record.key_id, CLOCK.now())
    await synced.refresh()
    with pytest.raises(Unauthenticated, match="revoked"):
        await synced.authenticate(key)


async def test_a_key_issued_after_the_last_refresh_is_looked_up_at_once() -> None:
    store = InMemoryIdentityStore()
    synced = SyncedKeyIndex(store, CLOCK)
    await synced.refresh()
    await store.register_agent(SOFIA)
    record, key = sofia_key()
    await store.add_key(record)
    assert (await synced.authenticate(key)).key_id == record.key_id


async def test_a_copy_that_cannot_refresh_for_too_long_refuses_rather_than_trusting_old_keys() -> None:
    store = InMemoryIdentityStore()
    await store.register_agent(SOFIA)
    record, key = sofia_key()
    await store.add_key(record)
    synced = SyncedKeyIndex(store, CLOCK, max_staleness_s=0.0)
    await synced.refresh()
    with pytest.raises(ServiceUnavailable):
        await synced.authenticate(key)
