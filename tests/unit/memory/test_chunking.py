"""Chunking: size bounds, overlap, heading-aware markdown."""

from __future__ import annotations

import itertools

import msgspec
import pytest

from domain.memory.chunking import ChunkingPolicy, chunk_markdown, chunk_plain, markdown_sections

POLICY = ChunkingPolicy(max_chars=300, overlap_chars=60)


def sentences(count: int, topic: str = "escrow") -> str:
    return " ".join(f"Sentence {i} explains how the {topic} step number {i} works in practice." for i in range(count))


def test_a_short_text_is_one_chunk_unchanged() -> None:
    assert chunk_plain("My dog Rex has a vet appointment on Friday.", POLICY) == [
        "My dog Rex has a vet appointment on Friday."]


def test_long_text_is_split_into_chunks_no_longer_than_the_limit() -> None:
    chunks = chunk_plain(sentences(40), POLICY)
    assert len(chunks) > 5
    assert all(len(chunk) <= POLICY.max_chars for chunk in chunks)


def test_consecutive_chunks_overlap_by_whole_sentences() -> None:
    chunks = chunk_plain(sentences(40), POLICY)
    for previous, current in itertools.pairwise(chunks):
        first_sentence = current.split(". ")[0]
        assert first_sentence in previous, "each chunk starts with the end of the one before"
        assert len(first_sentence) <= POLICY.overlap_chars


def test_no_sentence_is_lost_between_chunks() -> None:
    text = sentences(40)
    joined = " ".join(chunk_plain(text, POLICY))
    for i in range(40):
        assert f"Sentence {i} explains" in joined


def test_paragraphs_are_kept_whole_when_they_fit() -> None:
    paragraphs = [f"Paragraph {i}: " + "word " * 20 for i in range(6)]
    chunks = chunk_plain("\n\n".join(p.strip() for p in paragraphs), POLICY)
    for paragraph in paragraphs:
        assert any(paragraph.strip() in chunk for chunk in chunks)


def test_a_word_longer_than_a_chunk_is_cut_rather_than_overflowing() -> None:
    chunks = chunk_plain("start " + "x" * 1000 + " end", POLICY)
    assert all(len(chunk) <= POLICY.max_chars for chunk in chunks)
    assert "".join(chunks).count("x") >= 1000


def test_markdown_chunks_carry_their_heading_path_and_never_span_sections() -> None:
    markdown = (
        "# Handbook\n\nIntro text.\n\n## Payments\n\n" + sentences(12, "payment") +
        "\n\n### Refunds\n\nRefunds take five days.\n\n## Voting\n\nProposals need a 60% quorum.\n"
    )
    chunks = chunk_markdown(markdown, "Handbook", POLICY)
    assert chunks[0] == "Handbook\nIntro text."
    payment_chunks = [c for c in chunks if c.startswith("Handbook › Payments\n")]
    assert len(payment_chunks) > 1
    assert all("payment" in c and "Refunds" not in c.split("\n", 1)[1] for c in payment_chunks)
    assert "Handbook › Payments › Refunds\nRefunds take five days." in chunks
    assert chunks[-1] == "Handbook › Voting\nProposals need a 60% quorum."
    assert all(len(chunk) <= POLICY.max_chars for chunk in chunks)


def test_the_title_heads_the_path_when_the_document_has_no_top_heading() -> None:
    assert chunk_markdown("## Setup\n\nInstall it.", "Guide", POLICY) == ["Guide › Setup\nInstall it."]


def test_a_hash_line_inside_a_code_fence_is_not_a_heading() -> None:
    sections = markdown_sections("# Tools\n\n```bash\n# install\npip install x\n```\n")
    assert sections == [(["Tools"], "```bash\n# install\npip install x\n```")]


def test_sections_without_text_fold_into_their_children() -> None:
    assert markdown_sections("# A\n\n## B\n\ntext") == [(["A", "B"], "text")]


@pytest.mark.parametrize("raw", [{"max_chars": 100}, {"max_chars": 1000, "overlap_chars": 600}])
def test_a_chunking_policy_out_of_bounds_is_rejected(raw: dict[str, int]) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(raw, ChunkingPolicy)
