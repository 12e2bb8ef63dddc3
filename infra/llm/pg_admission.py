"""Rate limits and budgets that stay exact across any number of proxy processes sharing one database.

Admission is one round trip: `llm_admit` (alembic 0006_spend_control) runs as the tenant, takes one
request and the reserved tokens from the agent's current window if the sliding estimate allows it, and
reserves the call's worst-case cost on every budget row, all under row locks, or takes nothing. Calls
are settled to their real tokens and cost in batches, one `llm_settle` every few milliseconds, off the
request path; a batch that fails is logged and its reservations stay charged (the safe side).

Windows are worth nothing once they have ended; `start_pruning` (or `prune_every` in a task of your own)
deletes those older than an hour now and then, so the table holds about an hour of windows per agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from decimal import Decimal
from typing import Any

from domain.kernel.clock import Clock
from domain.kernel.errors import IdentityMismatch, ServiceUnavailable
from domain.llm.admission import Admission, Quota, Ticket, budget_refusal, month_of, rate_refusal
from domain.llm.windows import Counts, rate_state, window_at
from infra.platform.outages import is_database_outage
from infra.platform.periodic import every

log = logging.getLogger(__name__)


_ADMIT = "SELECT * FROM llm_admit($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
_SETTLE = "SELECT llm_settle($1, $2, $3, $4, $5, $6, $7, $8, $9)"

WindowKey = tuple[str, int]                     # (agent, window start)
SpendKey = tuple[str, str, Any, str]            # (scope, subject, month, the row's microDAO)


class PgAdmissionControl:
    def __init__(self, pool: Any, clock: Clock, window_s: int = 60, flush_interval_s: float = 0.05) -> None:
        self._pool = pool
        self._clock = clock
        self._window_s = window_s
        self._flush_interval_s = flush_interval_s
        self._token_deltas: dict[WindowKey, int] = defaultdict(int)
        self._spend: dict[SpendKey, tuple[Decimal, Decimal]] = {}   # -> (spent, released reservations)
        self._flusher: asyncio.Task[None] | None = None
        self._pruning: tuple[asyncio.Task[None], asyncio.Event] | None = None

    async def admit(self, ticket: Ticket) -> Admission:
        now = self._clock.now()
        window, month, limit, lines = window_at(now.timestamp(), self._window_s), month_of(now), ticket.limit, ticket.budgets
        try:
            row = await self._pool.fetchrow(
                _ADMIT, ticket.agent_id, ticket.microdao_id, window.start, window.length_s, window.length_ms,
                window.carry_ms,
                limit.requests_per_minute, limit.tokens_per_minute, ticket.tokens, month, ticket.cost_usd,
                [line.scope for line in lines], [line.subject for line in lines], [line.limit_usd for line in lines],
            )
        except Exception as exc:
            if not is_database_outage(exc):
                raise
            log.error("admission of %s failed, refused: %s: %s", ticket.agent_id, type(exc).__name__, exc)
            raise ServiceUnavailable("rate limits and budgets cannot be checked: the database is unavailable; "
                                     "retry shortly") from exc
        verdict = row["verdict"]
        counts = Counts(row["prev_requests"], row["prev_tokens"], row["cur_requests"], row["cur_tokens"])
        if verdict == "admitted":
            return Admission(ticket, window.start, month, Quota(rate_state(counts, limit, window), row["budget_left"]))
        if verdict == "rate_limited":
            raise rate_refusal(ticket.agent_id, counts, limit, ticket.tokens, window)
        line = lines[row["line"] - 1]
        if verdict == "budget_exhausted":
            raise budget_refusal(line, row["line_spent"], row["line_reserved"], ticket.cost_usd,
                                 rate_state(counts, limit, window))
        raise IdentityMismatch(f"the spend of {line.scope} {line.subject} is kept for another microDAO than "
                               f"{ticket.microdao_id}")

    async def settle(self, admission: Admission, tokens: int, cost_usd: Decimal) -> None:
        ticket = admission.ticket
        if tokens != ticket.tokens:
            self._token_deltas[(ticket.agent_id, admission.window_start)] += tokens - ticket.tokens
        if cost_usd or ticket.cost_usd:
            for line in ticket.budgets:
                key = (line.scope, line.subject, admission.month, ticket.microdao_id)
                spent, released = self._spend.get(key, (Decimal(0), Decimal(0)))
                self._spend[key] = (spent + cost_usd, released + ticket.cost_usd)
        if (self._token_deltas or self._spend) and (self._flusher is None or self._flusher.done()):
            self._flusher = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        while self._token_deltas or self._spend:
            await asyncio.sleep(self._flush_interval_s)
            await self.flush()

    async def flush(self) -> None:
        """Settles everything pending in one statement, windows and budget rows each in lock order."""
        if not self._token_deltas and not self._spend:
            return
        deltas, self._token_deltas = self._token_deltas, defaultdict(int)
        spend, self._spend = self._spend, {}
        windows, rows = sorted(deltas), sorted(spend)
        try:
            await self._pool.execute(
                _SETTLE, [w[0] for w in windows], [w[1] for w in windows], [deltas[w] for w in windows],
                [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows],
                [spend[r][0] for r in rows], [spend[r][1] for r in rows],
            )
        except Exception:
            log.exception(
                "settling %d rate windows and %d budget rows failed; their reservations stay charged: %s",
                len(windows), len(rows), {f"{r[0]} {r[1]} {r[2]}": f"spent {spend[r][0]}" for r in rows},
            )

    async def prune(self, keep_s: int = 3600) -> int:
        """Deletes the windows that started more than `keep_s` ago (never the current one); returns how many."""
        cutoff = int(self._clock.now().timestamp()) - max(keep_s, 2 * self._window_s)
        status = await self._pool.execute("DELETE FROM rate_limit_windows WHERE window_start < $1", cutoff)
        return int(status.split()[-1])

    async def prune_every(self, interval_s: float, stop: asyncio.Event, keep_s: int = 3600) -> None:
        """Prunes at once and then every `interval_s` until `stop` is set. A prune that fails (the database
        restarting, a connection dropped) is logged and tried again at the next tick."""
        await every(interval_s, stop, lambda: self.prune(keep_s), "pruning rate_limit_windows", log,
                    is_database_outage)

    def start_pruning(self, interval_s: float = 300.0, keep_s: int = 3600) -> None:
        """Runs `prune_every` in the background until `aclose()`."""
        if self._pruning is None:
            stop = asyncio.Event()
            self._pruning = asyncio.create_task(self.prune_every(interval_s, stop, keep_s)), stop

    async def aclose(self) -> None:
        if self._pruning is not None:
            task, stop = self._pruning
            stop.set()
            await task
        if self._flusher is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        await self.flush()
