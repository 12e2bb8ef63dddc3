"""A terminal chat with an agent over the runtime's HTTP API: what it remembered, which tools ran, the reply.

The chat speaks as the agent, with the agent's own key (the runtime acts with the key it is handed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, TextIO

import httpx

from apps.agent_runtime.chat_status import Thinking

PATH = "/internal/agents/{agent_id}/messages"


class ChatError(Exception):
    """The runtime refused or failed the turn; the message is the runtime's error, ready to print."""


class ChatClient:
    def __init__(self, base_url: str, agent_id: str, key: str, channel_id: str, user_id: str,
                 microdao_id: str | None = None) -> None:
        """`key`: the agent's API key. The microDAO is the key's; one given here is checked against it."""
        self._url = base_url.rstrip("/") + PATH.format(agent_id=agent_id)
        self._identity = {"channel_id": channel_id, "user_id": user_id}
        if microdao_id is not None:
            self._identity["microdao_id"] = microdao_id
        self._headers = {"authorization": f"Bearer {key}"}
        self._http = httpx.Client(timeout=httpx.Timeout(300.0, connect=5.0))

    def use_channel(self, channel_id: str) -> None:
        self._identity["channel_id"] = channel_id

    def ask(self, text: str) -> dict[str, Any]:
        body: dict[str, Any] = self._post(text).json()
        return body

    def stream(self, text: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """(event, data) pairs: memories, tool_call, delta, then done (or error)."""
        try:
            with self._http.stream("POST", self._url, params={"stream": "true"},
                                   json={**self._identity, "text": text}, headers=self._headers) as response:
                if response.status_code != 200:
                    response.read()
                    raise ChatError(_error_text(response))
                event = "message"
                for line in response.iter_lines():
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:"):
                        yield event, json.loads(line[5:])
        except httpx.HTTPError as exc:
            raise ChatError(_unreachable(self._url, exc)) from None

    def close(self) -> None:
        self._http.close()

    def _post(self, text: str) -> httpx.Response:
        try:
            response = self._http.post(self._url, json={**self._identity, "text": text}, headers=self._headers)
        except httpx.HTTPError as exc:
            raise ChatError(_unreachable(self._url, exc)) from None
        if response.status_code != 200:
            raise ChatError(_error_text(response))
        return response


class Printer:
    """Prints a turn as it happens; the same lines whether it came streamed or whole. The thinking line, if
    any, is wiped before each line and stopped when the reply starts."""

    def __init__(self, display_name: str, out: TextIO, thinking: Thinking | None = None) -> None:
        self._name = display_name
        self._out = out
        self._replying = False
        self._thinking = thinking

    def memories(self, ids: list[str]) -> None:
        shown = ", ".join(i[:8] for i in ids) if ids else "none"
        self._line(f"  · memories used: {len(ids)} ({shown})" if ids else "  · memories used: none")

    def tool_call(self, call: dict[str, Any]) -> None:
        self._end_reply()
        arguments = json.dumps(call.get("arguments") or {}, ensure_ascii=False)
        error = call.get("error") or {}
        detail = f": {error.get('type', '')} {error.get('message', '')}".rstrip() if error else ""
        self._line(f"  · tool {call['tool_id']} {arguments} → {call['status']} ({call.get('latency_ms', 0):.0f} ms)"
                   f"{detail}")

    def delta(self, text: str) -> None:
        if self._thinking is not None:
            self._thinking.stop()
        if not self._replying:
            self._out.write(f"{self._name} › ")
            self._replying = True
        self._out.write(text)
        self._out.flush()

    def done(self, body: dict[str, Any], streamed: bool) -> None:
        if not streamed or not self._replying:
            self.delta(body["reply"])
        self._end_reply()
        for warning in body.get("warnings") or []:
            self._line(f"  ! {warning}")
        usage = body["usage"]
        cost = "unknown" if usage.get("cost_usd") is None else f"${float(usage['cost_usd']):.6f}"
        self._line(f"  · {usage['llm_calls']} LLM calls · {usage['prompt_tokens']} prompt + "
                   f"{usage['completion_tokens']} completion tokens · cost {cost} · {body['request_id']}")

    def whole(self, body: dict[str, Any]) -> None:
        self.memories(body.get("memories_used") or [])
        for call in body.get("tool_calls") or []:
            self.tool_call(call)
        self.done(body, streamed=False)

    def _end_reply(self) -> None:
        if self._replying:
            self._out.write("\n")
            self._replying = False

    def _line(self, text: str) -> None:
        if self._thinking is not None:
            self._thinking.wipe()
        self._out.write(text + "\n")
        self._out.flush()


def _error_text(response: httpx.Response) -> str:
    try:
        error = response.json()["error"]
        return f"{response.status_code} {error['type']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return f"{response.status_code}: {response.text[:300]}"


def _unreachable(url: str, exc: httpx.HTTPError) -> str:
    return f"cannot reach the agent runtime at {url} ({type(exc).__name__}); is the stack up (`daarion up`)?"
