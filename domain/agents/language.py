"""Which language a message is in, as far as the runtime's own replies need: Ukrainian or English.

By script: a message mostly in Cyrillic is Ukrainian (the platform's members write Ukrainian, not Russian),
else English. Good enough to pick a reply template; it is not a general language identifier.
"""

from __future__ import annotations

import re
from typing import Literal

Language = Literal["uk", "en"]

_QUOTED = re.compile(r"«([^»]+)»|“([^”]+)”|\"([^\"]+)\"")  # one group per kind of quotes
# Ids and dates (member:olena, prj_project_x, 2026-11-30) are no language's words.
_IDENTIFIER = re.compile(r"\S*[:_\d]\S*")
# Letters Russian has and Ukrainian does not: a small model that drifts into Russian shows them at once.
NOT_UKRAINIAN = frozenset("ыэъё")


def language_of(text: str) -> Language:
    """Quotations, ids and dates aside ("Хто створив «Kick-off notes»?" is Ukrainian)."""
    own = without_quotes(text)
    cyrillic = latin = 0
    for char in own if own.strip() else text:
        if "а" <= char.lower() <= "я" or char.lower() in "іїєґё":
            cyrillic += 1
        elif "a" <= char.lower() <= "z":
            latin += 1
    return "uk" if cyrillic > latin else "en"


def without_quotes(text: str) -> str:
    """The text less what it quotes (a cited memory keeps its own language) and its ids and dates."""
    return _IDENTIFIER.sub(" ", _QUOTED.sub(" ", text))


def quotations(text: str) -> list[str]:
    return [next(group for group in match.groups() if group) for match in _QUOTED.finditer(text)]


def speaks(reply: str, language: Language) -> bool:
    """Whether the reply, quotations aside, is in `language` (and Ukrainian free of Russian letters)."""
    own = without_quotes(reply)
    if language == "uk" and NOT_UKRAINIAN & set(own.lower()):
        return False
    letters = sum(char.isalpha() for char in own)
    return letters == 0 or language_of(own) == language
