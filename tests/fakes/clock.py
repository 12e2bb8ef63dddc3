"""The kernel Clock's twin: time moves only when a test says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FakeClock:
    """Wall time stands still until `advance`; each monotonic reading moves on by `tick` seconds, so a
    measured latency is positive without a test waiting for it."""

    def __init__(self, now: datetime | None = None, tick: float = 0.001) -> None:
        self.at = now or datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
        self.tick = tick
        self._monotonic = 100.0

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        self._monotonic += self.tick
        return self._monotonic

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)
        self._monotonic += seconds
