"""The last thing each target did: answered, or failed and how. /v1/models reads it to say what can answer now.

Nothing probes the targets: every real call is the check, so the result costs nothing and is as fresh as the
traffic. A target no call has tried yet is unknown, which counts as answerable (its credentials permitting).
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from domain.kernel.clock import Clock


class LastResult(msgspec.Struct, frozen=True):
    ok: bool
    error: str | None  # the ProviderError kind when it failed
    at: datetime


class TargetHealth:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._last: dict[tuple[str, str], LastResult] = {}

    def answered(self, provider: str, model: str) -> None:
        self._last[provider, model] = LastResult(True, None, self._clock.now())

    def failed(self, provider: str, model: str, kind: str) -> None:
        # A request the target refused as malformed says nothing against the target: it did answer.
        self._last[provider, model] = LastResult(kind == "rejected", None if kind == "rejected" else kind,
                                                 self._clock.now())

    def last(self, provider: str, model: str) -> LastResult | None:
        return self._last.get((provider, model))
