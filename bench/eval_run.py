"""Runs the evaluation's turns against a running stack and scores each against the real data.

One channel per turn, so a turn is judged on its own (the seeded memories are shared by all)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from bench.eval_cases import Case, Data
from bench.eval_score import TurnScore, score


@dataclass(frozen=True)
class Target:
    runtime: str
    projects: str
    memory: str
    key: str  # Sofia's own key
    agent_id: str = "agent:sofia"
    microdao_id: str = "microdao:7"


def real_data(client: httpx.Client, target: Target) -> Data:
    base = f"{target.projects}/microdaos/{target.microdao_id}/projects"
    projects = client.get(base).raise_for_status().json()["projects"]
    tasks = {p["id"]: client.get(f"{base}/{p['id']}/tasks", params={"limit": 50}).raise_for_status().json()["tasks"]
             for p in projects}
    return {"microdao_id": target.microdao_id, "agent_id": target.agent_id, "projects": projects, "tasks": tasks}


def memories(client: httpx.Client, target: Target, query: str, used: list[str]) -> list[str]:
    """The memories found for the question, and those the turn says it used (it may have asked otherwise:
    across languages)."""
    body = {"agent_id": target.agent_id, "microdao_id": target.microdao_id, "query": query, "limit": 10}
    found = client.post(f"{target.memory}/internal/agent-memory/query", json=body).raise_for_status().json()
    read = [client.get(f"{target.memory}/internal/agent-memory/{memory_id}").json() for memory_id in used]
    return [f"{m.get('created_at') or ''} {m.get('occurred_at') or ''} {m.get('text') or ''}"
            for m in [*(found.get("memories") or []), *read]]


def ask(client: httpx.Client, target: Target, text: str) -> dict[str, Any]:
    body = {"channel_id": f"eval:{uuid.uuid4().hex[:12]}", "user_id": "member:eval", "text": text}
    response = client.post(f"{target.runtime}/internal/agents/{target.agent_id}/messages", json=body)
    if response.status_code != 200:
        return {"reply": "", "tool_calls": [], "warnings": [f"{response.status_code} {response.text[:200]}"]}
    answer: dict[str, Any] = response.json()
    return answer


def evaluate(target: Target, cases: Sequence[Case], verbose: bool = False) -> list[TurnScore]:
    scores = []
    with httpx.Client(timeout=httpx.Timeout(600, connect=5), headers={"authorization": f"Bearer {target.key}"}) as client:
        ask(client, target, "Hello")  # not scored: the first turn loads the model
        for case in cases:
            started = time.perf_counter()
            body = ask(client, target, case.text)
            seconds = time.perf_counter() - started
            known = memories(client, target, case.text, body.get("memories_used") or [])
            result = score(case, body, real_data(client, target), known, seconds)
            scores.append(result)
            if verbose:
                mark = "ok " if result.right and result.facts and result.language else "BAD"
                print(f"  {mark} {seconds:5.1f}s {case.text[:48]:<48} {result.why}", flush=True)
                if mark == "BAD":
                    print("       reply: " + " ".join(result.reply.split())[:200], flush=True)
    return scores
