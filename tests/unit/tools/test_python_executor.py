"""PythonToolExecutor: registered functions only, in worker processes, bounded by the tool's timeout."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from domain.tools.model import ToolCall, ToolDefinition, ToolFailure
from infra.tools.executors.python_executor import PythonToolExecutor, resolve_function

ALLOWED = ["tests.tool_functions", "infra.tools.python_functions"]
FUNCTIONS = {
    "nap": "tests.tool_functions.samples.nap",
    "divide": "tests.tool_functions.samples.divide",
    "spin": "tests.tool_functions.burners.spin",
    "pid": "tests.tool_functions.burners.worker_pid",
    "hoard": "tests.tool_functions.burners.hoard",
    "vanish": "tests.tool_functions.burners.vanish",
    "shout": "tests.tool_functions.burners.shout",
    "env": "tests.tool_functions.burners.environment",
    "math.eval": "infra.tools.python_functions.arithmetic.evaluate",
}

MakeExecutor = Callable[..., PythonToolExecutor]


def python_tool(tool_id: str, timeout_s: float = 1.0) -> ToolDefinition:
    return ToolDefinition(tool_id, "t", {"type": "object"}, "python", timeout_s=timeout_s)


def call(tool_id: str, **args: Any) -> ToolCall:
    return ToolCall("req_1", tool_id, "agent:sofia", args, "microdao:7")


async def run(executor: PythonToolExecutor, tool_id: str, timeout_s: float = 1.0, **args: Any) -> Any:
    return await executor.execute(python_tool(tool_id, timeout_s), call(tool_id, **args), attempts=1)


async def failure(executor: PythonToolExecutor, tool_id: str, timeout_s: float = 1.0, **args: Any) -> ToolFailure:
    with pytest.raises(ToolFailure) as raised:
        await run(executor, tool_id, timeout_s, **args)
    return raised.value


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture(name="make_executor")
def make_executor_fixture() -> Iterator[MakeExecutor]:
    made: list[PythonToolExecutor] = []

    def make(max_workers: int = 4, **options: Any) -> PythonToolExecutor:
        functions = {tool_id: resolve_function(path, ALLOWED) for tool_id, path in FUNCTIONS.items()}
        made.append(PythonToolExecutor(functions, max_workers=max_workers, allowed_modules=ALLOWED, **options))
        return made[-1]

    yield make
    for executor in made:
        executor.close()


async def test_a_function_that_overruns_its_timeout_is_a_timeout_and_the_loop_stays_free(
        make_executor: MakeExecutor) -> None:
    executor = make_executor()
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    background = asyncio.create_task(ticker())
    started = time.monotonic()
    timed_out = await failure(executor, "nap", timeout_s=0.2, seconds=1.0)
    background.cancel()
    assert timed_out.type == "timeout"
    assert time.monotonic() - started < 0.6
    assert ticks >= 10  # the event loop kept running while the function slept


async def test_an_exception_becomes_a_tool_error_named_by_its_type(make_executor: MakeExecutor) -> None:
    divided = await failure(make_executor(), "divide", a=1, b=0)
    assert divided.type == "tool_error"
    assert divided.message.startswith("ZeroDivisionError")


async def test_while_every_worker_is_in_a_call_new_calls_fail_fast_as_busy(make_executor: MakeExecutor) -> None:
    # A timed-out call no longer holds its worker (it is killed and replaced), so `busy` now means
    # "every worker is running a call", not "every worker is stuck in an abandoned one".
    executor = make_executor(max_workers=1)
    napping = asyncio.create_task(run(executor, "nap", seconds=0.3))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    refused = await failure(executor, "divide", a=1, b=2)
    assert refused.type == "busy" and time.monotonic() - started < 0.1
    assert await napping == {"slept": 0.3}
    assert await run(executor, "divide", a=1, b=2) == 0.5


async def test_a_function_burning_cpu_forever_is_killed_at_its_timeout_and_its_worker_replaced(
        make_executor: MakeExecutor) -> None:
    executor = make_executor(max_workers=1)
    [before] = executor.worker_pids()
    started = time.monotonic()
    timed_out = await failure(executor, "spin", timeout_s=0.3)
    assert timed_out.type == "timeout" and 0.3 <= time.monotonic() - started < 0.7
    assert gone(before)
    [after] = executor.worker_pids()
    assert after != before and await run(executor, "pid") == after
    assert await run(executor, "divide", a=6, b=4) == 1.5


@pytest.mark.parametrize("expression", ["round(1, -10**9)", "round(1, 16)", "round(1, 0.5)", "(10**299)**1000",
                                        "9**9**9", "2**1000"])
async def test_math_eval_refuses_runaway_work_quickly_with_a_validation_error(
        make_executor: MakeExecutor, expression: str) -> None:
    executor = make_executor(max_workers=1)
    started = time.monotonic()
    refused = await failure(executor, "math.eval", expression=expression)
    assert refused.type == "tool_error" and refused.message.split(":")[0] in {"ValueError", "OverflowError"}
    assert time.monotonic() - started < 0.5
    assert (await run(executor, "math.eval", expression="round(2.675, 2) + 1"))["value"] == 3.67


async def test_workers_start_with_the_executor_and_serve_call_after_call(make_executor: MakeExecutor) -> None:
    executor = make_executor(max_workers=2)
    pids = executor.worker_pids()
    served = {await run(executor, "pid") for _ in range(20)}
    assert len(pids) == 2 and served <= set(pids) and executor.worker_pids() == pids


async def test_a_worker_over_its_memory_limit_raises_memory_error_and_keeps_serving(
        make_executor: MakeExecutor) -> None:
    executor = make_executor(max_workers=1, memory_limit_mb=256)
    [pid] = executor.worker_pids()
    hoarded = await failure(executor, "hoard", megabytes=512)
    assert hoarded.type == "tool_error" and hoarded.message.startswith("MemoryError")
    assert await run(executor, "hoard", megabytes=16) == 16 * 1024 * 1024
    assert executor.worker_pids() == [pid]


async def test_a_worker_that_dies_mid_call_is_a_tool_error_and_is_replaced(make_executor: MakeExecutor) -> None:
    executor = make_executor(max_workers=1)
    died = await failure(executor, "vanish", status=7)
    assert died.type == "tool_error" and "status 7" in died.message
    assert await run(executor, "divide", a=1, b=4) == 0.25


async def test_prints_stay_off_the_protocol_and_service_secrets_stay_out_of_the_worker(
        make_executor: MakeExecutor, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://owner:secret@127.0.0.1/daarion")
    executor = make_executor(max_workers=1)
    assert await run(executor, "shout", text="hello") == "HELLO"
    assert await run(executor, "env", name="DATABASE_URL") is None


async def test_close_stops_every_worker_including_one_in_a_call(make_executor: MakeExecutor) -> None:
    executor = make_executor(max_workers=2)
    pids = executor.worker_pids()
    spinning = asyncio.create_task(run(executor, "spin", timeout_s=30))
    await asyncio.sleep(0.2)
    started = time.monotonic()
    executor.close()
    assert time.monotonic() - started < 1.0
    assert all(gone(pid) for pid in pids) and executor.worker_pids() == []
    with pytest.raises(ToolFailure) as raised:
        await asyncio.wait_for(spinning, timeout=2)
    assert raised.value.type == "tool_error"  # its worker ended under it
    closed = await failure(executor, "divide", a=1, b=2)
    assert closed.type == "not_configured"


def test_only_functions_inside_the_allowed_modules_resolve() -> None:
    for dotted in ("os.system", "builtins.eval", "tests.tool_functions.samples.time", "tests.tool_functions._x"):
        with pytest.raises(ValueError):
            resolve_function(dotted, ["tests.tool_functions"])
