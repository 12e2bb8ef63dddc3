"""The embedded PostgreSQL lives as long as the `daarion` processes that use it: the last one to exit stops it,
SIGTERM included (a service manager's stop), and one killed with -9 does not keep it running for ever.

Each test runs `daarion serve projects` as real processes on a data dir of its own (never the session's)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.integration.chaos.processes import Service
from tests.support import wait_until

pytestmark = pytest.mark.slow


def postgres_processes(data_dir: Path) -> list[int]:
    """The pids of `postgres -D <data_dir>` (the postmaster; its backends rename themselves)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"postgres") and str(data_dir).encode() in argv:
            found.append(int(entry.name))
    return found


@contextmanager
def services(tmp_path: Path) -> Iterator[tuple[Path, list[Service]]]:
    """Where the data dir is, and the services started (each with `start(...)`), all ended at the end."""
    data_dir = tmp_path / "pgdata"
    started: list[Service] = []
    try:
        yield data_dir, started
    finally:
        for service in started:
            service.kill()
        for pid in postgres_processes(data_dir):  # only after a failed assertion: the server these started
            os.kill(pid, signal.SIGINT)


def start(data_dir: Path, started: list[Service]) -> Service:
    """`daarion serve projects` without DATABASE_URL: it starts (or finds) the embedded server of `data_dir`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DAARION_") and key != "DATABASE_URL"}
    service = Service("projects", {**env, "DAARION_DATA_DIR": str(data_dir)}, data_dir.parent, name=f"p{len(started)}")
    started.append(service)
    service.start()
    service.wait_ready()
    return service


def stop(service: Service, how: signal.Signals) -> int:
    assert service.process is not None
    service.process.send_signal(how)
    return service.process.wait(timeout=30)


def test_sigterm_of_the_only_service_stops_the_embedded_server_it_started(tmp_path: Path) -> None:
    with services(tmp_path) as (data_dir, started):
        service = start(data_dir, started)
        assert postgres_processes(data_dir)
        assert stop(service, signal.SIGTERM) == 128 + signal.SIGTERM
        wait_until(lambda: not postgres_processes(data_dir), timeout=15)


def test_the_server_outlives_a_service_while_another_uses_it_and_a_killed_one_does_not_hold_it(
    tmp_path: Path,
) -> None:
    with services(tmp_path) as (data_dir, started):
        first = start(data_dir, started)  # alone: it makes the data dir, the others find the server running
        second, third = start(data_dir, started), start(data_dir, started)

        stop(first, signal.SIGTERM)
        assert postgres_processes(data_dir)
        assert httpx.get(second.base + "/readyz", timeout=10).status_code == 200

        stop(second, signal.SIGKILL)  # never says it is gone
        assert httpx.get(third.base + "/readyz", timeout=10).status_code == 200
        stop(third, signal.SIGTERM)
        wait_until(lambda: not postgres_processes(data_dir), timeout=15)
