"""Acting for an agent: only an operator key with llm:on_behalf, only for an enabled agent of the stated microDAO."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.identity.delegation import acting_for
from domain.identity.keys import AgentRecord
from domain.identity.principal import Principal, Tenant
from domain.identity.scopes import AGENT_SCOPES, Scope
from domain.kernel.errors import (
    AgentKeyRequired,
    DaarionError,
    IdentityMismatch,
    InvalidRequest,
    UnknownAgent,
)

DELEGATE = Principal("k9", None, None, frozenset({Scope.LLM_ON_BEHALF}))
ADMIN = Principal("k0", None, None, frozenset({Scope.ADMIN}))
SOFIA = Principal("k1", "agent:sofia", "microdao:7", AGENT_SCOPES | {Scope.LLM_ON_BEHALF})
OLENA = AgentRecord("agent:olena", "microdao:8")


def test_a_delegating_key_acts_for_the_enabled_agent_it_names() -> None:
    assert acting_for(DELEGATE, "agent:olena", "microdao:8", OLENA) == Tenant("agent:olena", "microdao:8")


@pytest.mark.parametrize("agent_id, microdao_id, agent, refusal", [
    ("agent:olena", "microdao:7", OLENA, IdentityMismatch),
    ("agent:ghost", "microdao:8", None, UnknownAgent),
    ("agent:olena", "microdao:8", AgentRecord("agent:olena", "microdao:8", disabled_at=datetime.now(UTC)), UnknownAgent),
    ("agent:olena", None, OLENA, InvalidRequest),
    (None, None, None, InvalidRequest),
])
def test_a_delegating_key_naming_no_agent_or_a_wrong_one_is_refused(
    agent_id: str | None, microdao_id: str | None, agent: AgentRecord | None, refusal: type[DaarionError],
) -> None:
    with pytest.raises(refusal):
        acting_for(DELEGATE, agent_id, microdao_id, agent)


def test_admin_alone_cannot_act_for_an_agent() -> None:
    assert not ADMIN.may(Scope.LLM_ON_BEHALF)
    with pytest.raises(AgentKeyRequired):
        acting_for(ADMIN, "agent:olena", "microdao:8", OLENA)


def test_an_agent_key_holding_the_scope_still_acts_only_as_itself() -> None:
    assert acting_for(SOFIA, None, None, None) == Tenant("agent:sofia", "microdao:7")
    with pytest.raises(IdentityMismatch):
        acting_for(SOFIA, "agent:olena", "microdao:8", OLENA)
