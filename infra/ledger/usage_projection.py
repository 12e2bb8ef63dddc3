"""The usage projection runner: ledger events -> usage_daily, exactly once, in batches.

Each batch reads the events after the tracked position (infra/ledger/tracking.py: several processes may
run projectors, exactly one advances at a time), folds them (domain.ledger.projections) and, in ONE
transaction, adds the counters and advances the position — so a crash can neither lose nor double count.

Events are read through the ledger's public recorder API; the tracking row and the view are written on
the projector's own connections, opened with the ledger's database settings (its environment).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping

from eventsourcing.postgres import PostgresDatastore

from domain.ledger.application import UsageLedger
from domain.ledger.projections import fold_usage
from infra.ledger import tracking

log = logging.getLogger(__name__)

NAME = "usage_daily"

_UPSERT = """
INSERT INTO usage_daily AS u (day, kind, agent_id, microdao_id, subject, provider, physical_model, calls,
    failures, cancelled, prompt_tokens, completion_tokens, cost_usd, unpriced_calls, latency_ms_sum, bytes)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (day, kind, agent_id, microdao_id, subject, provider, physical_model) DO UPDATE SET
    calls = u.calls + EXCLUDED.calls, failures = u.failures + EXCLUDED.failures,
    cancelled = u.cancelled + EXCLUDED.cancelled, prompt_tokens = u.prompt_tokens + EXCLUDED.prompt_tokens,
    completion_tokens = u.completion_tokens + EXCLUDED.completion_tokens,
    cost_usd = u.cost_usd + EXCLUDED.cost_usd, unpriced_calls = u.unpriced_calls + EXCLUDED.unpriced_calls,
    latency_ms_sum = u.latency_ms_sum + EXCLUDED.latency_ms_sum, bytes = u.bytes + EXCLUDED.bytes
"""


def view_datastore(env: Mapping[str, str], pool_size: int = 1) -> PostgresDatastore:
    """Connections to the database an eventsourcing environment names (eventsourcing.postgres's keys):
    `pool_size` kept open, two more while the background projector and readers waiting for their own
    writes work at once."""
    return PostgresDatastore(
        dbname=env.get("POSTGRES_DBNAME") or "postgres", host=env.get("POSTGRES_HOST") or "localhost",
        port=env.get("POSTGRES_PORT") or "5432", user=env.get("POSTGRES_USER") or "postgres",
        password=env.get("POSTGRES_PASSWORD") or "",
        connect_timeout=float(env.get("POSTGRES_CONNECT_TIMEOUT") or 10), pool_size=pool_size, max_overflow=2,
    )


class UsageProjector:
    def __init__(self, ledger: UsageLedger, batch_size: int = 2000) -> None:
        self._ledger = ledger
        # The ledger's environment resolves per-application keys (USAGELEDGER_POSTGRES_HOST ...) too.
        self._datastore = view_datastore(ledger.env)
        self.batch_size = batch_size

    def close(self) -> None:
        """Closes the projector's connections (the ledger's stay open)."""
        self._datastore.close()

    def project_batch(self) -> int:
        """Projects the next batch; returns how many events it consumed (0: caught up or busy elsewhere)."""
        with self._datastore.transaction(commit=True) as curs:
            position = tracking.claim(curs, NAME)
            if position is None:
                return 0
            notifications = self._ledger.recorder.select_notifications(
                start=position + 1, limit=self.batch_size
            )
            if not notifications:
                return 0
            events = [self._ledger.mapper.to_domain_event(n) for n in notifications]
            rows = [
                (key.day, key.kind, key.agent_id, key.microdao_id, key.subject, key.provider, key.physical_model,
                 c.calls, c.failures, c.cancelled, c.prompt_tokens, c.completion_tokens, c.cost_usd,
                 c.unpriced_calls, c.latency_ms_sum, c.bytes)
                for key, c in fold_usage(events).items()
            ]
            if rows:
                curs.executemany(_UPSERT, rows)
            tracking.advance(curs, NAME, notifications[-1].id)
            return len(notifications)

    def catch_up(self) -> None:
        while self.project_batch():
            pass

    def position(self) -> int:
        with self._datastore.transaction(commit=False) as curs:
            return tracking.position_of(curs, NAME)

    def wait_for(self, position: int, timeout: float = 5.0) -> bool:
        """Read-your-writes: waits (projecting if no one else is) until `position` is projected."""
        deadline = time.monotonic() + timeout
        while self.position() < position:
            if time.monotonic() > deadline:
                return False
            if not self.project_batch():
                time.sleep(0.02)
        return True

    def rebuild(self) -> None:
        """Drops the view and replays the whole ledger; totals come out identical."""
        with self._datastore.transaction(commit=True) as curs:
            curs.execute("LOCK TABLE usage_projection_tracking IN EXCLUSIVE MODE")
            curs.execute("DELETE FROM usage_daily")
            tracking.advance(curs, NAME, 0)
        self.catch_up()


class ProjectorThread:
    """Keeps the projection current in the background of a service process."""

    def __init__(self, projector: UsageProjector, interval_s: float = 0.25) -> None:
        self._projector = projector
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="usage-projector", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                consumed = self._projector.project_batch()
            except Exception:
                log.exception("usage projection batch failed; retrying")
                consumed = 0
                self._stop.wait(1.0)
            if consumed < self._projector.batch_size:
                # A pause between partial batches lets events accumulate: one transaction then
                # projects hundreds of them instead of one each, which is most of its cost.
                # Readers that need the latest figures call UsageProjector.wait_for.
                self._stop.wait(self._interval_s)
