"""The turn's credential is opaque and unprintable; a service refusing it is told apart from an outage."""

from __future__ import annotations

import msgspec
import pytest

from domain.agents.model import TurnContext
from domain.kernel.credential import Credential
from domain.kernel.errors import IdentityMismatch, PermissionDenied, Unauthenticated, UpstreamFailed
from infra.agents.service_http import status_error

KEY = "dk_0123456789abcdef_" + "S" * 43


def test_a_turn_context_never_prints_or_encodes_its_credential() -> None:
    context = TurnContext("r", "agent:sofia", "microdao:7", "c", "u", Credential(KEY))

    assert "SSSS" not in repr(context) and "SSSS" not in f"{context.credential}"
    assert context.credential is not None and context.credential.reveal() == KEY
    with pytest.raises(TypeError):
        msgspec.json.encode(context)
    with pytest.raises(TypeError):
        msgspec.to_builtins(context)


def error(kind: str, message: str = "no") -> bytes:
    return msgspec.json.encode({"error": {"type": kind, "message": message}})


def test_a_service_refusing_the_key_is_a_401_or_the_403_it_named_not_a_502() -> None:
    revoked = status_error("LLM proxy", 401, {}, error("unauthenticated", "API key 0123 has been revoked"))
    mismatch = status_error("memory", 403, {}, error("identity_mismatch"))
    other = status_error("memory", 403, {}, error("something_new"))

    assert isinstance(revoked, Unauthenticated) and "has been revoked" in revoked.message
    assert type(mismatch) is IdentityMismatch
    assert type(other) is PermissionDenied
    assert type(status_error("memory", 500, {}, error("internal_error"))) is UpstreamFailed


def test_the_scopes_a_turn_needs_follow_what_its_profile_uses() -> None:
    from apps.agent_runtime.identity import scopes_needed
    from domain.agents.model import AgentProfile, MemorySettings, ToolSettings
    from domain.identity.scopes import Scope

    everything = AgentProfile("agent:a", "microdao:7", "A", "p", "m")
    recall_only = msgspec.structs.replace(everything, memory=MemorySettings(store_turns=False),
                                          tools=ToolSettings(max_steps=0))
    bare = msgspec.structs.replace(recall_only, memory=MemorySettings(tiers=("short",), short_term_turns=0,
                                                                      store_turns=False))

    assert scopes_needed(everything) == {Scope.LLM, Scope.MEMORY_READ, Scope.MEMORY_WRITE, Scope.TOOLS_LIST,
                                         Scope.TOOLS_CALL}
    assert scopes_needed(recall_only) == {Scope.LLM, Scope.MEMORY_READ}
    assert scopes_needed(bare) == {Scope.LLM}
