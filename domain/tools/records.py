"""How tool calls reach the usage ledger: one `ToolInvoked` entry per call, and when it is committed.

Refusals (denied, unknown tool, invalid arguments) are committed before the caller hears the 403/404/422.
Outcomes of calls that ran are, by default, committed just after the response: the effect already
happened upstream, so waiting would not make the record any more certain (a crash during the commit
loses it either way); it would add the commit to every call's latency and turn a ledger hiccup into an
error an agent might answer by repeating a non-idempotent action. Outcomes linger `linger_s` (5 ms) so
that calls arriving one after another share one ledger transaction (a transaction costs ~0.5 ms of
CPU; ten entries in one cost ~0.1 ms each). `wait_for_outcomes=True` restores commit-before-response.
`drain()` commits everything pending (at shutdown, and in tests that read the ledger after a call).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from domain.ledger.events import LedgerEntry, ToolInvoked, new_entry
from domain.ledger.ports import UsageRecorder
from domain.tools.model import ToolCall, ToolDefinition
from domain.tools.ports import ToolMetrics

log = logging.getLogger("daarion.toolcore.ledger")

MAX_LOGGED_ARGUMENTS = 4096  # bytes; larger arguments are counted (argument_bytes) but not copied


class CallRecords:
    def __init__(self, recorder: UsageRecorder, metrics: ToolMetrics, wait_for_outcomes: bool = False,
                 linger_s: float = 0.025) -> None:
        self._recorder = recorder
        self._metrics = metrics
        self._wait_for_outcomes = wait_for_outcomes
        self._linger_s = linger_s
        self._buffer: list[LedgerEntry] = []
        self._flusher: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Future[int]] = set()

    async def refusal(self, call: ToolCall, tool: ToolDefinition | None, status: str, error_type: str,
                      latency_ms: float, arguments: bytes) -> None:
        self._metrics.call_finished(call.tool_id if tool is not None else "unknown", status, error_type,
                                    latency_ms / 1000)
        await self._recorder.record(_entry(call, tool, status, error_type, latency_ms, arguments, False))

    async def outcome(self, call: ToolCall, tool: ToolDefinition, status: str, error_type: str | None,
                      latency_ms: float, arguments: bytes, replayed: bool = False) -> None:
        self._metrics.call_finished(call.tool_id, status, error_type, latency_ms / 1000)
        entry = _entry(call, tool, status, error_type, latency_ms, arguments, replayed)
        if self._wait_for_outcomes:
            await self._recorder.record(entry)
            return
        self._buffer.append(entry)
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush_after_linger())

    async def drain(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        self._flush()
        while self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    async def _flush_after_linger(self) -> None:
        try:
            await asyncio.sleep(self._linger_s)
        finally:
            self._flusher = None
        self._flush()

    def _flush(self) -> None:
        batch, self._buffer = self._buffer, []
        for entry in batch:  # queued together, so the group-commit writer takes them in one transaction
            commit = asyncio.ensure_future(self._recorder.record(entry))
            self._pending.add(commit)
            commit.add_done_callback(self._settled)

    def _settled(self, commit: asyncio.Future[int]) -> None:
        self._pending.discard(commit)
        if not commit.cancelled() and commit.exception() is not None:
            log.error("a tool call's ledger entry was not committed: %s", commit.exception())


def _entry(call: ToolCall, tool: ToolDefinition | None, status: str, error_type: str | None, latency_ms: float,
           arguments: bytes, replayed: bool) -> LedgerEntry:
    return new_entry(
        ToolInvoked, request_id=call.request_id, tool_id=call.tool_id, agent_id=call.agent_id,
        microdao_id=call.microdao_id or "", status=status, error_type=error_type, latency_ms=latency_ms,
        argument_bytes=len(arguments), replayed=replayed,
        arguments=arguments.decode() if tool is not None and tool.safe_to_log and len(arguments) <= MAX_LOGGED_ARGUMENTS
        else None,
    )
