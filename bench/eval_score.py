"""Scores one turn of the agent evaluation against the real data the tools read (fetched after the turn):

  tools     every expected call was made with (at least) the expected arguments; no tool at all where none
            is needed; no write nobody asked for
  grounded  every date, id, quoted name or title, project or task named in the reply exists in the real data
            or the memories, and a status said beside a task's title is that task's real status
  facts     every asked-for fact is in the reply
  language  the reply (quotations aside) is in the question's language
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from typing import Any

from bench.eval_cases import Case, Data
from domain.agents.grounding import claims, normal
from domain.agents.language import speaks

WRITES = frozenset({"task.create"})
STATUS_WORDS = {"todo": ("to do", "todo", "до виконання"), "in_progress": ("in progress", "в роботі"),
                "done": ("done", "виконано", "completed")}


@dataclass(frozen=True)
class TurnScore:
    case: Case
    reply: str
    calls: list[tuple[str, dict[str, Any]]]
    tools: bool
    grounded: bool
    facts: bool
    language: bool
    seconds: float
    why: str
    self_check: str  # the runtime's own grounding check of the reply ("passed", "failed: ...", "" unchecked)
    prompt_tokens: int = 0  # all the turn's LLM calls together

    @property
    def right(self) -> bool:
        return self.tools and self.grounded


def score(case: Case, body: dict[str, Any], data: Data, memories: list[str], seconds: float) -> TurnScore:
    reply = str(body.get("reply") or "")
    calls = [(str(c["tool_id"]), dict(c.get("arguments") or {})) for c in body.get("tool_calls") or []]
    tools_ok, tools_why = _tools(case, calls, data)
    invented = _invented(reply, case.text, data, memories)
    missing = [fact for fact in case.facts(data) if fact.lower() not in reply.lower()]
    language = speaks(reply, case.language)
    why = "; ".join(filter(None, [tools_why, f"invented: {', '.join(invented[:3])}" if invented else "",
                                  f"missing: {', '.join(missing[:3])}" if missing else "",
                                  "" if language else "wrong language"]))
    return TurnScore(case, reply, calls, tools_ok, not invented, not missing, language, seconds, why,
                     str(body.get("grounding") or ""), int((body.get("usage") or {}).get("prompt_tokens") or 0))


def _tools(case: Case, calls: list[tuple[str, dict[str, Any]]], data: Data) -> tuple[bool, str]:
    if not case.tools:
        return (not calls, f"needless tools {[c[0] for c in calls]}" if calls else "")
    for tool_id, expected in case.tools:
        wanted = expected(data)
        if not any(t == tool_id and all(a.get(k) == v for k, v in wanted.items()) for t, a in calls):
            return False, f"no {tool_id} {json.dumps(wanted, ensure_ascii=False)}"
    unasked = [t for t, _ in calls if t in WRITES and t not in {tool for tool, _ in case.tools}]
    return (not unasked, f"unasked writes {unasked}" if unasked else "")


def _invented(reply: str, question: str, data: Data, memories: list[str]) -> list[str]:
    known = normal(json.dumps(data, ensure_ascii=False, default=str) + " " + " ".join(memories) + " " + question)
    invented = [claim for claim in claims(reply) if normal(claim) not in known]
    tasks = {t["title"].lower(): t["status"] for ts in data["tasks"].values() for t in ts}
    for line in reply.lower().splitlines():
        named = [title for title in tasks if title in line]
        said = {s for s, words in STATUS_WORDS.items() for w in words if w in line.replace(named[0], "")} if named else set()
        if len(named) == 1 and said and tasks[named[0]] not in said:
            invented.append(f"{named[0]} is {'/'.join(sorted(said))}")
    return invented


def percent(scores: list[TurnScore], test: Any) -> str:
    return f"{100 * sum(1 for s in scores if test(s)) / len(scores):.0f}%" if scores else "-"


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return statistics.median(ordered) if q == 0.5 else ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def table(results: dict[str, list[TurnScore]]) -> str:
    head = (f"{'config':<44}{'turns':>6}{'tools+grounded':>16}{'all facts':>11}{'lang uk':>9}{'lang en':>9}"
            f"{'p50 s':>8}{'p95 s':>8}{'prompt tok p50':>16}")
    rows = [head, "-" * len(head)]
    for name, scores in results.items():
        seconds = [s.seconds for s in scores]
        rows.append(f"{name:<44}{len(scores):>6}{percent(scores, lambda s: s.right):>16}"
                    f"{percent(scores, lambda s: s.facts):>11}"
                    f"{percent([s for s in scores if s.case.language == 'uk'], lambda s: s.language):>9}"
                    f"{percent([s for s in scores if s.case.language == 'en'], lambda s: s.language):>9}"
                    f"{quantile(seconds, 0.5):>8.2f}{quantile(seconds, 0.95):>8.2f}"
                    f"{quantile([float(s.prompt_tokens) for s in scores], 0.5):>16.0f}")
    return "\n".join(rows)
