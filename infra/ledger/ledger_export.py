"""The ledger exported to a broker, every event exactly once, in batches.

One batch, in ONE database transaction: claim the tracked position (infra/ledger/tracking.py, so one
exporter works at a time however many run), read the events after it, publish them and wait for the
broker's acknowledgement of every one, then advance the position and commit. A crash before the commit
leaves the position where it was, and the next run publishes the same events again under the same
message ids, which the broker acknowledges as duplicates instead of storing twice
(infra/ledger/jetstream_publisher.py); a crash after it has nothing left to repeat. Nothing is lost
either: the position moves only past acknowledged events.
"""

from __future__ import annotations

import asyncio
import logging

from domain.ledger.application import UsageLedger
from domain.ledger.export import exported
from domain.ledger.ports import EventPublisher
from infra.ledger import tracking
from infra.ledger.usage_projection import view_datastore

log = logging.getLogger(__name__)


class LedgerExporter:
    def __init__(self, ledger: UsageLedger, publisher: EventPublisher, name: str, batch_size: int = 500) -> None:
        """`name`: the tracked position's (one per destination, e.g. `nats:daarion-ledger`)."""
        self._ledger = ledger
        self._publisher = publisher
        self._datastore = view_datastore(ledger.env)
        self.name = name
        self.batch_size = batch_size
        self.repeats = 0  # events the broker already held when published: each is a crash survived

    def close(self) -> None:
        self._datastore.close()

    async def export_batch(self) -> int:
        """Exports the next batch; returns how many events it published (0: caught up, or busy elsewhere)."""
        return await asyncio.to_thread(self._export_batch, asyncio.get_running_loop())

    async def position(self) -> int:
        return await asyncio.to_thread(self._position)

    def _export_batch(self, loop: asyncio.AbstractEventLoop) -> int:
        # A thread of its own holds the transaction (eventsourcing's driver is synchronous) while the loop
        # publishes; the lock on the tracking row lasts as long as one batch's acknowledgements.
        with self._datastore.transaction(commit=True) as curs:
            position = tracking.claim(curs, self.name)
            if position is None:
                return 0
            notifications = self._ledger.recorder.select_notifications(start=position + 1, limit=self.batch_size)
            if not notifications:
                return 0
            events = [exported(self._ledger.mapper.to_domain_event(n), n.id) for n in notifications]
            repeats = asyncio.run_coroutine_threadsafe(self._publisher.publish(events), loop).result()
            tracking.advance(curs, self.name, notifications[-1].id)
        if repeats:
            self.repeats += repeats
            log.info("%d of %d events were already in the stream (published before a crash); not stored twice",
                     repeats, len(events))
        return len(events)

    def _position(self) -> int:
        with self._datastore.transaction(commit=False) as curs:
            return tracking.position_of(curs, self.name)
