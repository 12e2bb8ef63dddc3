"""Bodies of the admin API (/admin/agents, /admin/keys). A key's secret appears in exactly one response:
the one that issued it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import msgspec

from apps.common.structs import StrictStruct
from domain.identity.keys import AgentRecord, KeyRecord
from domain.kernel.ids import SubjectId

Name = Annotated[str, msgspec.Meta(max_length=200)]
Lifetime = Annotated[int, msgspec.Meta(ge=60, le=10 * 366 * 86400)]


class RegisterAgent(StrictStruct):
    agent_id: SubjectId
    microdao_id: SubjectId
    display_name: Name | None = None


class CreateKey(StrictStruct, kw_only=True):
    agent_id: SubjectId | None = None            # None: an operator key
    microdao_id: SubjectId | None = None         # registers an unknown agent where allowed
    scopes: Annotated[list[str], msgspec.Meta(min_length=1, max_length=16)]
    name: Name = ""
    expires_in_s: Lifetime | None = None
    monthly_budget_usd: Decimal | None = None


class RotateKey(StrictStruct):
    grace_s: Annotated[int, msgspec.Meta(ge=0, le=7 * 86400)] = 0


class AgentView(msgspec.Struct):
    agent_id: str
    microdao_id: str
    display_name: str | None
    disabled_at: datetime | None

    @classmethod
    def of(cls, agent: AgentRecord) -> AgentView:
        return cls(agent.agent_id, agent.microdao_id, agent.display_name, agent.disabled_at)


class KeyView(msgspec.Struct, omit_defaults=True):
    key_id: str
    agent_id: str | None
    microdao_id: str | None
    scopes: list[str]
    name: str
    created_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    monthly_budget_usd: Decimal | None = None

    @classmethod
    def of(cls, key: KeyRecord) -> KeyView:
        return cls(key.key_id, key.agent_id, key.microdao_id, sorted(key.scopes), key.name, key.created_at,
                   key.expires_at, key.revoked_at, key.monthly_budget_usd)


class IssuedKeyView(msgspec.Struct):
    key: str            # shown once; only its SHA-256 is stored
    record: KeyView
