"""ToolExecutor: FakeExecutor, PythonToolExecutor and HttpToolExecutor answer, time out and fail alike.

Each world offers three calls: one its tool answers, one that runs past the tool's timeout and one the tool
fails, with the answer or the error type each must end in. Python tools are functions registered by dotted
path (tests/tool_functions); HTTP tools call the local upstream of tests/tool_upstream.py. The fake is told
its behaviour per call, so for it the suite checks how a result, a delay and a failure come out.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pytest

from domain.kernel.tool_calls import ToolErrorType
from domain.tools.model import ToolCall, ToolDefinition, ToolFailure
from domain.tools.ports import ToolExecutor
from infra.tools.executors.http_executor import HttpToolExecutor
from infra.tools.executors.http_request import HttpTarget, origin_of
from infra.tools.executors.python_executor import PythonToolExecutor, resolve_function
from infra.tools.ssrf import InternalOrigin, OutboundClients
from tests.fakes.tools import FakeExecutor
from tests.support import serve_in_thread
from tests.tool_upstream import Upstream

TIMEOUT_S = 0.2


@dataclass
class Case:
    tool: ToolDefinition
    outcome: Any  # what the call returns, or the ToolErrorType it fails with
    args: dict[str, Any] = field(default_factory=dict)

    def call(self) -> ToolCall:
        return ToolCall("req_contract", self.tool.id, "agent:contract", self.args, "microdao:contract")


@dataclass
class Tools:
    executor_for: Callable[[Case], ToolExecutor]
    answers: Case
    overruns: Case
    fails: Case

    async def execute(self, case: Case) -> Any:
        return await self.executor_for(case).execute(case.tool, case.call(), attempts=1)


def tool(tool_id: str, executor: str, timeout_s: float = 2.0) -> ToolDefinition:
    return ToolDefinition(tool_id, "a contract tool", {"type": "object"}, executor, timeout_s=timeout_s)


def fake_tools() -> Tools:
    answers = Case(tool("fake.answer", "fake"), {"ok": True, "items": [1, "two", None]})
    overruns = Case(tool("fake.slow", "fake", TIMEOUT_S), ToolErrorType.TIMEOUT)
    fails = Case(tool("fake.divide", "fake"), ToolErrorType.TOOL_ERROR)
    executors = {
        answers.tool.id: FakeExecutor(answers.outcome),
        overruns.tool.id: FakeExecutor({"late": True}, delay_s=0.6),
        fails.tool.id: FakeExecutor(failure=ToolFailure(fails.outcome, "ZeroDivisionError: division by zero")),
    }
    return Tools(lambda case: executors[case.tool.id], answers, overruns, fails)


@pytest.fixture(name="python_tools")
def python_tools_fixture() -> Iterator[Tools]:
    sample = "tests.tool_functions.samples."
    executor = PythonToolExecutor({
        "py.divide": resolve_function(sample + "divide", ["tests.tool_functions"]),
        "py.nap": resolve_function(sample + "nap", ["tests.tool_functions"]),
    })
    yield Tools(lambda case: executor, Case(tool("py.divide", "python"), 1.5, {"a": 6, "b": 4}),
                Case(tool("py.nap", "python", TIMEOUT_S), ToolErrorType.TIMEOUT, {"seconds": 0.6}),
                Case(tool("py.divide", "python"), ToolErrorType.TOOL_ERROR, {"a": 1, "b": 0}))
    executor.close()


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with serve_in_thread(Upstream()) as base:
        yield base


@pytest.fixture(name="http_tools")
async def http_tools_fixture(upstream: str) -> AsyncIterator[Tools]:
    paths = {"up.ok": ("/ok", {"q": "q"}), "up.slow": ("/slow?s=0.6", {}), "up.missing": ("/missing", {})}
    targets = {tool_id: HttpTarget("GET", upstream + path, origin_of(upstream), query, None, {}, [], False)
               for tool_id, (path, query) in paths.items()}
    clients = OutboundClients((80, 443), 3, [InternalOrigin(origin_of(upstream), [])])
    executor = HttpToolExecutor(targets, clients)
    yield Tools(lambda case: executor,
                Case(tool("up.ok", "http"), {"ok": True, "raw_path": "/ok", "query": {"q": "x"}}, {"q": "x"}),
                Case(tool("up.slow", "http", TIMEOUT_S), ToolErrorType.TIMEOUT),
                Case(tool("up.missing", "http"), ToolErrorType.UPSTREAM_REJECTED))
    await clients.aclose()


@pytest.fixture(params=["fake", "python", "http"], name="tools")
def tools_fixture(request: pytest.FixtureRequest) -> Tools:
    if request.param == "fake":
        return fake_tools()
    world: Tools = request.getfixturevalue(f"{request.param}_tools")
    return world


async def failure_of(tools: Tools, case: Case) -> ToolFailure:
    with pytest.raises(ToolFailure) as raised:
        await tools.execute(case)
    return raised.value


async def test_a_tool_that_answers_returns_its_result_as_json(tools: Tools) -> None:
    result = await tools.execute(tools.answers)
    assert result == tools.answers.outcome
    assert msgspec.json.decode(msgspec.json.encode(result)) == result


async def test_a_tool_that_runs_past_its_timeout_fails_as_a_timeout_when_the_timeout_ends(tools: Tools) -> None:
    started = time.monotonic()
    failure = await failure_of(tools, tools.overruns)
    assert failure.type == ToolErrorType.TIMEOUT and failure.message
    assert TIMEOUT_S * 0.9 <= time.monotonic() - started < TIMEOUT_S + 0.5


async def test_a_tool_that_fails_raises_a_tool_failure_of_its_error_type(tools: Tools) -> None:
    failure = await failure_of(tools, tools.fails)
    assert failure.type == tools.fails.outcome and failure.type in set(ToolErrorType)
    assert failure.message and failure.as_error().type == failure.type


async def test_a_call_that_timed_out_leaves_the_executor_answering_the_next_one(tools: Tools) -> None:
    await failure_of(tools, tools.overruns)
    assert await tools.execute(tools.answers) == tools.answers.outcome
