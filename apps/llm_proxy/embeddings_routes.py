"""POST /v1/embeddings: OpenAI's shape over the embeddings gateway (routing, limits, budgets, the ledger)."""

from __future__ import annotations

import base64
import struct
from typing import Any

import msgspec
from litestar import Request, Response, post
from litestar.params import JSONBody

from apps.common.auth import requires
from apps.common.container import Injected
from apps.common.edge import LARGE_BODY_BYTES
from apps.common.openapi import answer, errors
from apps.llm_proxy.container import ProxyContainer
from apps.llm_proxy.headers import answer_headers, refusal
from apps.llm_proxy.routes import call_of
from apps.llm_proxy.schemas import Embedding, EmbeddingsList, EmbeddingsRequest, EmbeddingsUsage
from domain.identity.scopes import Scope
from domain.kernel.errors import DaarionError


@post("/v1/embeddings", guards=[requires(Scope.LLM)], status_code=200, summary="Create embeddings",
      request_max_body_size=LARGE_BODY_BYTES, responses={
          **answer(EmbeddingsList, "One vector per input, in order."), **errors(402, 404, 429, 502, 504)})
async def openai_embeddings(
    request: Request[Any, Any, Any], data: JSONBody[EmbeddingsRequest], container: Injected[ProxyContainer],
) -> Response[bytes]:
    call = call_of(request, data.model)
    texts = [data.input] if isinstance(data.input, str) else data.input
    try:
        result = await container.embeddings.embed(call, texts, data.dimensions)
    except DaarionError as exc:
        if (refused := refusal(exc, request.url.path, call.request_id)) is not None:
            return refused
        raise
    encode = _base64 if data.encoding_format == "base64" else list
    body = EmbeddingsList([Embedding(index, encode(vector)) for index, vector in enumerate(result.vectors)],
                          data.model, EmbeddingsUsage(result.prompt_tokens, result.prompt_tokens))
    return Response(msgspec.json.encode(body), media_type="application/json", headers=answer_headers(
        call.request_id, result.provider, result.physical_model, result.quota, result.cost_usd))


def _base64(vector: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


ROUTES = [openai_embeddings]
