"""The admin API: agents and their keys. Operator keys with the `admin` scope only; every change is also a
ledger entry (the audit trail), made by the caller's key id."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Request, Router, delete, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from apps.common.auth import caller, requires
from apps.common.container import Injected
from apps.common.openapi import errors
from apps.llm_proxy.admin_schemas import (
    AgentView,
    CreateKey,
    IssuedKeyView,
    KeyView,
    RegisterAgent,
    RotateKey,
)
from apps.llm_proxy.container import ProxyContainer
from domain.identity.scopes import Scope, parse_scopes
from domain.kernel.ids import SubjectId

AnyRequest = Request[Any, Any, Any]
Proxy = Injected[ProxyContainer]


@get("/agents")
async def list_agents(container: Proxy) -> list[AgentView]:
    return [AgentView.of(agent) for agent in await container.identity.agents()]


@post("/agents", status_code=201, responses=errors(409))
async def register_agent(request: AnyRequest, data: JSONBody[RegisterAgent], container: Proxy) -> AgentView:
    agent = await container.identity.register_agent(data.agent_id, data.microdao_id, caller(request).key_id,
                                                    data.display_name)
    return AgentView.of(agent)


@delete("/agents/{agent_id:str}", status_code=200, responses=errors(404))
async def disable_agent(request: AnyRequest, agent_id: FromPath[SubjectId], container: Proxy) -> AgentView:
    agent = await container.identity.disable_agent(agent_id, caller(request).key_id)
    await container.authenticator.refresh()  # this process refuses its keys at once; the others within a second
    return AgentView.of(agent)


@get("/keys")
async def list_keys(container: Proxy, agent_id: FromQuery[SubjectId | None] = None) -> list[KeyView]:
    return [KeyView.of(key) for key in await container.identity.keys(agent_id)]


@post("/keys", status_code=201, responses=errors(409))
async def create_key(request: AnyRequest, data: JSONBody[CreateKey], container: Proxy) -> IssuedKeyView:
    issued = await container.identity.issue_key(
        data.agent_id, parse_scopes(data.scopes), caller(request).key_id, microdao_id=data.microdao_id,
        name=data.name, expires_in=timedelta(seconds=data.expires_in_s) if data.expires_in_s else None,
        monthly_budget_usd=data.monthly_budget_usd,
    )
    return IssuedKeyView(issued.key, KeyView.of(issued.record))


@post("/keys/{key_id:str}/rotate", status_code=201, responses=errors(404, 409))
async def rotate_key(request: AnyRequest, key_id: FromPath[SubjectId], container: Proxy,
                     data: JSONBody[RotateKey | None] = None) -> IssuedKeyView:
    grace = timedelta(seconds=data.grace_s if data else 0)
    issued = await container.identity.rotate_key(key_id, caller(request).key_id, grace)
    await container.authenticator.refresh()
    return IssuedKeyView(issued.key, KeyView.of(issued.record))


@delete("/keys/{key_id:str}", status_code=200, responses=errors(404, 409))
async def revoke_key(request: AnyRequest, key_id: FromPath[SubjectId], container: Proxy) -> KeyView:
    revoked = await container.identity.revoke_key(key_id, caller(request).key_id)
    await container.authenticator.refresh()
    return KeyView.of(revoked)


def admin_router() -> Router:
    return Router("/admin", guards=[requires(Scope.ADMIN)], route_handlers=[
        list_agents, register_agent, disable_agent, list_keys, create_key, rotate_key, revoke_key,
    ])
