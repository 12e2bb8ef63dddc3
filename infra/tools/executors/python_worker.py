"""The Python tool worker: a child process that runs registered functions for PythonToolExecutor.

Started as `python -I -c <bootstrap> <sys.path as JSON>`; the first line on stdin names its tools
(`{"functions": {tool id: dotted path}, "allowed_modules": [...], "memory_limit_mb": n | null}`), each
resolved here again by `resolve_function`, so a worker can only ever run what it was started with.
Then one JSON line per call, `{"tool": id, "args": {...}, "cpu_s": seconds}`, answered by one JSON line,
`{"ok": true, "result": ...}` or `{"ok": false, "error": "TypeName: message"}`.

Limits are the kernel's, so they hold even when the parent cannot act: before each call the CPU soft
limit (RLIMIT_CPU) is set a little past the call's timeout, so a runaway function is stopped by SIGXCPU
even if the parent is stuck or gone; RLIMIT_AS turns a runaway allocation into a MemoryError. The
protocol keeps private copies of fds 0 and 1: a function that prints writes to stderr, and one that
reads stdin reads nothing. The worker ignores SIGINT (its parent decides when it stops) and leaves when
stdin closes.
"""

from __future__ import annotations

import importlib
import inspect
import math
import os
import resource
import signal
import sys
from collections.abc import Callable, Iterable
from typing import IO, Any

import msgspec

ToolFunction = Callable[..., Any]

_encode = msgspec.json.encode


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


class Startup(msgspec.Struct, forbid_unknown_fields=True):
    functions: dict[str, str]
    allowed_modules: list[str]
    memory_limit_mb: int | None = None


class Request(msgspec.Struct, forbid_unknown_fields=True):
    tool: str
    args: dict[str, Any]
    cpu_s: float


def _answer(function: ToolFunction, request: Request) -> bytes:
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu_limit = int(used.ru_utime + used.ru_stime) + math.ceil(request.cpu_s) + 1
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    if hard != resource.RLIM_INFINITY:
        cpu_limit = min(cpu_limit, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_limit, hard))
    try:
        result = function(**request.args)
    except BaseException as exc:  # noqa: BLE001 - even SystemExit of a tool function is only its error
        detail = str(exc) or ("over the worker's memory limit" if isinstance(exc, MemoryError) else "")
        return _encode({"ok": False, "error": f"{type(exc).__name__}: {detail}"})
    try:
        return _encode({"ok": True, "result": result})
    except (TypeError, ValueError, OverflowError) as exc:
        return _encode({"ok": False, "error": f"TypeError: the result is not JSON-compatible ({exc})"})


def serve(requests: IO[bytes], replies: IO[bytes]) -> None:
    startup = msgspec.json.decode(requests.readline(), type=Startup)
    functions = {tool: resolve_function(path, startup.allowed_modules) for tool, path in startup.functions.items()}
    if startup.memory_limit_mb is not None:
        limit = startup.memory_limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    decode = msgspec.json.Decoder(Request).decode
    for line in requests:
        request = decode(line)
        replies.write(_answer(functions[request.tool], request) + b"\n")
        replies.flush()


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # SIGXCPU would otherwise dump a core
    requests, replies = os.fdopen(os.dup(0), "rb"), os.fdopen(os.dup(1), "wb")
    with open(os.devnull, "rb") as nothing:
        os.dup2(nothing.fileno(), 0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    serve(requests, replies)
