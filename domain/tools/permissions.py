"""Who may call which tool: deny by default, allow by grant.

A grant names an agent, a microDAO, or both, and the tool-id globs it allows (`projects.*`). It
applies to a call when every subject it names matches the caller: `{agent: agent:sofia, microdao:
microdao:7}` covers Sofia acting for microDAO 7 only, `{microdao: microdao:7}` every agent of it,
`{agent: agent:sofia}` Sofia wherever she acts. The caller is the authenticated one (the agent and
microDAO of its key, never ids a request names), so a microDAO-wide grant covers that microDAO's
registered agents and nobody who merely claims it. A call with no microDAO is covered only by
agent-only grants. What any applicable grant allows is allowed; nothing else is.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence

import msgspec


class Grant(msgspec.Struct, frozen=True):
    allow: tuple[str, ...]
    agent: str | None = None
    microdao: str | None = None

    def applies_to(self, agent_id: str, microdao_id: str | None) -> bool:
        if self.agent is None and self.microdao is None:
            return False  # a grant to nobody in particular would be a grant to everybody
        if self.agent is not None and self.agent != agent_id:
            return False
        return self.microdao is None or self.microdao == microdao_id


class PermissionPolicy:
    def __init__(self, grants: Sequence[Grant]) -> None:
        self._grants = [(grant, _compile(grant.allow)) for grant in grants]

    def allows(self, agent_id: str, microdao_id: str | None, tool_id: str) -> bool:
        return any(
            pattern.match(tool_id) is not None
            for grant, pattern in self._grants
            if grant.applies_to(agent_id, microdao_id)
        )

    def visible(self, agent_id: str, microdao_id: str | None, tool_ids: Iterable[str]) -> list[str]:
        patterns = [pattern for grant, pattern in self._grants if grant.applies_to(agent_id, microdao_id)]
        return [tool_id for tool_id in tool_ids if any(p.match(tool_id) for p in patterns)]


def _compile(globs: Sequence[str]) -> re.Pattern[str]:
    # fnmatch's case-sensitive translation, anchored; one alternation per grant keeps a check to one match.
    return re.compile("|".join(f"(?:{fnmatch.translate(glob)})" for glob in globs) or r"(?!)")
