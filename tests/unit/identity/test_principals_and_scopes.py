"""Scopes a person types, and what a principal may do and claim."""

from __future__ import annotations

import pytest

from domain.identity.principal import Principal, Tenant
from domain.identity.scopes import AGENT_SCOPES, Scope, parse_scopes
from domain.kernel.errors import AgentKeyRequired, IdentityMismatch, InsufficientScope, InvalidRequest

SOFIA = Principal("k1", "agent:sofia", "microdao:7", AGENT_SCOPES)
OPERATOR = Principal("k0", None, None, frozenset({Scope.ADMIN}))


def test_shorthands_expand_to_read_and_write_scopes() -> None:
    assert parse_scopes("llm, memory,tools") == {Scope.LLM, Scope.MEMORY_READ, Scope.MEMORY_WRITE,
                                                  Scope.TOOLS_CALL, Scope.TOOLS_LIST}


@pytest.mark.parametrize("text", ["llm,root", "", " , "])
def test_an_unknown_or_empty_scope_list_is_refused_naming_the_problem(text: str) -> None:
    with pytest.raises(InvalidRequest):
        parse_scopes(text)


def test_an_agent_key_acts_as_its_agent_whether_or_not_the_request_names_it() -> None:
    assert SOFIA.tenant() == SOFIA.tenant("agent:sofia", "microdao:7") == Tenant("agent:sofia", "microdao:7")


@pytest.mark.parametrize("agent, microdao", [("agent:olena", None), (None, "microdao:8"), ("agent:sofia", "microdao:8")])
def test_naming_another_agent_or_microdao_is_an_identity_mismatch(agent: str | None, microdao: str | None) -> None:
    with pytest.raises(IdentityMismatch):
        SOFIA.tenant(agent, microdao)


def test_an_operator_key_cannot_act_as_an_agent() -> None:
    with pytest.raises(AgentKeyRequired):
        OPERATOR.tenant()


def test_a_missing_scope_is_insufficient_and_admin_covers_all_but_llm_calls() -> None:
    narrow = Principal("k2", "agent:sofia", "microdao:7", frozenset({Scope.MEMORY_READ}))
    narrow.require(Scope.MEMORY_READ)
    with pytest.raises(InsufficientScope):
        narrow.require(Scope.MEMORY_WRITE)
    OPERATOR.require(Scope.METRICS_READ)
    assert not OPERATOR.may(Scope.LLM)


def test_an_operator_key_on_an_agents_route_is_told_it_is_the_wrong_kind_of_key() -> None:
    with pytest.raises(AgentKeyRequired):
        OPERATOR.require(Scope.LLM)
    metrics_only = Principal("k3", None, None, frozenset({Scope.METRICS_READ}))
    with pytest.raises(InsufficientScope):
        metrics_only.require(Scope.USAGE_READ)  # an operator key could have it: a scope it lacks
