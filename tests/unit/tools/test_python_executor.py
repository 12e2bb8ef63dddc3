"""PythonToolExecutor: registered functions only, off the event loop, bounded by the tool's timeout."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from domain.tools.model import ToolCall, ToolDefinition, ToolFailure
from infra.tools.executors.python_executor import PythonToolExecutor, resolve_function

ALLOWED = ["tests.tool_functions"]


def python_tool(tool_id: str, timeout_s: float = 1.0) -> ToolDefinition:
    return ToolDefinition(tool_id, "t", {"type": "object"}, "python", timeout_s=timeout_s)


def call(tool_id: str, **args: Any) -> ToolCall:
    return ToolCall("req_1", tool_id, "agent:sofia", args, "microdao:7")


def make_executor(max_workers: int = 4) -> PythonToolExecutor:
    return PythonToolExecutor({
        "nap": resolve_function("tests.tool_functions.samples.nap", ALLOWED),
        "divide": resolve_function("tests.tool_functions.samples.divide", ALLOWED),
    }, max_workers=max_workers)


async def test_a_function_that_overruns_its_timeout_is_a_timeout_and_the_loop_stays_free() -> None:
    executor = make_executor()
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    background = asyncio.create_task(ticker())
    started = time.monotonic()
    with pytest.raises(ToolFailure) as raised:
        await executor.execute(python_tool("nap", timeout_s=0.2), call("nap", seconds=1.0), attempts=1)
    background.cancel()
    assert raised.value.type == "timeout"
    assert time.monotonic() - started < 0.6
    assert ticks >= 10  # the event loop kept running while the function slept


async def test_an_exception_becomes_a_tool_error_named_by_its_type() -> None:
    with pytest.raises(ToolFailure) as raised:
        await make_executor().execute(python_tool("divide"), call("divide", a=1, b=0), attempts=1)
    assert raised.value.type == "tool_error"
    assert raised.value.message.startswith("ZeroDivisionError")


async def test_when_every_worker_is_held_by_overrunning_calls_new_calls_fail_fast_as_busy() -> None:
    executor = make_executor(max_workers=1)
    with pytest.raises(ToolFailure):
        await executor.execute(python_tool("nap", timeout_s=0.05), call("nap", seconds=0.5), attempts=1)
    with pytest.raises(ToolFailure) as raised:
        await executor.execute(python_tool("divide"), call("divide", a=1, b=2), attempts=1)
    assert raised.value.type == "busy"
    await asyncio.sleep(0.6)
    assert await executor.execute(python_tool("divide"), call("divide", a=1, b=2), attempts=1) == 0.5


def test_only_functions_inside_the_allowed_modules_resolve() -> None:
    for dotted in ("os.system", "builtins.eval", "tests.tool_functions.samples.time", "tests.tool_functions._x"):
        with pytest.raises(ValueError):
            resolve_function(dotted, ALLOWED)
