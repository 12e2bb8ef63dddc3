"""The runtime's own grounding check of a reply, whoever wrote it: in the question's language, and every
date, id and quoted name or title in it found in what the turn knew (tool results, memories, the question).

A reply that fails is still returned (with a warning), but the turn is not stored as a memory, so one bad
answer is not recalled into the next prompt, and the ledger marks the turn.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from domain.agents.language import Language, quotations, speaks

_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_ID = re.compile(r"\b(?:prj|task|member|agent|microdao)[_:][\w.:-]+")


def grounding_problems(reply: str, language: Language, sources: Sequence[str]) -> list[str]:
    """Why the reply is not grounded (empty when it is)."""
    known = normal(" ".join(sources))
    problems = [] if speaks(reply, language) else [f"not in the question's language ({language})"]
    unknown = [claim for claim in claims(reply) if normal(claim) not in known]
    if unknown:
        problems.append("not in any tool result or memory: " + ", ".join(unknown[:3]))
    return problems


def claims(reply: str) -> list[str]:
    """What in a reply can be checked against sources: its dates, ids and quoted names or titles."""
    found = [*_DATE.findall(reply), *(m.rstrip(".,;:") for m in _ID.findall(reply))]
    return found + [quoted for quoted in quotations(reply) if len(quoted) >= 3]


def normal(text: str) -> str:
    return " ".join(text.lower().replace("\\n", " ").split())
