"""PythonToolExecutor: runs functions registered by dotted path in config, never code from arguments.

A function is looked up once at load, only inside the configured module prefixes, and must be a plain
function defined in the module named (a re-exported `subprocess.run` does not qualify). It runs in a
worker process (python_worker.py), which imports it again by the same dotted path: a function that
overruns its tool's timeout, even inside one C call holding a GIL (`10 ** 10 ** 9`), is killed with its
worker and the call fails as `timeout`; the worker is replaced, and the service's own process never
stops. Arguments and results cross as JSON. The kernel bounds each worker too (python_worker.py): CPU
time a second or two past the call's timeout, for when this process is stuck or gone, and its address
space (`memory_limit_mb`, 1 GiB by default), so a runaway allocation is a MemoryError.

Workers start with the executor (`max_workers` of them) and serve one call at a time, so a call costs a
pipe round trip, not a process start. When every worker is busy a call fails fast as `busy` (transient:
the caller may retry) rather than queueing: a queued call would spend its own timeout waiting for others.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import msgspec

from domain.kernel.tool_calls import ToolErrorType
from domain.tools.model import ToolCall, ToolDefinition, ToolFailure
from infra.tools.executors.python_worker import ToolFunction, resolve_function
from infra.tools.executors.python_worker_process import Slot, WorkerGone, WorkerProcess, WorkerSpec, stop_all

__all__ = ["PythonToolExecutor", "ToolFunction", "resolve_function"]

DEFAULT_MEMORY_LIMIT_MB = 1024


class _Reply(msgspec.Struct):
    ok: bool
    result: Any = None
    error: str = ""


_decode_reply = msgspec.json.Decoder(_Reply).decode


def dotted_path(function: ToolFunction) -> str:
    path = f"{function.__module__}.{function.__name__}"
    if resolve_function(path, [function.__module__]) is not function:
        raise ValueError(f"{function!r} is not reachable by its dotted path {path!r}")
    return path


class PythonToolExecutor:
    def __init__(self, functions: Mapping[str, ToolFunction], max_workers: int = 4, *,
                 allowed_modules: Iterable[str] | None = None,
                 memory_limit_mb: int | None = DEFAULT_MEMORY_LIMIT_MB) -> None:
        paths = {tool_id: dotted_path(function) for tool_id, function in functions.items()}
        modules = list(allowed_modules) if allowed_modules is not None else sorted({f.__module__ for f in functions.values()})
        self._spec = WorkerSpec(paths, modules, memory_limit_mb)
        self._lock = threading.Lock()
        self._workers: dict[int, WorkerProcess] = {}  # every live worker by PID, idle or busy
        self._idle = [Slot() for _ in range(max_workers)]
        self._closed = False
        self._threads = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="python-tool")
        self._stop = weakref.finalize(self, stop_all, self._workers, 0.0)  # an executor never closed
        for slot in self._idle if paths else []:
            slot.put(self._spawn())

    def worker_pids(self) -> list[int]:
        with self._lock:
            return sorted(self._workers)

    async def execute(self, tool: ToolDefinition, call: ToolCall, attempts: int) -> Any:
        # `attempts` is ignored: a Python function has no transient network failure worth repeating.
        if tool.id not in self._spec.functions:
            raise ToolFailure(ToolErrorType.NOT_CONFIGURED, f"{tool.id} is not a registered Python function")
        request = msgspec.json.encode({"tool": tool.id, "args": call.args, "cpu_s": tool.timeout_s})
        slot, taken = self._checkout()
        exchange = asyncio.wrap_future(self._threads.submit(self._exchange, slot, request))
        try:
            done, _ = await asyncio.wait({exchange}, timeout=tool.timeout_s)
        except asyncio.CancelledError:
            slot.give_up(taken)  # nobody waits for the answer any more; the exchange thread replaces the worker
            raise
        if not done:
            slot.give_up(taken)
            await exchange  # the worker is replaced before the slot frees: milliseconds
            raise ToolFailure(ToolErrorType.TIMEOUT, f"{tool.id} did not finish within {tool.timeout_s:g}s")
        reply = exchange.result()
        if isinstance(reply, WorkerGone):
            raise ToolFailure(ToolErrorType.TOOL_ERROR, str(reply))
        if not reply.ok:
            raise ToolFailure(ToolErrorType.TOOL_ERROR, reply.error)
        return reply.result

    def _checkout(self) -> tuple[Slot, object]:
        with self._lock:
            if self._closed:
                raise ToolFailure(ToolErrorType.NOT_CONFIGURED, "the Python tool executor is closed")
            if not self._idle:
                raise ToolFailure(ToolErrorType.BUSY, "every Python tool worker is busy with other calls; try later")
            slot = self._idle.pop()
        return slot, slot.take()

    def _exchange(self, slot: Slot, request: bytes) -> _Reply | WorkerGone:
        """In a pool thread: one call in `slot`; a worker that ended is replaced before the slot frees."""
        try:
            worker = self._ready(slot)
            answer = worker.call(request)
            try:
                return _decode_reply(answer)
            except msgspec.DecodeError:
                worker.kill()
                return WorkerGone("the Python worker answered outside its protocol and was replaced")
        except WorkerGone as gone:
            return gone
        except OSError as exc:
            return WorkerGone(f"no Python worker could start: {exc}")
        finally:
            slot.release()
            try:
                self._ready(slot)
            except (OSError, WorkerGone):
                pass  # the next call in this slot tries again (or the executor is closed)
            with self._lock:
                self._idle.append(slot)

    def _ready(self, slot: Slot) -> WorkerProcess:
        """The slot's worker, replaced first when it has ended (a kill, a limit, a crash, or none yet)."""
        worker = slot.worker
        if worker is not None and worker.alive():
            return worker
        if worker is not None:
            worker.stop(0)
            with self._lock:
                self._workers.pop(worker.pid, None)
        slot.worker = None
        fresh = self._spawn()
        slot.put(fresh)
        return fresh

    def _spawn(self) -> WorkerProcess:
        with self._lock:
            closed = self._closed
        if not closed:
            worker = WorkerProcess(self._spec)
            with self._lock:
                if not self._closed:
                    self._workers[worker.pid] = worker
                    return worker
            worker.stop(0)
        raise WorkerGone("the Python tool executor is closed")

    def close(self, grace_s: float = 1.0) -> None:
        """Stops every worker: idle ones leave when their stdin closes; one still in a call is killed."""
        with self._lock:
            self._closed = True
            idle = {id(slot.worker) for slot in self._idle}
        for worker in list(self._workers.values()):
            if id(worker) not in idle:
                worker.kill()
        stop_all(self._workers, grace_s)
        with self._lock:
            self._workers.clear()
        self._stop.detach()
        self._threads.shutdown(wait=False, cancel_futures=True)
