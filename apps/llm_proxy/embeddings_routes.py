"""POST /v1/embeddings: OpenAI's shape over the embeddings gateway (routing, limits, budgets, the ledger).

A key with `llm:on_behalf` (an operator's: the memory service's indexer) names the agent the call is for in
`x-daarion-agent-id` and `x-daarion-microdao-id`; the call is then billed and limited as that agent's. Only
here: chat has no caller that works through many agents' texts at once.
"""

from __future__ import annotations

import base64
import struct
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, post
from litestar.params import JSONBody, Parameter

from apps.common.auth import caller, requires
from apps.common.container import Injected
from apps.common.edge import LARGE_BODY_BYTES
from apps.common.openapi import answer, errors
from apps.common.requests import request_id_of
from apps.llm_proxy.container import ProxyContainer
from apps.llm_proxy.headers import answer_headers, refusal
from apps.llm_proxy.routes import call_of
from apps.llm_proxy.schemas import Embedding, EmbeddingsList, EmbeddingsRequest, EmbeddingsUsage
from domain.identity.delegation import acting_for, may_act_for_agents
from domain.identity.scopes import Scope
from domain.kernel.errors import DaarionError
from domain.llm.bookkeeping import CallContext

_ON_BEHALF = ("With a key that has llm:on_behalf (an operator's), the agent and microDAO the call is for (both "
              "needed); any other key may name only its own.")


@post("/v1/embeddings", guards=[requires(Scope.LLM, Scope.LLM_ON_BEHALF)], status_code=200, summary="Create embeddings",
      request_max_body_size=LARGE_BODY_BYTES, responses={
          **answer(EmbeddingsList, "One vector per input, in order."), **errors(402, 404, 429, 502, 504)})
async def openai_embeddings(
    request: Request[Any, Any, Any], data: JSONBody[EmbeddingsRequest], container: Injected[ProxyContainer],
    agent_id: Annotated[str | None, Parameter(header="x-daarion-agent-id", description=_ON_BEHALF)] = None,
    microdao_id: Annotated[str | None, Parameter(header="x-daarion-microdao-id", description=_ON_BEHALF)] = None,
) -> Response[bytes]:
    call = await _call_for(request, data.model, container, agent_id, microdao_id)
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


async def _call_for(request: Request[Any, Any, Any], model: str, container: ProxyContainer, agent_id: str | None,
                    microdao_id: str | None) -> CallContext:
    principal = caller(request)
    if not may_act_for_agents(principal):
        return call_of(request, model, agent_id, microdao_id)
    agent = await container.authenticator.agent(agent_id) if agent_id else None
    tenant = acting_for(principal, agent_id, microdao_id, agent)
    return CallContext(request_id_of(request), tenant.agent_id, tenant.microdao_id, model,
                       key_id=principal.key_id, key_budget_usd=principal.monthly_budget_usd)


def _base64(vector: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


ROUTES = [openai_embeddings]
