"""What a key may do. A key grants scopes; every route names the one it needs."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from domain.kernel.errors import InvalidRequest


class Scope(StrEnum):
    LLM = "llm"
    LLM_ON_BEHALF = "llm:on_behalf"  # an operator key calls the proxy naming the agent the call is for
    MEMORY_READ = "memory:read"
    MEMORY_WRITE = "memory:write"
    TOOLS_CALL = "tools:call"
    TOOLS_LIST = "tools:list"
    PROJECTS_READ = "projects:read"
    PROJECTS_WRITE = "projects:write"
    USAGE_READ = "usage:read"
    METRICS_READ = "metrics:read"
    ADMIN = "admin"


# Shorthands a person types (`--scopes llm,memory,tools`).
SHORTHANDS: dict[str, frozenset[Scope]] = {
    "memory": frozenset({Scope.MEMORY_READ, Scope.MEMORY_WRITE}),
    "tools": frozenset({Scope.TOOLS_CALL, Scope.TOOLS_LIST}),
    "projects": frozenset({Scope.PROJECTS_READ, Scope.PROJECTS_WRITE}),
}

# What an agent's key gets when none are named: everything an agent does, nothing an operator does.
AGENT_SCOPES = frozenset({
    Scope.LLM, Scope.MEMORY_READ, Scope.MEMORY_WRITE, Scope.TOOLS_CALL, Scope.TOOLS_LIST,
    Scope.PROJECTS_READ, Scope.PROJECTS_WRITE, Scope.USAGE_READ,
})
OPERATOR_SCOPES = frozenset({Scope.ADMIN, Scope.USAGE_READ, Scope.METRICS_READ})
# An operator of one microDAO reads its usage. 'admin' and 'metrics:read' span every microDAO (the /admin API
# and /metrics know no tenant), so such a key never gets them.
MICRODAO_OPERATOR_SCOPES = frozenset({Scope.USAGE_READ})
AGENT_ONLY_SCOPES = AGENT_SCOPES - OPERATOR_SCOPES  # what only an agent's own key can do
# What an operator key may be given on request, never by default: acting for any agent of any microDAO is a
# service's power (the memory indexer billing each agent its own embeddings), not an agent's.
OPERATOR_GRANTABLE = OPERATOR_SCOPES | {Scope.LLM_ON_BEHALF}


def parse_scopes(names: str | Iterable[str]) -> frozenset[Scope]:
    """`"llm,memory:read"` or `["llm", "tools"]` -> scopes; InvalidRequest naming any unknown one."""
    items = names.split(",") if isinstance(names, str) else list(names)
    scopes: set[Scope] = set()
    for raw in items:
        name = raw.strip()
        if not name:
            continue
        if name in SHORTHANDS:
            scopes |= SHORTHANDS[name]
            continue
        try:
            scopes.add(Scope(name))
        except ValueError:
            known = ", ".join([*Scope, *SHORTHANDS])
            raise InvalidRequest(f"unknown scope '{name}'; scopes are: {known}") from None
    if not scopes:
        raise InvalidRequest("a key needs at least one scope")
    return frozenset(scopes)
