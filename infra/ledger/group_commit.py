"""Durable ledger writes without one database round trip per request: group commit.

Callers await `record(entry)`; one writer thread commits everything that queued up while the previous
transaction ran, in one `save()`, then wakes every waiter. A caller therefore resumes only after its
event is committed (the durability contract behind every 2xx), yet N concurrent requests cost about
one transaction. `per_request` mode commits each entry in its own transaction (for comparison).

Both accept an entry whose id the ledger already holds as a no-op (domain.ledger.ports.UsageRecorder).
Such a repeat makes the batch's insert fail as a whole; `commit` then asks which ids exist and commits
the batch again without them, so a repeat never fails the other callers' entries.

A caller waits at most `wait_s` (5 s) for its commit, then hears ServiceUnavailable (a 503). With the
database down, eventsourcing retries an insert ten times, each waiting for a connection, so a commit
can take half a minute; the caller should not. Its entry stays queued and may still be committed once
the database is back, as after a connection lost during COMMIT: no 2xx goes out without its event, but
a 503 may have one.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Sequence

from eventsourcing.persistence import IntegrityError

from domain.kernel.errors import ServiceUnavailable
from domain.ledger.application import UsageLedger
from domain.ledger.events import LedgerEntry
from infra.ledger.repository_lookup import recorded_ids

log = logging.getLogger(__name__)

_CONFLICT_ATTEMPTS = 3  # a repeat committed by another writer between the lookup and the retry costs one more
WAIT_S = 5.0  # how long a caller waits for its entry's commit: rides out a database restart

_Waiter = tuple[LedgerEntry, asyncio.Future[int]]


class GroupCommitRecorder:
    def __init__(self, ledger: UsageLedger, max_batch: int = 1000, wait_s: float = WAIT_S) -> None:
        self._ledger = ledger
        self._max_batch = max_batch
        self._wait_s = wait_s
        self._pending: list[_Waiter] = []
        self._wakeup = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="ledger-group-commit", daemon=True)
        self._thread.start()

    async def record(self, entry: LedgerEntry) -> int:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        with self._wakeup:
            if self._closed:
                raise RuntimeError("the ledger writer is closed")
            self._pending.append((entry, future))
            self._wakeup.notify()
        deadline = loop.call_later(self._wait_s, _give_up, future, self._wait_s)  # cheaper than wait_for
        try:
            return await future
        finally:
            deadline.cancel()

    def close(self) -> None:
        with self._wakeup:
            self._closed = True
            self._wakeup.notify()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            with self._wakeup:
                while not self._pending and not self._closed:
                    self._wakeup.wait()
                if not self._pending:
                    return
                batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch:]
            self._commit(batch)

    def _commit(self, batch: Sequence[_Waiter]) -> None:
        try:
            positions = commit(self._ledger, [entry for entry, _ in batch])
        except Exception as exc:
            log.exception("ledger commit of %d entries failed", len(batch))
            _resolve(batch, None, ServiceUnavailable(f"the usage ledger could not commit ({type(exc).__name__})"))
            return
        _resolve(batch, positions, None)


def _give_up(future: asyncio.Future[int], wait_s: float) -> None:
    if not future.done():
        future.set_exception(ServiceUnavailable(f"the usage ledger did not commit within {wait_s:g} s"))


def _resolve(batch: Sequence[_Waiter], positions: Sequence[int] | None, error: Exception | None) -> None:
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[int], int]]] = {}
    for index, (_, future) in enumerate(batch):
        by_loop.setdefault(future.get_loop(), []).append((future, positions[index] if positions else 0))
    for loop, futures in by_loop.items():
        if not loop.is_closed():
            loop.call_soon_threadsafe(_settle_futures, futures, error)


def _settle_futures(futures: list[tuple[asyncio.Future[int], int]], error: Exception | None) -> None:
    for future, position in futures:
        if future.done():
            continue
        if error is None:
            future.set_result(position)
        else:
            future.set_exception(error)


class PerRequestRecorder:
    """One transaction per entry: the simple way, kept to measure group commit against."""

    def __init__(self, ledger: UsageLedger, wait_s: float = WAIT_S) -> None:
        self._ledger = ledger
        self._wait_s = wait_s

    async def record(self, entry: LedgerEntry) -> int:
        try:
            positions = await asyncio.wait_for(asyncio.to_thread(commit, self._ledger, [entry]), self._wait_s)
        except TimeoutError:
            raise ServiceUnavailable(f"the usage ledger did not commit within {self._wait_s:g} s") from None
        except Exception as exc:
            log.exception("ledger commit failed")
            raise ServiceUnavailable(f"the usage ledger could not commit ({type(exc).__name__})") from None
        return positions[0]

    def close(self) -> None:
        return None


def commit(ledger: UsageLedger, entries: Sequence[LedgerEntry]) -> list[int]:
    """Commits the entries in one transaction and returns a position per entry. An entry whose id the
    ledger holds, or an earlier entry of `entries` has, is not written again; its position is the
    ledger's latest, which is at or after its own (what a read-your-writes wait needs)."""
    first: dict[uuid.UUID, LedgerEntry] = {}
    for entry in entries:
        first.setdefault(entry.id, entry)
    # save() takes the pending events off the entries; a failed commit gives them back, so the entries stay
    # recordable (by a retry of the rest of the batch, or by a caller). An entry without any was committed.
    events = {entry_id: list(entry.pending_events) for entry_id, entry in first.items()}
    todo = [entry_id for entry_id in first if events[entry_id]]
    positions: dict[uuid.UUID, int] = {}
    for attempt in range(1, _CONFLICT_ATTEMPTS + 1):
        if not todo:
            break
        try:
            positions.update(zip(todo, ledger.record([first[entry_id] for entry_id in todo]), strict=True))
            break
        except Exception as exc:
            for entry_id in todo:
                first[entry_id].pending_events[:] = events[entry_id]
            retry = isinstance(exc, IntegrityError) and attempt < _CONFLICT_ATTEMPTS
            # Repeats come with derived ids (uuid5); random ones (uuid4) are asked about only if those explain nothing.
            present = (recorded_ids(ledger, [i for i in todo if i.version != 4]) or recorded_ids(ledger, todo)
                       if retry else set())
            if not present:
                raise
            log.info("%d of %d ledger entries were recorded before; committing the rest", len(present), len(todo))
            todo = [entry_id for entry_id in todo if entry_id not in present]
    if len(positions) < len(first):
        latest = ledger.max_position()
        positions.update((entry_id, latest) for entry_id in first if entry_id not in positions)
    return [positions[entry.id] for entry in entries]
