"""Chunking: split text into pieces an embedding model reads whole, overlapping so no fact is cut in two.

Sizes are in characters. The default 1000 characters is about 220 English tokens, under the 256-token
window of all-MiniLM-L6-v2 (longer input would be silently truncated by the model). The overlap carries
the last ~150 characters (whole sentences or paragraphs where they fit) into the next chunk.

Markdown is split at ATX headings (`#` .. `######`, not inside fenced code) first; chunks never span
two sections, and each chunk starts with its heading path ("Title › Section › Subsection") so a chunk
read alone, by a person or by the model, still says what it is about. Within a section, paragraphs are
packed whole; a paragraph too long for one chunk is split at sentence ends, a sentence too long at
word boundaries.
"""

from __future__ import annotations

import re

import msgspec

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^[ \t]*(```|~~~)")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_Unit = tuple[str, str]  # (text, separator placed before it when it is not first in its chunk)


class ChunkingPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    max_chars: int = 1000
    overlap_chars: int = 150

    def __post_init__(self) -> None:
        if self.max_chars < 200:
            raise ValueError("max_chars must be at least 200")
        if not 0 <= self.overlap_chars <= self.max_chars // 2:
            raise ValueError("overlap_chars must be between 0 and half of max_chars")


def chunk_plain(text: str, policy: ChunkingPolicy, heading: str | None = None) -> list[str]:
    return _chunk_section([heading] if heading else [], text.strip(), policy)


def chunk_markdown(markdown: str, title: str, policy: ChunkingPolicy) -> list[str]:
    chunks: list[str] = []
    for path, body in markdown_sections(markdown):
        trail = path if path[:1] == [title] else [title, *path]
        chunks.extend(_chunk_section(trail, body, policy))
    return chunks


def markdown_sections(markdown: str) -> list[tuple[list[str], str]]:
    """(heading path, body) per section; sections with an empty body are folded into their children."""
    path: list[str] = []
    levels: list[int] = []
    lines: list[str] = []
    sections: list[tuple[list[str], str]] = []
    in_fence = False
    for line in markdown.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.match(line)
        if heading is None:
            lines.append(line)
            continue
        sections.append((list(path), "\n".join(lines).strip()))
        lines = []
        level = len(heading.group(1))
        while levels and levels[-1] >= level:
            levels.pop()
            path.pop()
        levels.append(level)
        path.append(heading.group(2).strip())
    sections.append((list(path), "\n".join(lines).strip()))
    return [(trail, body) for trail, body in sections if body]


def _chunk_section(trail: list[str], body: str, policy: ChunkingPolicy) -> list[str]:
    if not body:
        return []
    header = " › ".join(trail)[: policy.max_chars // 4]
    budget = policy.max_chars - (len(header) + 1 if header else 0)
    units: list[_Unit] = []
    for paragraph in _PARAGRAPH_BREAK.split(body):
        pieces = _split_paragraph(paragraph.strip(), budget)
        units.extend((piece, " " if index else "\n\n") for index, piece in enumerate(pieces))
    bodies = _pack(units, budget, policy.overlap_chars)
    return [f"{header}\n{text}" if header else text for text in bodies]


def _split_paragraph(paragraph: str, budget: int) -> list[str]:
    if not paragraph:
        return []
    if len(paragraph) <= budget:
        return [paragraph]
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(paragraph):
        pieces.extend([sentence] if len(sentence) <= budget else _split_words(sentence, budget))
    return pieces


def _split_words(text: str, budget: int) -> list[str]:
    pieces: list[str] = []
    current = ""
    for word in text.split():
        while len(word) > budget:  # a "word" longer than a chunk (a URL, base64): cut it
            if current:
                pieces.append(current)
                current = ""
            pieces.append(word[:budget])
            word = word[budget:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) > budget:
            pieces.append(current)
            candidate = word
        current = candidate
    if current:
        pieces.append(current)
    return pieces


def _pack(units: list[_Unit], budget: int, overlap: int) -> list[str]:
    chunks: list[str] = []
    current: list[_Unit] = []
    for text, separator in units:
        if current and len(_join([*current, (text, separator)])) > budget:
            chunks.append(_join(current))
            current = _tail(current, overlap)
            if current and len(_join([*current, (text, separator)])) > budget:
                current = []
        current.append((text, separator))
    if current:
        chunks.append(_join(current))
    return chunks


def _tail(units: list[_Unit], overlap: int) -> list[_Unit]:
    """The end of a finished chunk, to open the next one: whole units if they fit, else trailing words."""
    if overlap <= 0:
        return []
    kept: list[_Unit] = []
    for unit in reversed(units):
        if len(_join([unit, *kept])) > overlap:
            break
        kept.insert(0, unit)
    if kept:
        return kept
    text, separator = units[-1]
    words = text.split()
    tail: list[str] = []
    while words and len(" ".join([words[-1], *tail])) <= overlap:
        tail.insert(0, words.pop())
    return [(" ".join(tail), separator)] if tail else []


def _join(units: list[_Unit]) -> str:
    if not units:
        return ""
    return units[0][0] + "".join(separator + text for text, separator in units[1:])
