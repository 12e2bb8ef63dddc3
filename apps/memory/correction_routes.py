"""Thin HTTP adapters of memory corrections: PATCH a memory, GET its history (domain.memory.corrections).

A correction may name the version it corrects in `If-Match` (the `version` a GET or PATCH returned, also
sent as its ETag): a memory that has moved on since is a 412 and stays as it is. Without If-Match the
correction applies to the current version.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Response, Router, get, patch
from litestar.datastructures import ResponseHeader
from litestar.params import HeaderParameter, JSONBody

from apps.common.auth import caller
from apps.common.openapi import errors
from apps.common.requests import request_id_of
from apps.memory.routes import READ, WRITE, AnyRequest, ItemId, Memory
from apps.memory.schemas import MemoryHistory, MemoryRecord, PatchMemory
from domain.memory.model import Scope
from domain.memory.revisions import etag, expected_version

IfMatch = Annotated[str | None, HeaderParameter(
    name="if-match", required=False, max_length=64,
    description='The version being corrected: the `version` a GET returned, as an ETag (`"3"`) or a number; '
                "a memory now at another version is a 412. Leave it out to correct whatever version is current.")]


def scope_of(request: AnyRequest) -> Scope:
    """The caller's agent and microDAO: these routes take no claims of either."""
    tenant = caller(request).tenant()
    return Scope(tenant.microdao_id, tenant.agent_id)


@patch("/agent-memory/{memory_id:str}", guards=WRITE, responses=errors(404, 409, 412), response_headers=[
    ResponseHeader(name="etag", documentation_only=True, description="The memory's version now, for If-Match.")])
async def correct_memory(
    request: AnyRequest, memory_id: ItemId, data: JSONBody[PatchMemory], container: Memory, if_match: IfMatch = None,
) -> Response[MemoryRecord]:
    """A correction: the memory's content (or kind, metadata) replaced and indexed again; the old text
    stays in its history."""
    record = await container.corrections.patch(scope_of(request), request_id_of(request), memory_id, data,
                                               expected_version(if_match))
    container.metrics.writes.labels("patch", "corrected").inc()
    return Response(record, headers={"etag": etag(record.version)})


@get("/agent-memory/{memory_id:str}/history", guards=READ, responses=errors(404))
async def memory_history(request: AnyRequest, memory_id: ItemId, container: Memory) -> MemoryHistory:
    """Every version of the memory, oldest first, each with the ledger entry that made it."""
    return await container.corrections.history(scope_of(request), memory_id)


def corrections_router() -> Router:
    return Router("/internal", route_handlers=[correct_memory, memory_history])
