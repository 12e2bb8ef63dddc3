"""IdempotencyStore: FakeIdempotencyStore and PgIdempotencyStore run a keyed call once and replay it alike.

A lease (or retention) of 0 seconds is over as soon as any time passes: expiry is tested without waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from domain.kernel.errors import Conflict
from domain.tools.model import ToolError, ToolOutcome
from domain.tools.ports import IdempotencyStore
from infra.tools.pg_idempotency_store import PgIdempotencyStore
from tests.contracts.support import BOTH, unique
from tests.fakes.clock import FakeClock
from tests.fakes.tools import FakeIdempotencyStore

MOMENT = 0.01
OUTCOME = ToolOutcome(True, 12.5, result={"id": "t1", "tags": ["a", "b"]})


@dataclass
class Keys:
    build: Callable[[float], IdempotencyStore]  # the store, keeping finished keys for that many seconds
    wait: Callable[[float], Awaitable[None]]
    agent: str
    microdao: str

    @property
    def store(self) -> IdempotencyStore:
        return self.build(24 * 3600)


@pytest.fixture(params=BOTH, name="keys")
def keys_fixture(request: pytest.FixtureRequest) -> Keys:
    agent, microdao = unique("agent:contract"), unique("microdao:contract")
    if request.param == "fake":
        clock = FakeClock(datetime.now(UTC))

        async def advance(seconds: float) -> None:
            clock.advance(seconds)

        return Keys(lambda retention_s: FakeIdempotencyStore(clock, retention_s), advance, agent, microdao)
    pool = request.getfixturevalue("pg_pool")
    return Keys(lambda retention_s: PgIdempotencyStore(pool, retention_s), asyncio.sleep, agent, microdao)


async def test_the_first_claim_of_a_key_may_run_the_call(keys: Keys) -> None:
    assert await keys.store.claim(keys.agent, keys.microdao, "k", "task.create", "fp", 30) is None


async def test_a_key_whose_call_is_still_running_is_a_conflict(keys: Keys) -> None:
    store = keys.store
    await store.claim(keys.agent, keys.microdao, "k", "task.create", "fp", 30)
    with pytest.raises(Conflict):
        await store.claim(keys.agent, keys.microdao, "k", "task.create", "fp", 30)


async def test_a_finished_key_replays_the_first_outcome(keys: Keys) -> None:
    store = keys.store
    await store.claim(keys.agent, keys.microdao, "k", "task.create", "fp", 30)
    await store.complete(keys.agent, keys.microdao, "k", OUTCOME)
    assert await store.claim(keys.agent, keys.microdao, "k", "task.create", "fp", 30) == OUTCOME
    failed = ToolOutcome(False, 3.0, error=ToolError("upstream_error", "boom", 500))
    await store.claim(keys.agent, keys.microdao, "k2", "task.create", "fp", 30)
    await store.complete(keys.agent, keys.microdao, "k2", failed)
    assert await store.claim(keys.agent, keys.microdao, "k2", "task.create", "fp", 30) == failed


@pytest.mark.parametrize("tool_id, fingerprint", [("task.create", "other-arguments"), ("tasks.list", "fp")])
async def test_a_key_claimed_twice_for_another_call_is_a_conflict(keys: Keys, tool_id: str, fingerprint: str) -> None:
    store = keys.store
    await store.claim(keys.agent, keys.microdao, "running", "task.create", "fp", 30)
    with pytest.raises(Conflict):
        await store.claim(keys.agent, keys.microdao, "running", tool_id, fingerprint, 30)
    await store.claim(keys.agent, keys.microdao, "done", "task.create", "fp", 30)
    await store.complete(keys.agent, keys.microdao, "done", OUTCOME)
    with pytest.raises(Conflict):
        await store.claim(keys.agent, keys.microdao, "done", tool_id, fingerprint, 30)


async def test_keys_belong_to_one_agent(keys: Keys) -> None:
    store = keys.store
    await store.claim(keys.agent, keys.microdao, "k", "task.create", "fp", 30)
    assert await store.claim(unique("agent:other"), keys.microdao, "k", "task.create", "fp", 30) is None


async def test_a_released_key_may_be_claimed_again_even_for_another_call(keys: Keys) -> None:
    store = keys.store
    await store.claim(keys.agent, keys.microdao, "k", "task.create", "fp", 30)
    await store.release(keys.agent, keys.microdao, "k")
    assert await store.claim(keys.agent, keys.microdao, "k", "tasks.list", "other", 30) is None


async def test_releasing_a_finished_key_keeps_its_outcome(keys: Keys) -> None:
    store = keys.store
    await store.claim(keys.agent, keys.microdao, "k", "task.create", "fp", 30)
    await store.complete(keys.agent, keys.microdao, "k", OUTCOME)
    await store.release(keys.agent, keys.microdao, "k")
    assert await store.claim(keys.agent, keys.microdao, "k", "task.create", "fp", 30) == OUTCOME


async def test_a_claim_whose_holder_died_is_taken_over_once_its_lease_passed(keys: Keys) -> None:
    store = keys.store
    await store.claim(keys.agent, keys.microdao, "k", "task.create", "fp", 0)
    await keys.wait(MOMENT)
    assert await store.claim(keys.agent, keys.microdao, "k", "task.create", "fp", 30) is None
    with pytest.raises(Conflict):
        await store.claim(keys.agent, keys.microdao, "k", "task.create", "fp", 30)


async def test_a_finished_key_is_forgotten_after_its_retention(keys: Keys) -> None:
    store = keys.build(0)
    await store.claim(keys.agent, keys.microdao, "k", "task.create", "fp", 30)
    await store.complete(keys.agent, keys.microdao, "k", OUTCOME)
    await keys.wait(MOMENT)
    assert await store.claim(keys.agent, keys.microdao, "k", "tasks.list", "new", 30) is None
