"""Stem prefixes for the full-text leg, for languages PostgreSQL has no stemmer for (Ukrainian first).

PostgreSQL ships no Ukrainian dictionary: under the `english` configuration a Cyrillic word is indexed as
it is written, so "оплати" never meets "оплата" and "випускаємо" never meets "випуск". Ukrainian inflects
mostly at the end of a word (case endings of 1-3 letters, verb endings up to 4), so a word's first ~60%
(at least 4 letters, always dropping 2) is a stem that the other forms share: the query matches it as a
prefix (`випуск:*`). Short words (under 5 letters) stay whole words. Latin-script words are left to the
English configuration, which stems them itself.
"""

from __future__ import annotations

import math
import re

import msgspec

from domain.memory.commands import Search

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
MIN_STEM, MIN_WORD = 4, 5


def has_cyrillic(text: str) -> bool:
    return _CYRILLIC.search(text) is not None


def stem_prefix(word: str) -> str:
    return word[: max(MIN_STEM, min(len(word) - 2, math.ceil(len(word) * 0.6)))]


def with_prefix_stems(search: Search) -> Search:
    """The search with its long Cyrillic words moved from `terms` to `prefixes` as stems."""
    terms, prefixes = [], []
    for term in search.terms:
        if len(term) >= MIN_WORD and has_cyrillic(term):
            prefixes.append(stem_prefix(term))
        else:
            terms.append(term)
    return msgspec.structs.replace(search, terms=terms, prefixes=list(dict.fromkeys(prefixes)))
