"""ToolService against fakes: the order of checks, what is recorded, what may retry, idempotency keys."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from domain.kernel.errors import ArgumentsInvalid, Conflict, NotFound, PermissionDenied
from domain.kernel.tool_calls import ToolErrorType
from domain.tools.model import ToolCall, ToolFailure
from domain.tools.permissions import Grant, PermissionPolicy
from domain.tools.records import CallRecords
from domain.tools.service import ToolService
from tests.fakes.clock import FakeClock
from tests.fakes.ledger import FakeRecorder
from tests.fakes.tools import FakeExecutor, FakeIdempotencyStore, FakeRegistry, FakeToolMetrics, FakeValidator
from tests.unit.tools.sample_tools import CREATE, SOFIA, TASKS


def service(executor: FakeExecutor, recorder: FakeRecorder, grants: list[Grant] | None = None) -> ToolService:
    records = CallRecords(recorder, FakeToolMetrics(), wait_for_outcomes=True)
    return ToolService(FakeRegistry([TASKS, CREATE]), PermissionPolicy(grants or [SOFIA]), FakeValidator(),
                       {"http": executor}, FakeIdempotencyStore(), records, FakeClock())


def call(tool_id: str, args: dict[str, Any] | None = None, agent: str = "agent:sofia",
         microdao: str | None = "microdao:7", key: str | None = None) -> ToolCall:
    return ToolCall("req_1", tool_id, agent, {"project_id": "p1"} if args is None else args, microdao, key)


async def test_a_denied_call_is_recorded_and_never_reaches_the_executor() -> None:
    executor, recorder = FakeExecutor({"tasks": []}), FakeRecorder()
    with pytest.raises(PermissionDenied):
        await service(executor, recorder).call(call("tasks.list", agent="agent:mallory"))
    assert executor.calls == []
    [event] = recorder.events
    assert (event.status, event.error_type, event.agent_id) == ("denied", "permission_denied", "agent:mallory")


async def test_invalid_arguments_are_a_422_with_paths_and_are_recorded_as_invalid() -> None:
    executor, recorder = FakeExecutor(), FakeRecorder()
    with pytest.raises(ArgumentsInvalid) as raised:
        await service(executor, recorder).call(call("tasks.list", args={}))
    assert raised.value.errors[0]["path"] == "$"
    assert executor.calls == []
    assert recorder.events[0].status == "invalid"


async def test_an_unknown_tool_inside_an_allowed_glob_is_not_found() -> None:
    recorder = FakeRecorder()
    with pytest.raises(NotFound):
        await service(FakeExecutor(), recorder).call(call("tasks.delete"))
    assert recorder.events[0].error_type == "unknown_tool"


async def test_arguments_are_logged_only_for_tools_marked_safe_to_log() -> None:
    recorder = FakeRecorder()
    svc = service(FakeExecutor({"ok": 1}), recorder)
    await svc.call(call("tasks.list"))
    await svc.call(call("task.create"))
    logged, hidden = recorder.events
    assert logged.arguments == '{"project_id":"p1"}' and logged.argument_bytes == 19
    assert hidden.arguments is None and hidden.argument_bytes == 19


async def test_only_idempotent_tools_or_keyed_calls_get_more_than_one_attempt() -> None:
    executor = FakeExecutor({"ok": 1})
    svc = service(executor, FakeRecorder())
    await svc.call(call("tasks.list"))
    await svc.call(call("task.create"))
    await svc.call(call("task.create", key="k1"))
    assert [attempts for _, _, attempts in executor.calls] == [3, 1, 3]


async def test_a_tool_failure_is_an_outcome_the_agent_reads_not_an_exception() -> None:
    recorder = FakeRecorder()
    outcome = await service(FakeExecutor(failure=ToolFailure("timeout", "slow")), recorder).call(call("tasks.list"))
    assert not outcome.ok and outcome.error is not None and outcome.error.type == "timeout"
    assert (recorder.events[0].status, recorder.events[0].error_type) == ("failed", "timeout")


async def test_a_result_over_the_size_cap_becomes_result_too_large() -> None:
    outcome = await service(FakeExecutor({"blob": "x" * 100}), FakeRecorder()).call(call("task.create"))
    assert outcome.error is not None and outcome.error.type == ToolErrorType.RESULT_TOO_LARGE


async def test_a_repeated_idempotency_key_replays_the_first_outcome_without_running_again() -> None:
    executor, recorder = FakeExecutor({"id": "t1"}), FakeRecorder()
    svc = service(executor, recorder)
    first = await svc.call(call("task.create", key="k1"))
    executor.result = {"id": "t2"}
    again = await svc.call(call("task.create", key="k1"))
    assert len(executor.calls) == 1
    assert again.result == first.result == {"id": "t1"} and again.replayed
    assert [e.replayed for e in recorder.events] == [False, True]


async def test_by_default_an_outcome_does_not_wait_for_its_ledger_commit_but_drain_does() -> None:
    recorder = GatedRecorder()
    svc = ToolService(FakeRegistry([TASKS]), PermissionPolicy([SOFIA]), FakeValidator(), {"http": FakeExecutor(1)},
                      FakeIdempotencyStore(), CallRecords(recorder, FakeToolMetrics()), FakeClock())
    outcome = await asyncio.wait_for(svc.call(call("tasks.list")), timeout=1)
    assert outcome.ok and recorder.committed == []
    recorder.gate.set()
    await svc.drain()
    assert [e.status for e in recorder.committed] == ["succeeded"]


async def test_a_refusal_is_committed_before_the_caller_hears_of_it() -> None:
    recorder = GatedRecorder()
    svc = ToolService(FakeRegistry([TASKS]), PermissionPolicy([SOFIA]), FakeValidator(), {"http": FakeExecutor(1)},
                      FakeIdempotencyStore(), CallRecords(recorder, FakeToolMetrics()), FakeClock())
    refused = asyncio.ensure_future(svc.call(call("tasks.list", agent="agent:mallory")))
    await asyncio.sleep(0.05)
    assert not refused.done()  # held until the commit goes through
    recorder.gate.set()
    with pytest.raises(PermissionDenied):
        await refused


class GatedRecorder:
    """Commits only once `gate` is set, to show who waits for the ledger."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.committed: list[Any] = []

    async def record(self, entry: Any) -> int:
        await self.gate.wait()
        self.committed.extend(entry.collect_events())
        return len(self.committed)


async def test_a_transient_failure_does_not_spend_the_idempotency_key() -> None:
    executor, recorder = FakeExecutor(failure=ToolFailure("timeout", "slow")), FakeRecorder()
    svc = service(executor, recorder)
    first = await svc.call(call("task.create", key="k2"))
    executor.failure = None
    executor.result = {"id": "t9"}
    second = await svc.call(call("task.create", key="k2"))
    assert first.error is not None and second.result == {"id": "t9"} and not second.replayed
    assert len(executor.calls) == 2


async def test_a_key_reused_for_other_arguments_is_a_recorded_conflict() -> None:
    recorder = FakeRecorder()
    svc = service(FakeExecutor({"id": "t1"}), recorder)
    await svc.call(call("task.create", key="k3"))
    with pytest.raises(Conflict):
        await svc.call(call("task.create", args={"project_id": "other"}, key="k3"))
    assert (recorder.events[-1].status, recorder.events[-1].error_type) == ("invalid", "idempotency_conflict")
