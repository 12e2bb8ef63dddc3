"""LedgerLookup: SetLookup and LedgerRepositoryLookup (on the real ledger) tell recorded ids alike."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from domain.ledger.application import UsageLedger
from domain.ledger.events import LedgerEntry, MemoryIndexed
from domain.ledger.ports import LedgerLookup
from infra.ledger.group_commit import PerRequestRecorder
from infra.ledger.repository_lookup import LedgerRepositoryLookup
from tests.contracts.support import BOTH
from tests.fakes.ledger import FakeRecorder, SetLookup


@dataclass
class Lookups:
    lookup: LedgerLookup
    record: Callable[[LedgerEntry], Awaitable[int]]


@pytest.fixture(params=BOTH, name="lookups")
def lookups_fixture(request: pytest.FixtureRequest) -> Lookups:
    if request.param == "fake":
        recorder = FakeRecorder()
        return Lookups(SetLookup(recorder.ids), recorder.record)
    ledger: UsageLedger = request.getfixturevalue("usage_ledger")
    return Lookups(LedgerRepositoryLookup(ledger), PerRequestRecorder(ledger).record)


def indexed() -> LedgerEntry:
    # A deterministic id, as the indexing worker derives it from its job.
    return LedgerEntry.of(MemoryIndexed, uuid.uuid5(uuid.NAMESPACE_URL, f"contract:{uuid.uuid4()}"),
                          memory_id="m", agent_id="agent:contract", microdao_id="microdao:contract", tier="mid",
                          chunks=1, embedding_model="model", dimensions=4)


async def test_only_the_recorded_ids_among_those_asked_about_come_back(lookups: Lookups) -> None:
    first, second, never = indexed(), indexed(), indexed()
    await lookups.record(first)
    await lookups.record(second)
    assert await lookups.lookup.recorded([first.id, never.id, second.id]) == {first.id, second.id}


async def test_asking_about_no_ids_or_unknown_ids_finds_nothing(lookups: Lookups) -> None:
    assert await lookups.lookup.recorded([]) == set()
    assert await lookups.lookup.recorded([uuid.uuid4(), uuid.uuid4()]) == set()
