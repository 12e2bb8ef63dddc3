"""Python tools cannot freeze Toolcore: runaway work is refused, killed, or stopped by the kernel's limits.

Everything here is real: worker processes, a parent process killed with SIGKILL, and Toolcore over HTTP
with a tool that burns CPU forever (added to the shared stack's config by the fixture below).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.tools.executors.python_worker_process import WorkerGone, WorkerProcess, WorkerSpec
from tests.integration.tools import toolcore_stack
from tests.integration.tools.toolcore_stack import Stack, stack_fixture  # noqa: F401 - the `stack` fixture
from tests.support import REPO, wait_until

SOFIA = {"agent_id": "agent:sofia", "microdao_id": "microdao:7"}
BURNER = {"id": "burn.spin", "description": "burns CPU until stopped", "executor": "python", "timeout_s": 2.0,
          "input_schema": {"type": "object"}, "python": {"function": "tests.tool_functions.burners.spin"}}


@pytest.fixture(scope="module", autouse=True)
def burner_in_the_stack() -> Iterator[None]:
    """Autouse, so it runs before the module's `stack` is built from `stack_config`."""
    shared = toolcore_stack.stack_config

    def with_burner(upstream_base: str) -> dict[str, Any]:
        config = shared(upstream_base)
        config["tools"].append(BURNER)
        config["permissions"].append({"agent": "agent:sofia", "allow": ["burn.*"]})
        return config

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(toolcore_stack, "stack_config", with_burner)
        yield


def post(stack: Stack, tool_id: str, args: dict[str, Any] | None = None) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    response = httpx.post(f"{stack.toolcore}/internal/tools/call", headers=stack.headers(), timeout=15,
                          json={"tool_id": tool_id, "args": args or {}, **SOFIA})
    return response.json(), time.monotonic() - started


def gone(pid: int) -> bool:
    """No such process, or only its zombie (a container's PID 1 may never reap it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


def test_a_cpu_burning_python_tool_leaves_toolcore_answering_other_calls(stack: Stack) -> None:
    with ThreadPoolExecutor(1) as background:
        burning = background.submit(post, stack, "burn.spin")
        time.sleep(0.5)
        for tool_id, args in (("time.now", {}), ("projects.list", {}), ("math.eval", {"expression": "6 * 7"})):
            body, took = post(stack, tool_id, args)
            assert body["ok"] is True and took < 1.0, (tool_id, body, took)
        spun, took = burning.result(timeout=15)
    assert spun["error"]["type"] == "timeout" and 2.0 <= took < 3.0
    again, _ = post(stack, "math.eval", {"expression": "2 + 2 * 10"})
    assert again["result"]["value"] == 22


def test_math_eval_with_a_giant_round_is_a_quick_validation_error_over_http(stack: Stack) -> None:
    body, took = post(stack, "math.eval", {"expression": "round(1, -10**9)"})
    assert body["ok"] is False and body["error"]["type"] == "tool_error"
    assert body["error"]["message"].startswith("ValueError: round() takes ndigits") and took < 0.5


def test_the_cpu_limit_stops_a_spinning_function_even_when_the_parent_never_kills_it() -> None:
    worker = WorkerProcess(WorkerSpec({"spin": "tests.tool_functions.burners.spin"}, ["tests.tool_functions"], None))
    started = time.monotonic()
    try:
        with pytest.raises(WorkerGone, match="CPU time limit"):
            worker.call(json.dumps({"tool": "spin", "args": {}, "cpu_s": 0.5}).encode())
    finally:
        worker.stop(0)
    assert time.monotonic() - started < 10  # about 2 CPU seconds: the call's 0.5 s rounded up, plus one


PARENT = """
import asyncio, json
from domain.tools.model import ToolCall, ToolDefinition
from infra.tools.executors.python_executor import PythonToolExecutor
from tests.tool_functions import burners

executor = PythonToolExecutor({"spin": burners.spin}, max_workers=2)
print(json.dumps(executor.worker_pids()), flush=True)
tool = ToolDefinition("spin", "t", {"type": "object"}, "python", timeout_s=1.0)
asyncio.run(executor.execute(tool, ToolCall("req_1", "spin", "agent:x", {}, "microdao:7"), 1))
"""


def test_workers_of_a_parent_killed_outright_leave_by_themselves() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], cwd=REPO, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert parent.stdout is not None
        pids = json.loads(parent.stdout.readline())
        time.sleep(0.3)  # one worker is spinning now
        os.kill(parent.pid, signal.SIGKILL)
    finally:
        parent.wait()
    wait_until(lambda: sum(gone(pid) for pid in pids) >= 1, timeout=1.0)  # the idle one: its stdin closed
    wait_until(lambda: all(gone(pid) for pid in pids), timeout=10.0)  # the spinning one: its CPU limit
