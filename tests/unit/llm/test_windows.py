"""The sliding-window rules: the previous minute fades out as the current one fills."""

from __future__ import annotations

import pytest

from domain.llm.policies import RateLimit
from domain.llm.windows import Counts, Window, fits, rate_state, retry_after_s, window_at

LIMIT = RateLimit(requests_per_minute=10, tokens_per_minute=1_000)


def at(seconds: float) -> Window:
    return Window(0, round(seconds * 1000), 60)


def test_a_window_starts_on_the_minute_and_the_previous_one_fades_as_it_goes() -> None:
    window = window_at(1_800_000_015.25)
    assert (window.start, window.elapsed_ms, window.previous_start) == (1_800_000_000, 15_250, 1_799_999_940)
    assert window.carry_ms == 44_750
    assert window_at(1_800_000_000.0).carry_ms == 60_000


def test_a_full_previous_window_still_counts_just_after_the_boundary() -> None:
    full_before = Counts(previous_requests=10, previous_tokens=100)
    assert not fits(full_before, LIMIT, 10, at(1)), "10 * 59/60 carried + 1 > 10"
    assert not fits(full_before, LIMIT, 10, at(5.999))
    assert fits(full_before, LIMIT, 10, at(6)), "10 * 0.9 carried + 1 = 10, exactly"


def test_across_a_boundary_a_burst_gets_the_limit_not_twice_the_limit() -> None:
    admitted, counts = 0, Counts()
    while fits(counts, LIMIT, 1, at(59.5)):  # a burst at the end of one window...
        counts = Counts(0, 0, counts.requests + 1, counts.tokens + 1)
        admitted += 1
    counts = Counts(counts.requests, counts.tokens)
    while fits(counts, LIMIT, 1, at(0.5)):  # ...and at the start of the next
        counts = Counts(counts.previous_requests, counts.previous_tokens, counts.requests + 1, counts.tokens + 1)
        admitted += 1
    assert admitted == LIMIT.requests_per_minute


def test_tokens_count_like_requests() -> None:
    assert fits(Counts(requests=1, tokens=900), LIMIT, 100, at(30))
    assert not fits(Counts(requests=1, tokens=900), LIMIT, 101, at(30))
    assert not fits(Counts(previous_tokens=400, tokens=700), LIMIT, 101, at(30)), "200 carried + 801"


@pytest.mark.parametrize(("counts", "tokens", "elapsed", "expected"), [
    (Counts(requests=10), 1, 15.0, 45 + 6),             # full now: wait for the window to end, then for 10% to fade
    (Counts(previous_requests=10), 1, 1.0, 5),          # 10 carried: fits once 10% has faded, at 6 s
    (Counts(previous_tokens=1_000), 500, 0.0, 30),      # half the tokens must fade
    (Counts(previous_requests=9, requests=1), 1, 30.0, 1),  # it fits already: never less than a second
    (Counts(previous_requests=10), 1, 1.2, 5),          # 4.8 s, rounded up
])
def test_retry_after_is_when_the_request_would_fit_if_nothing_else_came(
    counts: Counts, tokens: int, elapsed: float, expected: int,
) -> None:
    assert retry_after_s(counts, LIMIT, tokens, at(elapsed)) == expected
    if elapsed + expected < 60:
        assert fits(counts, LIMIT, tokens, at(elapsed + expected))


def test_the_rate_state_tells_what_is_left_and_when_everything_is_forgotten() -> None:
    state = rate_state(Counts(previous_requests=4, previous_tokens=400, requests=3, tokens=100), LIMIT, at(30))
    assert (state.limit_requests, state.remaining_requests, state.reset_requests_s) == (10, 5, 90.0)
    assert (state.limit_tokens, state.remaining_tokens, state.reset_tokens_s) == (1_000, 700, 90.0)
    only_previous = rate_state(Counts(previous_requests=4), LIMIT, at(30))
    assert (only_previous.remaining_requests, only_previous.reset_requests_s, only_previous.reset_tokens_s) == (8, 30.0, 0.0)
    assert rate_state(Counts(requests=12), LIMIT, at(0)).remaining_requests == 0
