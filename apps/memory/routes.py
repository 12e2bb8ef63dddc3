"""Thin HTTP adapters of the memory service: decode a command, call MemoryService, encode the result."""

from __future__ import annotations

import time
from typing import Any

from litestar import Request, Response, Router, delete, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from apps.common.auth import internal_guard
from apps.common.container import Injected
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
)

AnyRequest = Request[Any, Any, Any]
Memory = Injected[MemoryContainer]


@post("/agent-memory/store", status_code=201)
async def store_memory(
    request: AnyRequest, data: JSONBody[StoreMemory], container: Memory,
) -> StoreResponse:
    result = await container.service.store(request_id_of(request), data)
    container.metrics.writes.labels("store", "created" if result.created else "deduplicated").inc()
    return StoreResponse(result.id, [result.id], not result.created, result.chunks)


@post("/agent-memory/query", status_code=200)
async def query_memory(data: JSONBody[QueryMemory], container: Memory) -> QueryResult:
    started = time.perf_counter()
    result = await container.service.query(data)
    container.metrics.query_seconds.observe(time.perf_counter() - started)
    return result


@get("/agent-memory/{memory_id:str}")
async def get_memory(memory_id: FromPath[str], container: Memory) -> MemoryRecord:
    return await container.service.get(memory_id)


@delete("/agent-memory/{memory_id:str}", status_code=200)
async def forget_memory(
    request: AnyRequest, memory_id: FromPath[str], container: Memory,
) -> ForgetResponse:
    forgotten = await container.service.forget(request_id_of(request), memory_id)
    container.metrics.writes.labels("forget", "forgotten").inc(len(forgotten))
    return ForgetResponse(forgotten)


@delete("/agent-memory", status_code=200)
async def forget_agent(
    request: AnyRequest, agent_id: FromQuery[str], container: Memory,
    microdao_id: FromQuery[str | None] = None,
) -> ForgetResponse:
    forgotten = await container.service.forget_agent(request_id_of(request), agent_id, microdao_id)
    container.metrics.writes.labels("forget", "forgotten").inc(len(forgotten))
    return ForgetResponse(forgotten)


@post("/knowledge/documents")
async def post_document(
    request: AnyRequest, data: JSONBody[PostDocument], container: Memory,
) -> Response[DocumentResponse]:
    result = await container.service.put_document(request_id_of(request), data)
    outcome = "created" if result.created else "replaced" if result.replaced else "unchanged"
    container.metrics.writes.labels("document", outcome).inc()
    body = DocumentResponse(result.id, result.chunks, result.created, result.replaced, result.unchanged)
    return Response(body, status_code=201 if result.created else 200)


@get("/knowledge/documents/{document_id:str}")
async def get_document(document_id: FromPath[str], container: Memory) -> MemoryRecord:
    return await container.service.get_document(document_id)


@delete("/knowledge/documents/{document_id:str}", status_code=200)
async def delete_document(
    request: AnyRequest, document_id: FromPath[str], container: Memory,
) -> ForgetResponse:
    forgotten = await container.service.forget(request_id_of(request), document_id, tier="long")
    container.metrics.writes.labels("document", "deleted").inc()
    return ForgetResponse(forgotten)


def internal_router() -> Router:
    return Router(
        "/internal", guards=[internal_guard()],
        route_handlers=[store_memory, query_memory, get_memory, forget_memory, forget_agent, post_document,
                        get_document, delete_document],
    )
