"""The tool-call use case: permit -> bind identity -> validate -> (replay) -> execute -> check -> record.

The call's agent and microDAO are the authenticated caller's (the apps take them from the credential), so
grants are checked against who is really calling. Every call ends as exactly one `ToolInvoked` ledger
entry (see domain/tools/records.py for when it is committed): denied and invalid calls too, because a
call that should not happen is the one worth auditing. Nothing runs before the permission check, the
identity arguments' check (domain/tools/identity.py) and the schema check have passed.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping
from typing import Any

import msgspec

from domain.kernel.clock import Clock
from domain.kernel.errors import ArgumentsInvalid, Conflict, IdentityMismatch, NotFound, PermissionDenied
from domain.kernel.tool_calls import TRANSIENT, ToolCallStatus, ToolErrorType
from domain.tools.identity import as_listed, bind_identity
from domain.tools.model import ToolCall, ToolDefinition, ToolFailure, ToolOutcome
from domain.tools.permissions import PermissionPolicy
from domain.tools.ports import ArgumentValidator, IdempotencyStore, ToolExecutor, ToolRegistry
from domain.tools.records import CallRecords

_encode = msgspec.json.Encoder(order="sorted").encode


class ToolService:
    def __init__(
        self,
        registry: ToolRegistry,
        permissions: PermissionPolicy,
        validator: ArgumentValidator,
        executors: Mapping[str, ToolExecutor],
        idempotency: IdempotencyStore,
        records: CallRecords,
        clock: Clock,
    ) -> None:
        self._registry = registry
        self._permissions = permissions
        self._validator = validator
        self._executors = executors
        self._idempotency = idempotency
        self._records = records
        self._clock = clock

    def tools_for(self, agent_id: str, microdao_id: str | None) -> list[ToolDefinition]:
        tools = {tool.id: tool for tool in self._registry.all()}
        return [as_listed(tools[i]) for i in self._permissions.visible(agent_id, microdao_id, sorted(tools))]

    async def call(self, call: ToolCall) -> ToolOutcome:
        started = self._clock.monotonic()
        arguments = _encode(call.args)
        tool = self._registry.get(call.tool_id)
        if not self._permissions.allows(call.agent_id, call.microdao_id, call.tool_id):
            await self._records.refusal(call, tool, ToolCallStatus.DENIED, "permission_denied", self._ms(started), arguments)
            raise PermissionDenied(f"{call.agent_id} may not call tool '{call.tool_id}'")
        if tool is None:
            await self._records.refusal(call, None, ToolCallStatus.INVALID, "unknown_tool", self._ms(started), arguments)
            raise NotFound(f"no tool '{call.tool_id}'")
        try:
            call = bind_identity(tool, call)
        except IdentityMismatch as exc:
            await self._records.refusal(call, tool, ToolCallStatus.DENIED, exc.type, self._ms(started), arguments)
            raise
        problems = self._validator.argument_errors(tool, call.args)
        if problems:
            await self._records.refusal(call, tool, ToolCallStatus.INVALID, "invalid_arguments", self._ms(started), arguments)
            raise ArgumentsInvalid(f"arguments do not match the input schema of '{tool.id}'", problems)
        if call.idempotency_key is None:
            return await self._run(tool, call, started, arguments)
        return await self._run_once(tool, call, started, arguments)

    async def drain(self) -> None:
        await self._records.drain()

    async def _run_once(self, tool: ToolDefinition, call: ToolCall, started: float, arguments: bytes) -> ToolOutcome:
        """Same key, same agent: the first definitive outcome is returned again; the tool does not run twice."""
        key = call.idempotency_key
        assert key is not None
        agent, microdao = call.agent_id, call.microdao_id or ""
        # Of the bound arguments: a repeat that leaves out an identity argument is the same call.
        fingerprint = hashlib.sha256(tool.id.encode() + b"\0" + _encode(call.args)).hexdigest()
        lease_s = tool.timeout_s * tool.attempts_for(call) + 30.0
        try:
            stored = await self._idempotency.claim(agent, microdao, key, tool.id, fingerprint, lease_s)
        except Conflict:
            await self._records.refusal(call, tool, ToolCallStatus.INVALID, "idempotency_conflict", self._ms(started), arguments)
            raise
        if stored is not None:
            await self._records.outcome(call, tool, _status(stored), _error_type(stored), self._ms(started),
                                        arguments, replayed=True)
            return msgspec.structs.replace(stored, replayed=True)
        try:
            outcome = await self._run(tool, call, started, arguments)
        except BaseException:
            await self._idempotency.release(agent, microdao, key)
            raise
        if outcome.error is not None and outcome.error.type in TRANSIENT:
            # Not an answer worth replaying: the same key may try again (and the upstream, which got the
            # key forwarded, can tell a retry from a new request).
            await self._idempotency.release(agent, microdao, key)
        else:
            await self._idempotency.complete(agent, microdao, key, outcome)
        return outcome

    async def _run(self, tool: ToolDefinition, call: ToolCall, started: float, arguments: bytes) -> ToolOutcome:
        executor = self._executors[tool.executor]
        try:
            result = await executor.execute(tool, call, tool.attempts_for(call))
            self._check_result(tool, result)
        except ToolFailure as failure:
            outcome = ToolOutcome(False, self._ms(started), error=failure.as_error())
        except BaseException as exc:
            kind = "cancelled" if isinstance(exc, asyncio.CancelledError) else "internal_error"
            await self._records.outcome(call, tool, ToolCallStatus.FAILED, kind, self._ms(started), arguments)
            raise
        else:
            outcome = ToolOutcome(True, self._ms(started), result=result)
        await self._records.outcome(call, tool, _status(outcome), _error_type(outcome), outcome.latency_ms, arguments)
        return outcome

    def _check_result(self, tool: ToolDefinition, result: Any) -> None:
        size = len(_encode(result))
        if size > tool.max_result_bytes:
            raise ToolFailure(ToolErrorType.RESULT_TOO_LARGE, f"result is {size} bytes, over the {tool.max_result_bytes}-byte cap")
        problems = self._validator.result_errors(tool, result)
        if problems:
            first = problems[0]
            raise ToolFailure(ToolErrorType.INVALID_RESULT, f"result does not match the output schema at {first['path']}: "
                                              f"{first['message']}")

    def _ms(self, started: float) -> float:
        return round((self._clock.monotonic() - started) * 1000, 3)


def _status(outcome: ToolOutcome) -> str:
    return ToolCallStatus.SUCCEEDED if outcome.ok else ToolCallStatus.FAILED


def _error_type(outcome: ToolOutcome) -> str | None:
    return outcome.error.type if outcome.error is not None else None
