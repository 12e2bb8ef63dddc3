"""The calls the memory API tests make, each as an agent with a key of its own: store a turn, query, and
the ids a query found."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support import bearer, issue_key


@dataclass(frozen=True)
class Agent:
    """An agent registered in one microDAO (an agent belongs to exactly one), calling with its own key."""

    api: httpx.Client
    agent_id: str
    microdao: str
    key: str

    def call(self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        return self.api.request(method, path, headers={**bearer(self.key), **(headers or {})}, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("POST", path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("GET", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("DELETE", path, **kwargs)


def agent(api: httpx.Client, database_url: str, name: str, microdao: str, scopes: str | None = None) -> Agent:
    """A new agent (its id made unique from `name`) of `microdao`, with a real key (all agent scopes by default)."""
    agent_id = f"{name}-{uuid.uuid4().hex[:8]}"
    return Agent(api, agent_id, microdao, issue_key(database_url, agent_id, microdao, scopes))


def store(caller: Agent, user: str, reply: str = "Noted.", **extra: Any) -> str:
    response = caller.post("/agent-memory/store", json={"content": {"user_message": user, "agent_reply": reply},
                                                        **extra})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def query(caller: Agent, text: str, **extra: Any) -> dict[str, Any]:
    response = caller.post("/agent-memory/query", json={"query": text, "limit": 10, **extra})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def post_document(caller: Agent, title: str, **body: Any) -> dict[str, Any]:
    response = caller.post("/knowledge/documents", json={"title": title, **body})
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


def ids(result: dict[str, Any]) -> list[str]:
    return [hit["id"] for hit in result["memories"]]
