"""Load generators for chaos tests: clients sending back to back, every answer (or its absence) kept with
when it was sent and received."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import msgspec


class Answer(msgspec.Struct, frozen=True):
    sent: float
    received: float
    status: int                 # 0: no HTTP answer (connection refused or reset, timeout)
    retry_after: str | None
    error_type: str | None
    request_id: str             # the x-request-id the service answered with ('' without an answer)
    body: Any


class Load:
    """`workers` threads, each sending `send(client)` back to back from `start()` to `stop()`; every answer
    kept. A request not answered within `timeout` is given up (status 0) and the next one sent."""

    def __init__(self, send: Callable[[httpx.Client], httpx.Response], workers: int = 1, timeout: float = 30) -> None:
        self.answers: list[Answer] = []
        self._send = send
        self._timeout = timeout
        self._stopping = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(workers)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _run(self) -> None:
        with httpx.Client(timeout=self._timeout) as client:
            while not self._stopping.is_set():
                sent = time.monotonic()
                try:
                    response = self._send(client)
                except httpx.HTTPError:
                    self.answers.append(Answer(sent, time.monotonic(), 0, None, None, "", None))
                    time.sleep(0.02)
                    continue
                self.answers.append(_answer(sent, response))

    def succeeded_since(self, start: float) -> float | None:
        """When the first request sent after `start` that got a 2xx was sent (None: none yet)."""
        return min((a.sent for a in list(self.answers) if a.sent >= start and 200 <= a.status < 300), default=None)

    def sent_between(self, start: float, end: float) -> list[Answer]:
        return [answer for answer in self.answers if start <= answer.sent <= end]


def _answer(sent: float, response: httpx.Response) -> Answer:
    try:
        body = response.json()
    except ValueError:
        body = response.text
    error = body.get("error") if isinstance(body, dict) else None
    return Answer(sent, time.monotonic(), response.status_code, response.headers.get("retry-after"),
                  error.get("type") if isinstance(error, dict) else None, response.headers.get("x-request-id", ""), body)
