"""Per-agent rate limits that stay exact across any number of proxy processes sharing one database.

Admission is one atomic upsert on the agent's row for the current fixed window: the row lock
serialises concurrent admissions, and the WHERE clause refuses the one that would exceed either
requests or tokens, so exactly `requests_per_minute` calls get in per window. Tokens are reserved at
admission (prompt estimate + max_tokens) and reconciled with real usage after the call; the
reconciliations are batched into one statement every few milliseconds, off the request path.

Windows are worth nothing once they have ended; `start_pruning` (or `prune_every` in a task of your own)
deletes those older than an hour now and then, so the table holds about an hour of windows per agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from typing import Any

import asyncpg

from domain.kernel.clock import Clock
from domain.kernel.errors import RateLimited
from domain.llm.policies import RateLimit
from domain.llm.ports import Admission
from infra.platform.periodic import every

log = logging.getLogger(__name__)

# A server restarting, a connection dropped or timed out, the embedded server's socket gone for a moment.
_DATABASE_BLIPS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)

_ADMIT = """
INSERT INTO rate_limit_windows AS w (agent_id, window_start, requests, tokens)
VALUES ($1, $2, 1, $3)
ON CONFLICT (agent_id, window_start) DO UPDATE
    SET requests = w.requests + 1, tokens = w.tokens + EXCLUDED.tokens
    WHERE w.requests + 1 <= $4 AND w.tokens + EXCLUDED.tokens <= $5
RETURNING requests
"""

_RECONCILE = """
UPDATE rate_limit_windows AS w SET tokens = greatest(w.tokens + d.delta, 0)
FROM (SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS t(agent_id, window_start, delta)) AS d
WHERE w.agent_id = d.agent_id AND w.window_start = d.window_start
"""


class PgRateLimiter:
    def __init__(self, pool: Any, clock: Clock, window_s: int = 60, flush_interval_s: float = 0.05) -> None:
        self._pool = pool
        self._clock = clock
        self._window_s = window_s
        self._flush_interval_s = flush_interval_s
        self._deltas: dict[tuple[str, int], int] = {}
        self._flusher: asyncio.Task[None] | None = None
        self._pruning: tuple[asyncio.Task[None], asyncio.Event] | None = None

    async def admit(self, agent_id: str, limit: RateLimit, tokens: int) -> Admission:
        now = self._clock.now().timestamp()
        window = int(now // self._window_s) * self._window_s
        granted = await self._pool.fetchval(
            _ADMIT, agent_id, window, tokens, limit.requests_per_minute, limit.tokens_per_minute
        )
        if granted is None:
            retry_after = max(1, math.ceil(window + self._window_s - now))
            raise RateLimited(await self._explain(agent_id, window, limit, tokens), retry_after)
        return Admission(agent_id, window, tokens)

    async def _explain(self, agent_id: str, window: int, limit: RateLimit, tokens: int) -> str:
        row = await self._pool.fetchrow(
            "SELECT requests, tokens FROM rate_limit_windows WHERE agent_id = $1 AND window_start = $2",
            agent_id, window,
        )
        if row is not None and row["requests"] >= limit.requests_per_minute:
            return f"{agent_id} reached its limit of {limit.requests_per_minute} requests per minute"
        return (f"{agent_id} would exceed its limit of {limit.tokens_per_minute} tokens per minute "
                f"(this request reserves {tokens})")

    async def reconcile(self, admission: Admission, actual_tokens: int) -> None:
        delta = actual_tokens - admission.reserved_tokens
        if delta == 0:
            return
        key = (admission.agent_id, admission.window_start)
        self._deltas[key] = self._deltas.get(key, 0) + delta
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(self._flush_interval_s)
        await self.flush()

    async def flush(self) -> None:
        if not self._deltas:
            return
        deltas, self._deltas = self._deltas, {}
        keys = list(deltas)
        try:
            await self._pool.execute(
                _RECONCILE, [k[0] for k in keys], [k[1] for k in keys], [deltas[k] for k in keys]
            )
        except Exception:
            log.exception("token reconciliation of %d windows failed; reservations stay charged", len(keys))

    async def prune(self, keep_s: int = 3600) -> int:
        """Deletes the windows that started more than `keep_s` ago (never the current one); returns how many."""
        cutoff = int(self._clock.now().timestamp()) - max(keep_s, self._window_s)
        status = await self._pool.execute("DELETE FROM rate_limit_windows WHERE window_start < $1", cutoff)
        return int(status.split()[-1])

    async def prune_every(self, interval_s: float, stop: asyncio.Event, keep_s: int = 3600) -> None:
        """Prunes at once and then every `interval_s` until `stop` is set. A prune that fails (the database
        restarting, a connection dropped) is logged and tried again at the next tick."""
        await every(interval_s, stop, lambda: self.prune(keep_s), "pruning rate_limit_windows", log, _DATABASE_BLIPS)

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
