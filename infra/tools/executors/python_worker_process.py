"""The parent's handle on one Python tool worker process (infra/tools/executors/python_worker.py), and
the slot a call runs in.

Calls block on the worker's pipe, so they run in a thread; `kill` comes from another thread (the event
loop, on a timeout) and ends that read with EOF. Only `Popen` signals and reaps the process, so a PID is
never signalled after it was reaped and could have been reused.

The worker gets the parent's import path (so dotted paths resolve as they did in the registry) and a
minimal environment: no database URL, tokens or other service credentials reach tool code.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from typing import IO

import msgspec

_BOOTSTRAP = ("import json, sys; sys.path[:] = json.loads(sys.argv[1]); "
              "from infra.tools.executors.python_worker import main; main()")
_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR")


class WorkerGone(Exception):
    """The worker ended before it answered: killed on a timeout, stopped by a limit, or crashed."""


class WorkerSpec(msgspec.Struct, frozen=True):
    functions: dict[str, str]  # tool id -> dotted path
    allowed_modules: list[str]
    memory_limit_mb: int | None


class WorkerProcess:
    def __init__(self, spec: WorkerSpec) -> None:
        import_path = json.dumps(list(dict.fromkeys(entry or os.getcwd() for entry in sys.path)))
        environment = {name: value for name, value in os.environ.items() if name in _ENVIRONMENT}
        self._process = subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOTSTRAP, import_path],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=environment, close_fds=True,
        )
        self._requests: IO[bytes] = self._process.stdin  # type: ignore[assignment]
        self._replies: IO[bytes] = self._process.stdout  # type: ignore[assignment]
        self._killed = False
        self._requests.write(msgspec.json.encode(spec) + b"\n")
        self._requests.flush()

    @property
    def pid(self) -> int:
        return self._process.pid

    def alive(self) -> bool:
        return not self._killed and self._process.poll() is None

    def call(self, request: bytes) -> bytes:
        """One request line out, one reply line back; WorkerGone when the process ends first."""
        try:
            self._requests.write(request + b"\n")
            self._requests.flush()
            reply = self._replies.readline()
        except (BrokenPipeError, ValueError):  # ValueError: the pipe was closed by `stop`
            reply = b""
        if not reply:
            raise WorkerGone(self._ending())
        return reply

    def kill(self) -> None:
        self._killed = True
        try:
            self._process.kill()
        except ProcessLookupError:  # already gone
            pass

    def hang_up(self) -> None:
        """Closes the worker's stdin: an idle worker leaves at once."""
        try:
            self._requests.close()
        except OSError:  # the worker is gone and the last write failed
            pass

    def stop(self, grace_s: float) -> None:
        """Hangs up; a worker still running a call gets SIGKILL after `grace_s`."""
        self.hang_up()
        self._reap(grace_s)
        self._replies.close()  # after the process ended: a reader still blocked on it has had its EOF

    def _reap(self, grace_s: float) -> int:
        try:
            return self._process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            self.kill()
            return self._process.wait()

    def _ending(self) -> str:
        code = self._reap(1.0)  # EOF without an exit would be a function closing our pipe
        if code == -signal.SIGXCPU:
            return "the Python worker was stopped by its CPU time limit"
        if code < 0:
            return f"the Python worker was ended by {signal.Signals(-code).name}"
        return f"the Python worker exited with status {code} before it answered"


class Slot:
    """One place to run a call: its worker (None until one starts) and the call it serves, which the
    caller may give up on (a timeout, a cancellation): that kills the worker, once it exists."""

    def __init__(self) -> None:
        self.worker: WorkerProcess | None = None
        self._call: object | None = None
        self._given_up = False
        self._lock = threading.Lock()

    def take(self) -> object:
        with self._lock:
            self._call, self._given_up = object(), False
            return self._call

    def put(self, worker: WorkerProcess) -> None:
        with self._lock:
            self.worker = worker
            if self._given_up:  # the call was given up while this worker was starting
                worker.kill()

    def give_up(self, call: object) -> None:
        with self._lock:
            if self._call is not call:  # that call has already ended, and the slot serves another or none
                return
            self._given_up = True
            if self.worker is not None:
                self.worker.kill()

    def release(self) -> None:
        with self._lock:
            self._call, self._given_up = None, False


def stop_all(workers: Mapping[int, WorkerProcess], grace_s: float = 1.0) -> None:
    every = list(workers.values())
    for worker in every:
        worker.hang_up()  # all at once: they exit in parallel
    for worker in every:
        worker.stop(grace_s)
