"""Whom a turn acts as: the agent whose own key the caller presented.

Service to service, the runtime acts FOR an agent by presenting that agent's key. Its caller (`daarion
chat`, a channel gateway) authenticates with the agent's key; the path's agent and the body's microDAO
must be that key's (403 identity_mismatch otherwise; an operator key gets 403 agent_key_required), and the
turn's calls to the LLM proxy, memory and Toolcore carry THE SAME bearer key. The runtime holds no key of
its own and no shared secret: a compromised runtime can act only as the agents whose keys it was handed,
and a revoked key stops at once, because every service checks the key on every call.

Scopes are checked here, up front, against what the agent's profile will do (llm always; memory:read and
memory:write when it recalls and stores; tools:list and tools:call when it may use tools), so a key that
lacks one gets a 403 naming it before any work, instead of a turn that quietly degrades downstream.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection

from apps.common.auth import bearer_token, caller
from domain.agents.model import AgentProfile, TurnContext
from domain.identity.scopes import Scope
from domain.kernel.credential import Credential
from domain.kernel.errors import InsufficientScope

AnyConnection = ASGIConnection[Any, Any, Any, Any]


def scopes_needed(profile: AgentProfile) -> frozenset[Scope]:
    """What a turn of this agent will ask the other services for (the same rules domain/agents/turn.py uses)."""
    needed = {Scope.LLM}
    if profile.memory.recalled_tiers():
        needed.add(Scope.MEMORY_READ)
    if profile.memory.stores_turns:
        needed.add(Scope.MEMORY_WRITE)
    if profile.tools.max_steps > 0:
        needed |= {Scope.TOOLS_LIST, Scope.TOOLS_CALL}
    return frozenset(needed)


def acting_agent(connection: AnyConnection, agent_id: str, microdao_id: str | None) -> str:
    """The agent the caller's key acts as; 403 when the path or body names another agent or microDAO."""
    return caller(connection).tenant(agent_id, microdao_id).agent_id


def turn_context(
    connection: AnyConnection, profile: AgentProfile, request_id: str, channel_id: str, user_id: str,
) -> TurnContext:
    """The turn's context, carrying the caller's key for the turn's downstream calls. The key's microDAO
    must be the one the profile is configured in; each scope the turn will use must be granted."""
    principal = caller(connection)
    principal.check_microdao(profile.microdao_id)
    missing = sorted(scope for scope in scopes_needed(profile) if not principal.may(scope))
    if missing:
        raise InsufficientScope(f"{profile.id}'s turns use scopes this key lacks: {', '.join(missing)}")
    presented = bearer_token(connection)
    assert presented is not None, "the guard authenticated this request's bearer key"
    return TurnContext(request_id, profile.id, profile.microdao_id, channel_id, user_id, Credential(presented))
