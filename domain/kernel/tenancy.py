"""The one rule of tenancy every service applies the same way: an agent acts only inside its microDAO."""

from __future__ import annotations

from domain.kernel.errors import PermissionDenied


def check_microdao_claim(agent_id: str, claimed_microdao_id: str, microdao_id: str) -> None:
    """Raises PermissionDenied (403) when a caller claims a microDAO the agent does not belong to."""
    if claimed_microdao_id != microdao_id:
        raise PermissionDenied(f"agent '{agent_id}' belongs to '{microdao_id}', not '{claimed_microdao_id}'")
