"""Conversations and evidence-labelled questions for bench/retrieval_quality.py.

REALTALK (Lee et al. 2025, arXiv 2502.13270; github.com/danny911kr/REALTALK): ten 21-day messaging-app
conversations between real people, each with ~70 memory-probing questions whose `evidence` names the
messages (`dia_id`) that answer them. The repository states no licence, so nothing of it is committed
here: the bench reads `data/Chat_*.json` from a checkout given on the command line (its `data/locomo/`
split is never read: LoCoMo is held out for checking this work). bench/data/ukrainian_dialogues.json is
ours: short parallel Ukrainian/English dialogues with questions in both languages.

A stored memory is one exchange, as an agent would store it: a turn of speaker 1 (`user_message`, with
`user_id` naming them) and the reply of speaker 2 (`agent_reply`); consecutive messages of one speaker
form one turn. A question counts as found at k when any memory holding one of its evidence messages is
among the first k hits. Questions whose evidence is only photos (messages without text) are left out.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


@dataclass
class Exchange:
    user_id: str
    user_message: str
    agent_reply: str
    occurred_at: datetime
    evidence: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Question:
    text: str
    evidence: frozenset[str]
    category: str


@dataclass
class Conversation:
    name: str
    exchanges: list[Exchange]
    questions: list[Question]


def realtalk(directory: Path) -> list[Conversation]:
    files = sorted(directory.glob("Chat_*.json"), key=lambda path: int(path.name.split("_")[1]))
    if not files:
        raise SystemExit(f"no REALTALK Chat_*.json in {directory}")
    return [_realtalk_conversation(path) for path in files]


def _realtalk_conversation(path: Path) -> Conversation:
    raw = json.loads(path.read_text())
    first, second = raw["name"]["speaker_1"], raw["name"]["speaker_2"]
    sessions = sorted((key for key in raw if key.startswith("session_") and key.count("_") == 1),
                      key=lambda key: int(key.split("_")[1]))
    exchanges: list[Exchange] = []
    for session in sessions:
        turns: list[tuple[str, list[str], list[str], datetime]] = []  # speaker, texts, dia ids, first time
        for message in raw[session]:
            text = message.get("clean_text", "").strip()
            if not text:
                continue
            if turns and turns[-1][0] == message["speaker"]:
                turns[-1][1].append(text)
                turns[-1][2].append(message["dia_id"])
            else:
                turns.append((message["speaker"], [text], [message["dia_id"]], _when(message["date_time"])))
        exchanges.extend(_exchanges(turns, first, second))
    said = {marker for exchange in exchanges for marker in exchange.evidence}
    questions = []
    for item in raw["qa"]:
        evidence = frozenset(evidence_ids(item.get("evidence", [])))
        # A question whose evidence is only photos (messages with no text) cannot be answered from text.
        if evidence & said:
            questions.append(Question(item["question"], evidence, f"realtalk-{item.get('category')}"))
    return Conversation(path.stem, exchanges, questions)


_ID = re.compile(r"D\s*(\d+):(\d+)")


def evidence_ids(labels: list[str]) -> list[str]:
    """Message ids from REALTALK's evidence labels, as written by hand: "D13:4. D14:4", "D1:11; D3:18",
    "D 2:18", "D20:17.", and ranges "D12:3-D12:5" (every message of the range)."""
    found: list[str] = []
    for label in labels:
        for part in re.split(r"[;,]|\.\s", label):
            ids = [(int(session), int(turn)) for session, turn in _ID.findall(part)]
            if "-" in part and len(ids) == 2 and ids[0][0] == ids[1][0]:
                found.extend(f"D{ids[0][0]}:{turn}" for turn in range(ids[0][1], ids[1][1] + 1))
            else:
                found.extend(f"D{session}:{turn}" for session, turn in ids)
    return found


def _exchanges(turns: list[tuple[str, list[str], list[str], datetime]], first: str, second: str) -> list[Exchange]:
    """Speaker 1's turn with speaker 2's reply; a reply with no turn before it in its session stands alone."""
    found: list[Exchange] = []
    for speaker, texts, ids, when in turns:
        joined = " ".join(texts)
        if speaker == first or not found or found[-1].agent_reply:
            found.append(Exchange(first, joined if speaker == first else "", "" if speaker == first else joined,
                                  when, set(ids)))
        else:
            found[-1].agent_reply = joined
            found[-1].evidence.update(ids)
    del second  # speaker 2 is the agent: the store knows it by the agent id, not a name
    return found


def _when(raw: str) -> datetime:
    return datetime.strptime(raw.strip(), "%d.%m.%Y, %H:%M:%S").replace(tzinfo=UTC)


def ukrainian(language: str) -> Conversation:
    """The parallel set in `language` ("uk" or "en"); questions in that language, and for "uk" also the
    English questions over the Ukrainian memories (category "cross-lingual")."""
    raw = json.loads((DATA / "ukrainian_dialogues.json").read_text())
    exchanges, questions = [], []
    for dialogue in raw["dialogues"]:
        start = datetime.fromisoformat(dialogue["date"]).replace(tzinfo=UTC)
        for index, pair in enumerate(dialogue["exchanges"]):
            marker = f"{dialogue['id']}:{index}"
            exchanges.append(Exchange(dialogue["user"], pair[language][0], pair[language][1],
                                      start.replace(minute=index), {marker}))
        for question in dialogue["questions"]:
            evidence = frozenset(f"{dialogue['id']}:{index}" for index in question["evidence"])
            questions.append(Question(question[language], evidence, f"ua-{language}"))
            if language == "uk":
                questions.append(Question(question["en"], evidence, "cross-lingual"))
    return Conversation(f"dialogues-{language}", exchanges, questions)
