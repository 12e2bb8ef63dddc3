"""The ledger on NATS JetStream, against a real nats-server and a database of the test's own: every event
published exactly once — across a crash between publishing and recording the position, and across kill -9
of the exporter process under load — on the subjects the README documents, and `daarion events tail`
prints them."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path

import psycopg
import pytest

from domain.ledger.application import UsageLedger
from domain.ledger.events import ApiKeyRevoked, LedgerEntry, MemoryStored, new_entry
from domain.ledger.export import ExportedEvent
from infra.ledger.event_store import open_ledger
from infra.ledger.jetstream_publisher import JetStreamPublisher, NatsSettings, connect, ensure_stream
from infra.ledger.ledger_export import LedgerExporter
from tests.integration.ledger.ledger_db import isolated_database_fixture  # noqa: F401 - fixture
from tests.nats_support import Consumer, nats_server
from tests.support import REPO, wait_until

STREAM = "daarion-ledger"


@pytest.fixture(name="nats_url")
def nats_url_fixture(tmp_path: Path) -> Iterator[str]:
    with nats_server(tmp_path / "nats") as url:
        yield url


@pytest.fixture(name="ledger")
def ledger_fixture(isolated_database: str) -> Iterator[UsageLedger]:
    ledger = open_ledger(isolated_database)
    yield ledger
    ledger.close()


def entries(count: int, start: int = 0) -> list[LedgerEntry]:
    """Memory writes of two microDAOs, and every tenth a key revocation of no microDAO."""
    made = []
    for i in range(start, start + count):
        if i % 10 == 9:
            made.append(new_entry(ApiKeyRevoked, key_id=f"{i:016x}", agent_id=None, microdao_id=None, actor="test",
                                  reason="revoked", effective_at="2026-12-01T00:00:00+00:00"))
        else:
            made.append(new_entry(MemoryStored, request_id=f"r{i}", memory_id=f"m{i}", agent_id="agent:sofia",
                                  microdao_id=f"microdao:{7 + i % 2}", tier="mid", kind="fact", content_bytes=i))
    return made


def ledger_event_ids(url: str) -> set[str]:
    with psycopg.connect(url) as connection:
        rows = connection.execute("SELECT originator_id, originator_version FROM usageledger_events").fetchall()
    return {f"{originator_id}:{version}" for originator_id, version in rows}


def position(url: str) -> int:
    with psycopg.connect(url) as connection:
        row = connection.execute("SELECT notification_id FROM usage_projection_tracking "
                                 "WHERE application_name = %s", (f"nats:{STREAM}",)).fetchone()
    return int(row[0]) if row else 0


def passed(url: str, at_least: int) -> bool:
    return position(url) >= at_least


def assert_each_exactly_once(consumer: Consumer, expected: set[str]) -> None:
    wait_until(lambda: set(consumer.seen) >= expected, timeout=30)
    time.sleep(0.3)  # a duplicate, if there were one, would be right behind
    assert set(consumer.seen) == expected
    assert [event_id for event_id, count in consumer.seen.items() if count > 1] == []


class CrashingOnce:
    """Publishes, then fails once as a process killed before it could record its position would."""

    def __init__(self, publisher: JetStreamPublisher) -> None:
        self._publisher = publisher
        self.crashed = False

    async def publish(self, events: Sequence[ExportedEvent]) -> int:
        repeats = await self._publisher.publish(events)
        if not self.crashed:
            self.crashed = True
            raise ConnectionResetError("killed between publishing and recording the position")
        return repeats


async def test_a_crash_between_publishing_and_recording_the_position_publishes_nothing_twice(
    isolated_database: str, ledger: UsageLedger, nats_url: str,
) -> None:
    settings = NatsSettings(url=nats_url, stream=STREAM)
    connection = await connect(nats_url, "test")
    await ensure_stream(connection.jetstream(), settings)
    publisher = CrashingOnce(JetStreamPublisher(connection.jetstream(), STREAM))
    exporter = LedgerExporter(ledger, publisher, f"nats:{STREAM}", batch_size=40)
    try:
        ledger.record(entries(100))
        with Consumer(nats_url, STREAM) as consumer:
            with pytest.raises(ConnectionResetError):
                await exporter.export_batch()
            assert await exporter.position() == 0  # the batch went out, the position did not move
            while await exporter.export_batch():
                pass
            assert exporter.repeats == 40  # the first batch again: acknowledged as duplicates, not stored
            assert await exporter.position() == ledger.max_position()
            assert_each_exactly_once(consumer, ledger_event_ids(isolated_database))
            subjects = set(consumer.subjects.values())
        assert subjects == {"daarion.ledger.MemoryStored.microdao_7", "daarion.ledger.MemoryStored.microdao_8",
                            "daarion.ledger.ApiKeyRevoked._global"}
    finally:
        await asyncio.to_thread(exporter.close)
        await connection.close()


class Exporter:
    """`daarion events export` as a process of its own."""

    def __init__(self, database: str, nats_url: str, folder: Path) -> None:
        config = folder / "events.yaml"
        config.write_text("nats:\n  batch_size: 50\n  interval_s: 0.05\n")
        self._env = {**{k: v for k, v in os.environ.items() if not k.startswith("DAARION_")},
                     "DATABASE_URL": database, "DAARION_NATS_URL": nats_url, "DAARION_EVENTS_CONFIG": str(config)}
        self.log = folder / "export.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "apps.cli", "events", "export"], env=self._env,
                                            cwd=REPO, stdout=log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        assert self.process is not None and self.process.poll() is None, self.log.read_text()
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)


@pytest.mark.slow
def test_kill_9_of_the_exporter_under_load_and_a_restart_deliver_every_event_exactly_once(
    isolated_database: str, ledger: UsageLedger, nats_url: str, tmp_path: Path,
) -> None:
    total, batch = 3000, 10

    def write() -> None:
        for start in range(0, total, batch):
            ledger.record(entries(batch, start))
            time.sleep(0.004)

    writing = threading.Thread(target=write)
    exporter = Exporter(isolated_database, nats_url, tmp_path)
    exporter.start()
    try:
        with Consumer(nats_url, STREAM) as consumer:
            writing.start()
            for progress in (300, 1500):  # two crashes mid-way, each while events keep coming
                wait_until(partial(passed, isolated_database, progress), timeout=60)
                exporter.kill()
                exporter.start()
            writing.join(timeout=120)
            wait_until(lambda: position(isolated_database) == ledger.max_position(), timeout=60)
            expected = ledger_event_ids(isolated_database)
            assert len(expected) == total
            assert_each_exactly_once(consumer, expected)
        repeats = [line for line in exporter.log.read_text().splitlines() if "already in the stream" in line]
        print(f"{total} events, 2 kills: {len(repeats)} batches were re-published and de-duplicated")
    finally:
        exporter.stop()


def test_events_tail_prints_one_line_per_event_of_the_type_and_microdao_asked_for(
    ledger: UsageLedger, nats_url: str,
) -> None:
    ledger.record(entries(20))

    async def export() -> None:
        connection = await connect(nats_url, "test")
        await ensure_stream(connection.jetstream(), NatsSettings(url=nats_url, stream=STREAM))
        exporter = LedgerExporter(ledger, JetStreamPublisher(connection.jetstream(), STREAM), f"nats:{STREAM}")
        await exporter.export_batch()
        await asyncio.to_thread(exporter.close)
        await connection.close()

    asyncio.run(export())
    env = {**os.environ, "DAARION_NATS_URL": nats_url}
    tail = [sys.executable, "-m", "apps.cli", "events", "tail", "--all", "--type", "MemoryStored",
            "--microdao", "microdao:7"]
    lines = subprocess.run([*tail, "--limit", "10"], env=env, cwd=REPO, capture_output=True, text=True, timeout=60,
                           check=True).stdout.splitlines()
    assert len(lines) == 10  # entries 0, 2, ..., 18: microdao:7's memory writes
    assert all(" MemoryStored microdao:7 agent:sofia request_id=r" in line for line in lines)
    assert "memory_id=m0" in lines[0] and "memory_id=m18" in lines[-1]

    json_lines = subprocess.run([*tail, "--limit", "2", "--json"], env=env, cwd=REPO, capture_output=True, text=True,
                                timeout=60, check=True).stdout.splitlines()
    assert [line.count('"type":"MemoryStored"') for line in json_lines] == [1, 1]
