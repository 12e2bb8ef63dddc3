"""A memory write whose ledger commit failed, retried by the client: the item was stored by the first try,
and the retry still puts exactly one MemoryStored in the ledger (PostgreSQL store, real ledger)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import msgspec
import pytest

from domain.kernel.errors import ServiceUnavailable
from domain.ledger.application import UsageLedger
from domain.ledger.events import LedgerEntry, MemoryStored
from domain.memory.commands import PostDocument, StoreMemory
from domain.memory.model import Scope
from domain.memory.service import MemoryPolicies, MemoryService
from infra.ledger.event_store import open_ledger
from infra.ledger.group_commit import GroupCommitRecorder
from infra.memory.pg_memory_store import PgMemoryStore
from infra.memory.pg_pool import open_memory_pool
from infra.platform.clock import SystemClock
from tests.fakes.memory import FakeEmbedder


class FailsOnce:
    """The ledger's writer, except that its first commit fails the way a database outage makes it fail."""

    def __init__(self, inner: GroupCommitRecorder) -> None:
        self._inner = inner
        self.failed = False

    async def record(self, entry: LedgerEntry) -> int:
        if not self.failed:
            self.failed = True
            raise ServiceUnavailable("the usage ledger could not commit (OperationalError)")
        return await self._inner.record(entry)


@dataclass
class Setup:
    ledger: UsageLedger
    recorder: GroupCommitRecorder
    store: PgMemoryStore
    embedder: FakeEmbedder

    def service(self) -> tuple[MemoryService, FailsOnce]:
        recorder = FailsOnce(self.recorder)
        return MemoryService(self.store, self.embedder, recorder, SystemClock(), MemoryPolicies()), recorder

    def stored_events(self, memory_id: str) -> list[MemoryStored]:
        found, position = [], 1
        while batch := self.ledger.recorder.select_notifications(start=position, limit=1000):
            events = [self.ledger.mapper.to_domain_event(n) for n in batch if n.topic.endswith("MemoryStored")]
            found += [e for e in events if isinstance(e, MemoryStored) and e.memory_id == memory_id]
            position = batch[-1].id + 1
        return found


@pytest.fixture(scope="module", name="setup")
async def setup_fixture(database_url: str) -> AsyncIterator[Setup]:
    ledger = await asyncio.to_thread(open_ledger, database_url)
    recorder = GroupCommitRecorder(ledger)
    pool = await open_memory_pool(database_url, 2)
    # A model of its own: the indexing jobs these writes enqueue are nobody else's to claim.
    yield Setup(ledger, recorder, PgMemoryStore(pool, 64), FakeEmbedder(f"test/retry-{uuid.uuid4().hex[:8]}"))
    await pool.close()
    await asyncio.to_thread(recorder.close)
    await asyncio.to_thread(ledger.close)


def fact(text: str) -> StoreMemory:
    return msgspec.convert({"kind": "fact", "content": {"text": text}}, StoreMemory)


async def test_a_store_retried_after_its_ledger_commit_failed_is_in_the_ledger_exactly_once(setup: Setup) -> None:
    service, recorder = setup.service()
    microdao = f"m-{uuid.uuid4().hex[:8]}"
    sofia = Scope(microdao, "sofia")
    with pytest.raises(ServiceUnavailable):
        await service.store(sofia, "req-1", fact("the office moves to Lviv in May"))
    assert recorder.failed

    retried = await service.store(sofia, "req-1", fact("the office moves to Lviv in May"))
    assert not retried.created, "the first try had stored the memory"
    [event] = setup.stored_events(retried.id)
    assert (event.request_id, event.microdao_id, event.tier, event.kind) == ("req-1", microdao, "mid", "fact")

    await service.store(sofia, "req-2", fact("the office moves to Lviv in May"))
    assert len(setup.stored_events(retried.id)) == 1, "a repeat of a recorded store adds nothing"


async def test_a_document_post_retried_after_its_ledger_commit_failed_is_in_the_ledger_exactly_once(
    setup: Setup,
) -> None:
    service, _ = setup.service()
    sofia = Scope(f"m-{uuid.uuid4().hex[:8]}", "sofia")

    def post(text: str) -> PostDocument:
        return PostDocument("Handbook", text=text, source_uri="kb://handbook")

    with pytest.raises(ServiceUnavailable):
        await service.put_document(sofia, "req-1", post("Meetings are on Mondays."))
    retried = await service.put_document(sofia, "req-1", post("Meetings are on Mondays."))
    assert retried.unchanged, "the first try had stored the document"
    assert len(setup.stored_events(retried.id)) == 1

    await service.put_document(sofia, "req-2", post("Meetings are on Fridays."))
    await service.put_document(sofia, "req-3", post("Meetings are on Fridays."))
    await service.put_document(sofia, "req-4", post("Meetings are on Mondays."))
    events = setup.stored_events(retried.id)
    assert [e.request_id for e in events] == ["req-1", "req-2", "req-4"], "each new version once, A-B-A included"
