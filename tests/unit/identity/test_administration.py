"""Registering agents and issuing, rotating and revoking keys; each change is an audit entry in the ledger."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from domain.identity.administration import IdentityAdmin
from domain.identity.keys import new_key
from domain.identity.scopes import AGENT_SCOPES, OPERATOR_SCOPES, Scope
from domain.kernel.errors import Conflict, InvalidRequest, NotFound, UnknownAgent
from domain.ledger.events import AgentRegistered, ApiKeyIssued, ApiKeyRevoked
from tests.fakes.clock import FakeClock
from tests.fakes.identity import InMemoryIdentityStore
from tests.fakes.ledger import FakeRecorder


def admin(allow_unregistered: bool = False) -> tuple[IdentityAdmin, InMemoryIdentityStore, FakeRecorder, FakeClock]:
    store, recorder, clock = InMemoryIdentityStore(), FakeRecorder(), FakeClock()
    return IdentityAdmin(store, recorder, clock, allow_unregistered), store, recorder, clock


async def test_an_issued_key_is_shown_once_stored_as_a_hash_and_audited_without_its_secret() -> None:
    identity, store, recorder, _ = admin()
    await identity.register_agent("agent:sofia", "microdao:7", "op-1")
    issued = await identity.issue_key("agent:sofia", AGENT_SCOPES, "op-1", name="ci", monthly_budget_usd=Decimal(5))
    stored = await store.key(issued.record.key_id)
    assert stored is not None and stored.matches(issued.key) and issued.key.encode() not in stored.key_sha256
    [registered] = recorder.events(AgentRegistered)
    [event] = recorder.events(ApiKeyIssued)
    assert (registered.agent_id, registered.actor) == ("agent:sofia", "op-1")
    assert (event.key_id, event.agent_id, event.microdao_id, event.actor) == (
        issued.record.key_id, "agent:sofia", "microdao:7", "op-1")
    assert event.monthly_budget_usd == Decimal(5)
    assert issued.key not in repr(recorder.events)


async def test_registering_an_agent_again_is_idempotent_and_audited_once() -> None:
    identity, _, recorder, _ = admin()
    for _ in range(3):
        await identity.register_agent("agent:sofia", "microdao:7", "cli")
    assert len(recorder.events(AgentRegistered)) == 1
    with pytest.raises(Conflict):
        await identity.register_agent("agent:sofia", "microdao:8", "cli")


async def test_a_key_for_an_unregistered_agent_is_refused_unless_the_deployment_allows_them() -> None:
    strict, _, _, _ = admin()
    with pytest.raises(UnknownAgent):
        await strict.issue_key("agent:ghost", AGENT_SCOPES, "op", microdao_id="microdao:7")
    lenient, store, _, _ = admin(allow_unregistered=True)
    issued = await lenient.issue_key("agent:ghost", AGENT_SCOPES, "op", microdao_id="microdao:7")
    assert issued.record.microdao_id == "microdao:7" and await store.agent("agent:ghost") is not None


async def test_agent_keys_never_get_admin_and_operator_keys_get_only_operator_scopes() -> None:
    identity, _, _, _ = admin()
    await identity.register_agent("agent:sofia", "microdao:7", "op")
    with pytest.raises(InvalidRequest):
        await identity.issue_key("agent:sofia", frozenset({Scope.ADMIN}), "op")
    with pytest.raises(InvalidRequest):
        await identity.issue_key(None, frozenset({Scope.LLM}), "op")
    operator = await identity.issue_key(None, OPERATOR_SCOPES, "op")
    assert operator.record.agent_id is None and operator.record.microdao_id is None


async def test_acting_for_agents_is_granted_to_operator_keys_on_request_only() -> None:
    identity, _, _, _ = admin()
    await identity.register_agent("agent:sofia", "microdao:7", "op")
    with pytest.raises(InvalidRequest, match="llm:on_behalf"):
        await identity.issue_key("agent:sofia", frozenset({Scope.LLM, Scope.LLM_ON_BEHALF}), "op")
    delegate = await identity.issue_key(None, frozenset({Scope.LLM_ON_BEHALF}), "op")
    assert delegate.record.scopes == {Scope.LLM_ON_BEHALF}
    bootstrap = await identity.adopt_operator_key(new_key()[1], "op")
    assert Scope.LLM_ON_BEHALF not in bootstrap.scopes | OPERATOR_SCOPES | AGENT_SCOPES


async def test_revoking_ends_a_key_at_once_and_is_audited() -> None:
    identity, _, recorder, clock = admin()
    issued = await identity.issue_key(None, OPERATOR_SCOPES, "op")
    revoked = await identity.revoke_key(issued.record.key_id, "op-2")
    assert not revoked.is_valid_at(clock.now())
    [event] = recorder.events(ApiKeyRevoked)
    assert (event.key_id, event.actor, event.reason) == (issued.record.key_id, "op-2", "revoked")
    with pytest.raises(NotFound):
        await identity.revoke_key("0123456789abcdef", "op")


async def test_rotation_with_grace_keeps_the_old_key_working_until_the_grace_ends() -> None:
    identity, store, recorder, clock = admin()
    await identity.register_agent("agent:sofia", "microdao:7", "op")
    old = await identity.issue_key("agent:sofia", AGENT_SCOPES, "op", name="bot")
    new = await identity.rotate_key(old.record.key_id, "op", grace=timedelta(minutes=5))
    assert (new.record.agent_id, new.record.scopes, new.record.name) == ("agent:sofia", AGENT_SCOPES, "bot")
    old_now = await store.key(old.record.key_id)
    assert old_now is not None and old_now.is_valid_at(clock.now())
    assert not old_now.is_valid_at(clock.now() + timedelta(minutes=5))
    assert recorder.events(ApiKeyIssued)[-1].replaces_key_id == old.record.key_id
    assert recorder.events(ApiKeyRevoked)[-1].reason == "rotated"
    await identity.rotate_key(new.record.key_id, "op")  # no grace: the replaced key ends now
    with pytest.raises(Conflict):
        await identity.rotate_key(new.record.key_id, "op")


async def test_a_bootstrap_operator_key_is_adopted_once_and_a_malformed_one_refused() -> None:
    identity, store, recorder, _ = admin()
    key_id, key = new_key()
    first = await identity.adopt_operator_key(key, "bootstrap")
    again = await identity.adopt_operator_key(key, "bootstrap")
    assert first.key_id == again.key_id == key_id and first.scopes == OPERATOR_SCOPES
    assert len(recorder.events(ApiKeyIssued)) == 1
    with pytest.raises(InvalidRequest):
        await identity.adopt_operator_key("changeme", "bootstrap")
    assert len(await store.keys()) == 1


@pytest.mark.parametrize("budget", ["NaN", "sNaN", "Infinity", "-1", "1e30"])
async def test_a_key_budget_that_is_not_a_sane_amount_is_refused(budget: str) -> None:
    identity, _, _, _ = admin()
    with pytest.raises(InvalidRequest):
        await identity.issue_key(None, OPERATOR_SCOPES, "op", monthly_budget_usd=Decimal(budget))


async def test_an_operator_key_may_be_bound_to_one_microdao_but_then_never_gets_admin_or_metrics() -> None:
    identity, _, recorder, _ = admin()
    scoped = await identity.issue_key(None, frozenset({Scope.USAGE_READ}), "op", microdao_id="microdao:9")
    assert (scoped.record.agent_id, scoped.record.microdao_id) == (None, "microdao:9")
    assert scoped.record.principal().microdao_id == "microdao:9"
    assert recorder.events(ApiKeyIssued)[-1].microdao_id == "microdao:9"
    for scopes in (OPERATOR_SCOPES, frozenset({Scope.USAGE_READ, Scope.METRICS_READ})):
        with pytest.raises(InvalidRequest, match="takes only usage:read"):
            await identity.issue_key(None, scopes, "op", microdao_id="microdao:9")
    rotated = await identity.rotate_key(scoped.record.key_id, "op")
    assert rotated.record.microdao_id == "microdao:9"
