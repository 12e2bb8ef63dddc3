"""Sliding-window rate limits: the rules every limiter applies, whatever keeps the counters.

Counters are kept per fixed window (one minute), but a request is measured against the estimate of the
last full minute: the current window's counts plus the previous window's, weighted by how much of it
still lies inside the last minute (`carry`). A burst at the end of one window therefore still counts at
the start of the next, so a burst across the boundary cannot get twice the limit.
"""

from __future__ import annotations

import math

import msgspec

from domain.llm.policies import RateLimit


class Window(msgspec.Struct, frozen=True):
    """Where now is: in the window that started at `start` (epoch seconds), `elapsed_ms` into it. The
    previous window weighs (length - elapsed) / length; the rules below multiply through by the length
    so that every comparison is exact integer arithmetic, the same in Python and in SQL."""

    start: int
    elapsed_ms: int
    length_s: int

    @property
    def length_ms(self) -> int:
        return self.length_s * 1000

    @property
    def carry_ms(self) -> int:
        """The previous window's weight, times the window's length in milliseconds."""
        return self.length_ms - self.elapsed_ms

    @property
    def previous_start(self) -> int:
        return self.start - self.length_s


def window_at(timestamp: float, length_s: int = 60) -> Window:
    now_ms, length_ms = math.floor(timestamp * 1000), length_s * 1000
    start_ms = now_ms // length_ms * length_ms
    return Window(start_ms // 1000, now_ms - start_ms, length_s)


class Counts(msgspec.Struct, frozen=True):
    """One agent's counters: the previous window's and the current window's."""

    previous_requests: int = 0
    previous_tokens: int = 0
    requests: int = 0
    tokens: int = 0


class RateState(msgspec.Struct, frozen=True):
    """What a caller may still do, in the terms of OpenAI's x-ratelimit-* headers."""

    limit_requests: int
    remaining_requests: int
    reset_requests_s: float   # until the requests counted now no longer count
    limit_tokens: int
    remaining_tokens: int
    reset_tokens_s: float


def fits(counts: Counts, limit: RateLimit, tokens: int, window: Window) -> bool:
    """Whether one more request of `tokens` keeps the last minute within the limit. The SQL adapter
    evaluates the same integer expressions."""
    return requests_fit(counts, limit, window) and within(
        counts.previous_tokens, counts.tokens + tokens, limit.tokens_per_minute, window)


def requests_fit(counts: Counts, limit: RateLimit, window: Window) -> bool:
    return within(counts.previous_requests, counts.requests + 1, limit.requests_per_minute, window)


def within(previous: int, current: int, limit: int, window: Window) -> bool:
    return current * window.length_ms + previous * window.carry_ms <= limit * window.length_ms


def rate_state(counts: Counts, limit: RateLimit, window: Window) -> RateState:
    length, carry = window.length_ms, window.carry_ms
    requests_left = (limit.requests_per_minute * length - counts.requests * length - counts.previous_requests * carry)
    tokens_left = (limit.tokens_per_minute * length - counts.tokens * length - counts.previous_tokens * carry)
    return RateState(
        limit.requests_per_minute, max(0, requests_left // length),
        _reset_s(counts.previous_requests, counts.requests, window),
        limit.tokens_per_minute, max(0, tokens_left // length),
        _reset_s(counts.previous_tokens, counts.tokens, window),
    )


def retry_after_s(counts: Counts, limit: RateLimit, tokens: int, window: Window) -> int:
    """Whole seconds until the refused request would fit, if nothing else arrived meanwhile."""
    wait_ms = max(_wait_ms(counts.previous_requests, counts.requests, 1, limit.requests_per_minute, window),
                  _wait_ms(counts.previous_tokens, counts.tokens, tokens, limit.tokens_per_minute, window))
    return max(1, -(-wait_ms // 1000))


def _wait_ms(previous: int, current: int, need: int, limit: int, window: Window) -> int:
    length, elapsed = window.length_ms, window.elapsed_ms
    if current + need > limit:
        # The current window alone is too full: it must become the previous one and fade enough, until
        # current * (length - e) <= (limit - need) * length.
        fade = length - (limit - need) * length // current if current else 0
        return length - elapsed + max(0, fade)
    if within(previous, current + need, limit, window):
        return 0
    # Until previous * (length - e) <= (limit - current - need) * length.
    return max(0, length - (limit - current - need) * length // previous - elapsed)


def _reset_s(previous: int, current: int, window: Window) -> float:
    if current:
        return (2 * window.length_ms - window.elapsed_ms) / 1000
    if previous:
        return (window.length_ms - window.elapsed_ms) / 1000
    return 0.0
