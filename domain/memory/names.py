"""Names in a query that no memory contains, left out of the text the embedder reads.

"What sports does Kevin like?" asks about Kevin, but Kevin's memories rarely say his name: he wrote them.
A name that no memory the caller may see contains cannot help the full-text leg find one, and in the
query's vector it pulls towards whatever the embedder associates with the name instead of towards sport.
So the vector leg embeds "What sports does like?" when no memory says "Kevin"; when one does, the name
stays. Only capitalised words that do not start a sentence are candidates: "What", "Kevin." and "I" at
the start of a clause are not names. Applies to Latin and Cyrillic script alike (Олена, Kyiv).
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_][^\W_]*", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?:;]\s*$")
# Capitalised, but dates: the temporal boost reads them (domain.memory.temporal).
_CALENDAR = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "january",
             "february", "march", "april", "june", "july", "august", "september", "october", "november",
             "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}


def capitalised_names(query: str) -> list[str]:
    """Capitalised words that do not open a sentence, in order, each once."""
    names: dict[str, None] = {}
    for match in _WORD.finditer(query):
        word = match.group()
        opens_sentence = _SENTENCE_END.search(query[: match.start()]) is not None or not query[: match.start()].strip()
        if len(word) > 1 and word[0].isupper() and not opens_sentence and word.lower() not in _CALENDAR:
            names[word] = None
    return list(names)


def without_words(query: str, words: set[str]) -> str:
    """The query with each of `words` (and a possessive 's after it) taken out, spaces tidied."""
    if not words:
        return query
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
                         + r")(?:['’]s)?\b", re.UNICODE)
    tidy = re.sub(r"\s+([,.?!;:])", r"\1", re.sub(r"\s{2,}", " ", pattern.sub("", query)))
    return re.sub(r"[,;:]+([.?!,;:])", r"\1", tidy).strip()
