"""Identity arguments: a tool argument that names the caller may only repeat the authenticated caller; it is
filled in when left out, hidden from listings, and a forged one is refused and recorded before anything runs."""

from __future__ import annotations

from typing import Any

import pytest

from domain.kernel.errors import IdentityMismatch
from domain.tools.identity import as_listed, bind_identity
from domain.tools.model import ToolCall, ToolDefinition
from domain.tools.permissions import Grant, PermissionPolicy
from domain.tools.records import CallRecords
from domain.tools.service import ToolService
from tests.fakes.clock import FakeClock
from tests.fakes.ledger import FakeRecorder
from tests.fakes.tools import FakeExecutor, FakeIdempotencyStore, FakeRegistry, FakeToolMetrics, FakeValidator

SCHEMA = {"type": "object", "properties": {"microdao_id": {"type": "string"}, "owner": {"type": "string"},
                                           "project_id": {"type": "string"}},
          "required": ["microdao_id", "project_id"]}
PROJECTS = ToolDefinition("projects.list", "projects", SCHEMA, "http",
                          identity_args={"microdao_id": "microdao", "owner": "agent"})
GRANT = Grant(("projects.*",), agent="agent:sofia", microdao="microdao:7")


def call(args: dict[str, Any], key: str | None = None) -> ToolCall:
    return ToolCall("req_1", "projects.list", "agent:sofia", args, "microdao:7", key)


def test_omitted_identity_arguments_are_filled_from_the_caller() -> None:
    bound = bind_identity(PROJECTS, call({"project_id": "p1"}))
    assert bound.args == {"project_id": "p1", "microdao_id": "microdao:7", "owner": "agent:sofia"}


def test_identity_arguments_that_repeat_the_caller_pass() -> None:
    args = {"project_id": "p1", "microdao_id": "microdao:7", "owner": "agent:sofia"}
    assert bind_identity(PROJECTS, call(args)).args == args


@pytest.mark.parametrize("forged", [{"microdao_id": "microdao:12"}, {"owner": "agent:mallory"}])
def test_an_identity_argument_naming_someone_else_is_an_identity_mismatch(forged: dict[str, str]) -> None:
    with pytest.raises(IdentityMismatch):
        bind_identity(PROJECTS, call({"project_id": "p1", **forged}))


def test_listings_leave_identity_arguments_out_of_the_schema() -> None:
    listed = as_listed(PROJECTS)
    assert set(listed.input_schema["properties"]) == {"project_id"}
    assert listed.input_schema["required"] == ["project_id"]
    assert PROJECTS.input_schema["required"] == ["microdao_id", "project_id"]  # the registry's copy is untouched


def service(executor: FakeExecutor, recorder: FakeRecorder, store: FakeIdempotencyStore | None = None) -> ToolService:
    records = CallRecords(recorder, FakeToolMetrics(), wait_for_outcomes=True)
    return ToolService(FakeRegistry([PROJECTS]), PermissionPolicy([GRANT]), FakeValidator(), {"http": executor},
                       store or FakeIdempotencyStore(), records, FakeClock())


async def test_a_forged_identity_argument_is_recorded_as_denied_and_never_runs() -> None:
    executor, recorder = FakeExecutor({"projects": []}), FakeRecorder()
    with pytest.raises(IdentityMismatch):
        await service(executor, recorder).call(call({"project_id": "p1", "microdao_id": "microdao:12"}))
    assert executor.calls == []
    [event] = recorder.events
    assert (event.status, event.error_type, event.microdao_id) == ("denied", "identity_mismatch", "microdao:7")


async def test_the_executor_gets_the_filled_in_arguments_and_the_ledger_what_was_sent() -> None:
    executor, recorder = FakeExecutor({"projects": []}), FakeRecorder()
    await service(executor, recorder).call(call({"project_id": "p1"}))  # valid only once filled in
    [(_, ran, _)] = executor.calls
    assert ran.args["microdao_id"] == "microdao:7"
    assert recorder.events[0].argument_bytes == len(b'{"project_id":"p1"}')


async def test_a_keyed_repeat_that_leaves_out_an_identity_argument_is_the_same_call() -> None:
    executor, recorder, store = FakeExecutor({"projects": []}), FakeRecorder(), FakeIdempotencyStore()
    tools = service(executor, recorder, store)
    await tools.call(call({"project_id": "p1", "microdao_id": "microdao:7"}, key="k-1"))
    again = await tools.call(call({"project_id": "p1"}, key="k-1"))
    assert again.replayed is True and len(executor.calls) == 1
    assert list(store.rows) == [("microdao:7", "agent:sofia", "k-1")]
