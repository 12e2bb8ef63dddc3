"""PythonToolExecutor: runs functions registered by dotted path in config, never code from arguments.

A function is looked up once at load, only inside the configured module prefixes, and must be a plain
function defined in the module named (a re-exported `subprocess.run` does not qualify). Calls run in a
bounded thread pool so a slow function never blocks the event loop; the tool's timeout ends the wait.
A thread cannot be killed, so a timed-out function keeps its worker until it returns: while every
worker is held that way, calls fail fast as `busy` instead of queueing behind them.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from domain.kernel.tool_calls import ToolErrorType
from domain.tools.model import ToolCall, ToolDefinition, ToolFailure

ToolFunction = Callable[..., Any]


def resolve_function(dotted: str, allowed_modules: Iterable[str]) -> ToolFunction:
    """The function at `package.module.function`; ValueError naming the reason when it is not allowed."""
    module_name, _, attribute = dotted.rpartition(".")
    if not module_name or not attribute.isidentifier() or attribute.startswith("_"):
        raise ValueError(f"{dotted!r} is not a dotted path to a public function")
    if not any(module_name == allowed or module_name.startswith(allowed + ".") for allowed in allowed_modules):
        raise ValueError(f"{dotted!r} is outside python.allowed_modules {sorted(allowed_modules)}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"module {module_name!r} cannot be imported: {exc}") from None
    function = getattr(module, attribute, None)
    if not inspect.isfunction(function) or function.__module__ != module.__name__:
        raise ValueError(f"{dotted!r} is not a function defined in {module_name}")
    return function


class PythonToolExecutor:
    def __init__(self, functions: Mapping[str, ToolFunction], max_workers: int = 4) -> None:
        self._functions = functions
        self._max_workers = max_workers
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="python-tool")
        self._running = 0
        self._lock = threading.Lock()

    async def execute(self, tool: ToolDefinition, call: ToolCall, attempts: int) -> Any:
        # `attempts` is ignored: a Python function has no transient network failure worth repeating.
        function = self._functions[tool.id]
        with self._lock:
            if self._running >= self._max_workers:
                raise ToolFailure(ToolErrorType.BUSY, "every Python tool worker is still busy with earlier calls; try later")
            self._running += 1
        work = self._pool.submit(functools.partial(function, **call.args))
        work.add_done_callback(self._finished)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(work), timeout=tool.timeout_s)
        except TimeoutError:
            raise ToolFailure(ToolErrorType.TIMEOUT, f"{tool.id} did not finish within {tool.timeout_s:g}s") from None
        except ToolFailure:
            raise
        except Exception as exc:  # noqa: BLE001 - any exception of a tool function is the tool's error
            raise ToolFailure(ToolErrorType.TOOL_ERROR, f"{type(exc).__name__}: {exc}") from None

    def _finished(self, _: Future[Any]) -> None:
        with self._lock:
            self._running -= 1

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
