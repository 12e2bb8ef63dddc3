"""The calls the memory API tests make: store a turn, query, and the ids a query found."""

from __future__ import annotations

from typing import Any

import httpx


def store(api: httpx.Client, agent: str, microdao: str, user: str, reply: str = "Noted.", **extra: Any) -> str:
    response = api.post("/agent-memory/store", json={
        "agent_id": agent, "microdao_id": microdao, "content": {"user_message": user, "agent_reply": reply}, **extra})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def query(api: httpx.Client, agent: str, microdao: str, text: str, **extra: Any) -> dict[str, Any]:
    response = api.post("/agent-memory/query", json={"agent_id": agent, "microdao_id": microdao, "query": text,
                                                     "limit": 10, **extra})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def ids(result: dict[str, Any]) -> list[str]:
    return [hit["id"] for hit in result["memories"]]
