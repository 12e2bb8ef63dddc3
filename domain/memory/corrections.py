"""The memory operations beyond store/query/forget: correcting a memory (PATCH) and reading its history.

Each acts for a `Scope` as MemoryService does: another agent's or another microDAO's memory reads as
missing (404), so ids reveal nothing. A correction is recorded in the usage ledger as MemoryUpdated
(sizes and content hashes, never the text) under an id derived from the memory and the version it made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from domain.kernel.errors import Conflict, NotFound, PreconditionFailed
from domain.ledger.events import LedgerEntry, MemoryUpdated
from domain.ledger.ports import UsageRecorder
from domain.memory.history import LedgerEvents, MemoryHistory, build_history, entry_id_of
from domain.memory.model import Scope, parse_id
from domain.memory.records import MemoryRecord
from domain.memory.revisions import Digest, PatchMemory, RevisionStore, current_version, revise
from domain.memory.service import MemoryPolicies


class MemoryReader(Protocol):
    """The one read of domain.memory.ports.MemoryStore a correction needs."""

    async def get(self, scope: Scope, item_id: str, model: str) -> MemoryRecord | None: ...


# Tries of a correction without If-Match that keeps losing the race to concurrent ones.
ATTEMPTS = 5


class MemoryCorrections:
    def __init__(
        self, memories: MemoryReader, revisions: RevisionStore, ledger: LedgerEvents, recorder: UsageRecorder,
        index_model: str, policies: MemoryPolicies, on_enqueued: Callable[[], None] | None = None,
    ) -> None:
        self._memories = memories
        self._revisions = revisions
        self._ledger = ledger
        self._recorder = recorder
        self._model = index_model
        self._policies = policies
        self._on_enqueued = on_enqueued or (lambda: None)

    async def patch(
        self, scope: Scope, request_id: str, raw_id: str, patch: PatchMemory, expected: int | None = None,
    ) -> MemoryRecord:
        """Memory `raw_id` of the scope's agent, corrected; `expected`: the version an If-Match named."""
        item_id = parse_id(raw_id)
        for _ in range(ATTEMPTS):
            current = await self._memory(scope, item_id)
            if expected is not None and current.version != expected:
                raise PreconditionFailed(f"memory {item_id} is at version {current.version}, not {expected}")
            revision = revise(current, patch, self._policies.limits, self._policies.chunking)
            if revision is None:
                # Nothing to change: a repeat of the correction that made this version, perhaps after its
                # ledger write failed, so its entry is written now if it is missing.
                await self._record_current(scope, request_id, current)
                return current
            replaced = await self._revisions.revise(revision, self._model)
            if replaced is not None:
                self._on_enqueued()
                await self._record(request_id, current, revision.version, revision.memory.kind, replaced,
                                   revision.digest)
                return await self._memory(scope, item_id)
        raise Conflict(f"memory {item_id} kept changing while being corrected; read it and try again")

    async def history(self, scope: Scope, raw_id: str) -> MemoryHistory:
        item_id = parse_id(raw_id)
        current = await self._memory(scope, item_id)
        versions = [*await self._revisions.superseded(scope, item_id), current_version(current)]
        events = await self._ledger.events([entry_id_of(item_id, version.version) for version in versions])
        return build_history(item_id, versions, events)

    async def _memory(self, scope: Scope, item_id: str) -> MemoryRecord:
        record = await self._memories.get(scope, item_id, self._model)
        if record is None or record.tier != "mid":
            # A knowledge document is corrected by posting it again (POST /knowledge/documents).
            raise NotFound(f"no memory {item_id}")
        return record

    async def _record_current(self, scope: Scope, request_id: str, current: MemoryRecord) -> None:
        if current.version > 1:
            previous = (await self._revisions.superseded(scope, current.id))[-1]
            await self._record(request_id, current, current.version, current.kind, previous.digest,
                               current_version(current).digest)

    async def _record(
        self, request_id: str, memory: MemoryRecord, version: int, kind: str, old: Digest, new: Digest,
    ) -> None:
        await self._recorder.record(LedgerEntry.of(
            MemoryUpdated, entry_id_of(memory.id, version), request_id=request_id, memory_id=memory.id,
            agent_id=memory.agent_id, microdao_id=memory.microdao_id, tier="mid", kind=kind, version=version,
            old_content_hash=old.content_hash, new_content_hash=new.content_hash,
            old_content_bytes=old.content_bytes, new_content_bytes=new.content_bytes,
        ))
