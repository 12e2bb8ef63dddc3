"""A caller of the ledger's writers waits a bounded time for its commit: with the database down the commit
can take half a minute (eventsourcing's retries), and the caller hears 503 after `wait_s` instead."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

from domain.kernel.errors import ServiceUnavailable
from domain.ledger.events import MemoryForgotten, new_entry
from infra.ledger.group_commit import GroupCommitRecorder, PerRequestRecorder


class StuckLedger:
    """A ledger whose commits hang until `release` is set, as with the database down."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.recorded: list[Any] = []

    def record(self, entries: Sequence[Any]) -> list[int]:
        self.release.wait(timeout=30)
        self.recorded.extend(entries)
        return list(range(len(self.recorded) - len(entries) + 1, len(self.recorded) + 1))

    def max_position(self) -> int:
        return len(self.recorded)


def _entry() -> Any:
    return new_entry(MemoryForgotten, request_id="req_1", agent_id="agent:sofia", microdao_id="microdao:7",
                     memory_ids=["mem_1"])


@pytest.mark.parametrize("writer", [GroupCommitRecorder, PerRequestRecorder])
async def test_a_commit_that_hangs_is_a_503_after_the_wait_and_the_entry_is_still_written_later(writer: Any) -> None:
    ledger = StuckLedger()
    recorder = writer(ledger, wait_s=0.2)
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable, match="did not commit within 0.2 s"):
        await recorder.record(_entry())
    assert time.monotonic() - started < 2
    ledger.release.set()
    await asyncio.to_thread(recorder.close)
    for _ in range(100):
        if ledger.recorded:
            break
        await asyncio.sleep(0.01)
    assert len(ledger.recorded) == 1


async def test_a_commit_within_the_wait_answers_with_its_position() -> None:
    ledger = StuckLedger()
    ledger.release.set()
    recorder = GroupCommitRecorder(ledger, wait_s=5)  # type: ignore[arg-type]
    assert await recorder.record(_entry()) == 1
    recorder.close()
