"""API keys and agents as stored. A key is shown once; only its SHA-256 is kept.

A key reads `dk_<key id>_<secret>`: the id (16 hex digits) finds the record without a scan and is safe to
log and show; the secret (256 random bits) is what proves possession.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from domain.identity.principal import Principal
from domain.identity.scopes import Scope

_KEY = re.compile(r"^dk_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True, slots=True)
class AgentRecord:
    agent_id: str
    microdao_id: str
    display_name: str | None = None
    disabled_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class KeyRecord:
    key_id: str
    key_sha256: bytes
    agent_id: str | None
    microdao_id: str | None
    scopes: frozenset[Scope]
    name: str = ""
    monthly_budget_usd: Decimal | None = None
    created_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

    def is_valid_at(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def matches(self, presented: str) -> bool:
        return hmac.compare_digest(self.key_sha256, digest(presented))

    def principal(self) -> Principal:
        return Principal(self.key_id, self.agent_id, self.microdao_id, self.scopes, self.monthly_budget_usd)

    def revoked(self, at: datetime) -> KeyRecord:
        return replace(self, revoked_at=at)


def new_key() -> tuple[str, str]:
    """(key id, the full key to show once)."""
    key_id = secrets.token_hex(8)
    return key_id, f"dk_{key_id}_{secrets.token_urlsafe(32)}"


def key_id_of(presented: str) -> str | None:
    """The id inside a well-formed key, else None (so malformed input never reaches storage)."""
    match = _KEY.match(presented)
    return match.group(1) if match else None


def digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()
