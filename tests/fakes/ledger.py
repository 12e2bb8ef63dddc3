"""Twins of the ledger's ports: a recorder that keeps what it was given, a lookup over a set of ids."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from domain.ledger.events import LedgerEntry
from domain.ledger.projections import UsageCounters, UsageKey, fold_usage
from domain.ledger.reports import UsageReport, UsageRow

T = TypeVar("T")


class RecordedEvents(list[Any]):
    """Every recorded event, in order; called with an event class, the events of that class."""

    def __call__(self, kind: type[T]) -> list[T]:
        return [event for event in self if isinstance(event, kind)]


class FakeRecorder:
    """The UsageRecorder twin. An entry id it already holds is not recorded again (a retried write of an
    entry with a deterministic id, as the ledger's recorders treat it); its first position comes back."""

    def __init__(self) -> None:
        self.entries: list[Any] = []  # LedgerEntry; Any lets a test read its events' fields unchecked
        self.events = RecordedEvents()
        self.ids: set[uuid.UUID] = set()
        self._positions: dict[uuid.UUID, int] = {}

    async def record(self, entry: LedgerEntry) -> int:
        if entry.id not in self._positions:
            # Read, not collected: a test may still look at the entry's pending events.
            self.events.extend(entry.pending_events)
            self.entries.append(entry)
            self.ids.add(entry.id)
            self._positions[entry.id] = len(self.events)
        return self._positions[entry.id]


class SetLookup:
    """The LedgerLookup twin; give it a FakeRecorder's `ids` to see what that recorder holds."""

    def __init__(self, recorded: set[uuid.UUID] | None = None) -> None:
        self.ids = recorded if recorded is not None else set()

    async def recorded(self, entry_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        return {entry_id for entry_id in entry_ids if entry_id in self.ids}


class UsageTable:
    """The usage_daily twin: counters per UsageKey, folded from a FakeRecorder's events as UsageProjector
    folds the ledger's (domain.ledger.projections), or put in directly for a day the clock cannot reach."""

    def __init__(self, recorder: FakeRecorder | None = None) -> None:
        self.recorder = recorder or FakeRecorder()
        self.rows: dict[UsageKey, UsageCounters] = {}
        self.projected = 0  # how many of the recorder's events are folded in
        self.stuck = False  # a projection that cannot advance (another projector holds it)

    def put(self, key: UsageKey, counters: UsageCounters) -> None:
        self.rows.setdefault(key, UsageCounters()).add(counters)

    @contextmanager
    def stalled(self) -> Iterator[None]:
        """No event is folded in while this lasts."""
        self.stuck = True
        try:
            yield
        finally:
            self.stuck = False

    def catch_up(self) -> bool:
        """Folds the events recorded since the last call; whether the table now holds every one."""
        if not self.stuck:
            for key, counters in fold_usage(self.recorder.events[self.projected:]).items():
                self.put(key, counters)
            self.projected = len(self.recorder.events)
        return self.projected == len(self.recorder.events)


_GROUPINGS: dict[str, tuple[Callable[[UsageKey], str], frozenset[str] | None]] = {
    "agent": (lambda key: key.agent_id, None),
    "microdao": (lambda key: key.microdao_id, None),
    "model": (lambda key: f"{key.subject} -> {key.provider}/{key.physical_model}", frozenset({"llm", "embeddings"})),
    "tool": (lambda key: key.subject, frozenset({"tool"})),
    "day": (lambda key: key.day.isoformat(), None),
}


class FakeUsageReports:
    """The UsageReports twin over a UsageTable: the rows, figures and rounding of infra's report SQL."""

    def __init__(self, table: UsageTable) -> None:
        self.table = table

    async def report(
        self, group_by: str, since: date, until: date, agent_id: str | None = None, microdao_id: str | None = None,
    ) -> UsageReport:
        complete = self.table.catch_up()
        key_of, kinds = _GROUPINGS[group_by]
        groups: dict[str, dict[str, UsageCounters]] = {}
        for key, counters in self.table.rows.items():
            if (since <= key.day <= until and (kinds is None or key.kind in kinds) and agent_id in (None, key.agent_id)
                    and microdao_id in (None, key.microdao_id)):
                kind = f"memory:{key.subject}" if key.kind == "memory" else key.kind
                groups.setdefault(key_of(key), {}).setdefault(kind, UsageCounters()).add(counters)
        return UsageReport([_row(key, groups[key]) for key in sorted(groups)], complete)


def _row(key: str, totals: dict[str, UsageCounters]) -> UsageRow:
    llm, tool, turn, stored, embeddings = (totals.get(kind, UsageCounters())
                                           for kind in ("llm", "tool", "turn", "memory:stored", "embeddings"))
    return UsageRow(
        key=key, llm_calls=llm.calls, llm_failures=llm.failures, llm_cancelled=llm.cancelled,
        prompt_tokens=llm.prompt_tokens, completion_tokens=llm.completion_tokens,
        total_tokens=llm.prompt_tokens + llm.completion_tokens, cost_usd=str(_money(llm.cost_usd)),
        unpriced_calls=llm.unpriced_calls,
        avg_llm_latency_ms=round(float(llm.latency_ms_sum / llm.calls), 3) if llm.calls else None,
        tool_calls=tool.calls, tool_failures=tool.failures, memory_writes=stored.calls, agent_turns=turn.calls,
        avg_turn_cost_usd=str(_money(turn.cost_usd / turn.calls)) if turn.calls else None,
        embedding_calls=embeddings.calls, embedding_tokens=embeddings.prompt_tokens,
        embedding_cost_usd=str(_money(embeddings.cost_usd)),
    )


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.000001"))
