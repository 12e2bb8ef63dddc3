"""Thin HTTP adapters of the memory service: decode a command, call MemoryService, encode the result.

Whose memory a request touches is the caller's key's agent and microDAO (`_scope`); a body or query may
still name them (older clients do), and naming any other is a 403 identity_mismatch.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from litestar import Request, Response, Router, delete, get, post
from litestar.params import FromQuery, JSONBody, Parameter

from apps.common.auth import bearer_token, caller, requires
from apps.common.container import Injected
from apps.common.edge import LARGE_BODY_BYTES
from apps.common.openapi import answer, errors
from apps.common.requests import request_id_of
from apps.memory.container import MemoryContainer
from apps.memory.schemas import (
    DocumentResponse,
    ForgetResponse,
    MemoryRecord,
    PostDocument,
    QueryMemory,
    QueryResult,
    StoreMemory,
    StoreResponse,
    check_timestamps,
)
from domain.identity.scopes import Scope
from domain.kernel.credential import Credential
from domain.memory.model import Scope as MemoryScope
from infra.memory.embedders.proxy_embedder import forwarding

AnyRequest = Request[Any, Any, Any]
Memory = Injected[MemoryContainer]
READ, WRITE = [requires(Scope.MEMORY_READ)], [requires(Scope.MEMORY_WRITE)]
ItemId = Annotated[str, Parameter(description="The item's id (a UUID; anything else is a 400).",
                                  schema_extra={"format": "uuid"})]


def _scope(request: AnyRequest, agent_id: str | None = None, microdao_id: str | None = None) -> MemoryScope:
    """The caller's agent and microDAO; an empty claim counts as none (the old bodies' default)."""
    tenant = caller(request).tenant(agent_id or None, microdao_id or None)
    return MemoryScope(tenant.microdao_id, tenant.agent_id)


@post("/agent-memory/store", guards=WRITE, status_code=201, responses=errors(409))
async def store_memory(
    request: AnyRequest, data: JSONBody[StoreMemory], container: Memory,
) -> StoreResponse:
    scope = _scope(request, data.agent_id, data.microdao_id)
    check_timestamps(occurred_at=data.occurred_at)
    result = await container.service.store(scope, request_id_of(request), data)
    outcome = "created" if result.created else "merged" if result.merged else "deduplicated"
    container.metrics.writes.labels("store", outcome).inc()
    return StoreResponse(result.id, [result.id], not result.created, result.chunks, result.merged, result.similarity)


@post("/agent-memory/query", guards=READ, status_code=200, responses=errors(502, 504))
async def query_memory(request: AnyRequest, data: JSONBody[QueryMemory], container: Memory) -> QueryResult:
    scope = _scope(request, data.agent_id, data.microdao_id)
    check_timestamps(since=data.since, until=data.until)
    started = time.perf_counter()
    with forwarding(_llm_credential(request)):  # an embedder through the LLM proxy bills the query to its caller
        result = await container.service.query(scope, data)
    container.metrics.query_seconds.observe(time.perf_counter() - started)
    return result


def _llm_credential(request: AnyRequest) -> Credential | None:
    """The caller's key, when it may call the LLM proxy (else the memory service's own key pays)."""
    key = bearer_token(request)
    return Credential(key) if key and caller(request).may(Scope.LLM) else None


@get("/agent-memory/{memory_id:str}", guards=READ, responses=errors(404))
async def get_memory(request: AnyRequest, memory_id: ItemId, container: Memory) -> MemoryRecord:
    return await container.service.get(_scope(request), memory_id)


@delete("/agent-memory/{memory_id:str}", guards=WRITE, status_code=200, responses=errors(404))
async def forget_memory(
    request: AnyRequest, memory_id: ItemId, container: Memory,
) -> ForgetResponse:
    forgotten = await container.service.forget(_scope(request), request_id_of(request), memory_id)
    container.metrics.writes.labels("forget", "forgotten").inc(len(forgotten))
    return ForgetResponse(forgotten)


@delete("/agent-memory", guards=WRITE, status_code=200)
async def forget_agent(
    request: AnyRequest, container: Memory, agent_id: FromQuery[str | None] = None,
    microdao_id: FromQuery[str | None] = None,
) -> ForgetResponse:
    """Everything the caller's agent remembers in its microDAO (the knowledge base stays)."""
    forgotten = await container.service.forget_agent(_scope(request, agent_id, microdao_id), request_id_of(request))
    container.metrics.writes.labels("forget", "forgotten").inc(len(forgotten))
    return ForgetResponse(forgotten)


@post("/knowledge/documents", guards=WRITE, status_code=201, request_max_body_size=LARGE_BODY_BYTES, responses=answer(
    DocumentResponse, "An existing document (the same `source_uri`, else the same content): replaced, or unchanged."))
async def post_document(
    request: AnyRequest, data: JSONBody[PostDocument], container: Memory,
) -> Response[DocumentResponse]:
    scope = _scope(request, data.agent_id, data.microdao_id)
    result = await container.service.put_document(scope, request_id_of(request), data)
    outcome = "created" if result.created else "replaced" if result.replaced else "unchanged"
    container.metrics.writes.labels("document", outcome).inc()
    body = DocumentResponse(result.id, result.chunks, result.created, result.replaced, result.unchanged)
    return Response(body, status_code=201 if result.created else 200)


@get("/knowledge/documents/{document_id:str}", guards=READ, responses=errors(404))
async def get_document(request: AnyRequest, document_id: ItemId, container: Memory) -> MemoryRecord:
    return await container.service.get_document(_scope(request), document_id)


@delete("/knowledge/documents/{document_id:str}", guards=WRITE, status_code=200, responses=errors(404))
async def delete_document(
    request: AnyRequest, document_id: ItemId, container: Memory,
) -> ForgetResponse:
    forgotten = await container.service.forget(_scope(request), request_id_of(request), document_id, tier="long")
    container.metrics.writes.labels("document", "deleted").inc()
    return ForgetResponse(forgotten)


def internal_router() -> Router:
    return Router(
        "/internal",
        route_handlers=[store_memory, query_memory, get_memory, forget_memory, forget_agent, post_document,
                        get_document, delete_document],
    )
