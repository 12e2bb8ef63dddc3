"""Clock: FakeClock and SystemClock give aware wall time and a monotonic clock that never runs backwards."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.kernel.clock import Clock
from infra.platform.clock import SystemClock
from tests.fakes.clock import FakeClock


@pytest.fixture(params=["fake", "system"], name="clock")
def clock_fixture(request: pytest.FixtureRequest) -> Clock:
    return FakeClock() if request.param == "fake" else SystemClock()


def test_wall_time_is_in_utc(clock: Clock) -> None:
    assert clock.now().utcoffset() == timedelta(0)


def test_monotonic_time_never_runs_backwards(clock: Clock) -> None:
    readings = [clock.monotonic() for _ in range(100)]
    assert readings == sorted(readings)


def test_wall_time_never_runs_backwards_between_readings(clock: Clock) -> None:
    readings = [clock.now() for _ in range(100)]
    assert readings == sorted(readings)
