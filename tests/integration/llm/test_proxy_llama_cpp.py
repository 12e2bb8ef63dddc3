"""The llama.cpp provider behind the real proxy: SmolLM2-135M answering, streaming, deciding on tools;
and, with no weights, routing falling through to the next target."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest

from apps.llm_proxy.app import create_app
from apps.llm_proxy.settings import ProxySettings
from domain.ledger.application import UsageLedger
from domain.ledger.events import LlmCallCompleted
from infra.ledger.event_store import open_ledger
from tests.local_llm import needs_local_llm
from tests.proxy_support import auth, events_of
from tests.support import serve_in_thread

URL = "/internal/llm/proxy"
PROJECTS = {"type": "function", "function": {"name": "projects__list", "description":
            "List the projects of the caller's microDAO, with the number of open tasks of each.",
            "parameters": {"type": "object", "properties": {}, "additionalProperties": False}}}
TASKS = {"type": "function", "function": {"name": "tasks__list", "description": "Recent tasks of one project.",
         "parameters": {"type": "object", "required": ["project_id"], "additionalProperties": False,
                        "properties": {"project_id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}}}}}


@pytest.fixture(scope="module")
def local_proxy(database_url: str) -> Iterator[str]:
    raw = {
        "providers": {"stub": {"kind": "stub"}, "llama": {"kind": "llama_cpp", "threads": 2},
                      "no_weights": {"kind": "llama_cpp", "model_path": "/nonexistent/model.gguf"}},
        "models": {"local": {"targets": [{"provider": "llama", "model": "smollm2-135m-instruct", "timeout_s": 120}]},
                   "local-or-stub": {"targets": [{"provider": "no_weights", "model": "smollm2-135m-instruct"},
                                                 {"provider": "stub", "model": "stub-1"}]}},
        "prices": {"smollm2-135m-instruct": {"input_per_1m": "0", "output_per_1m": "0"}},
    }
    with serve_in_thread(create_app(msgspec.convert(raw, ProxySettings))) as base:
        yield base


@pytest.fixture(scope="module")
def usage_ledger(database_url: str) -> Iterator[UsageLedger]:
    opened = open_ledger(database_url)
    yield opened
    opened.close()


def ask(proxy: str, text: str, **extra: Any) -> httpx.Response:
    body = {"model": extra.pop("model", "local"), "messages": [{"role": "user", "content": text}],
            "metadata": {"agent_id": "agent:sofia"}, **extra}
    return httpx.post(proxy + URL, json=body, timeout=180, headers=auth())


def test_a_llama_cpp_target_without_weights_falls_back_to_the_next_target(local_proxy: str, usage_ledger: UsageLedger) -> None:
    response = ask(local_proxy, "hello", model="local-or-stub")
    assert response.status_code == 200, response.text
    assert response.headers["x-daarion-provider"] == "stub"
    [event] = events_of(usage_ledger, response.headers["x-request-id"])
    assert isinstance(event, LlmCallCompleted) and event.fallbacks == 1


class TestSmolLM2:
    pytestmark = needs_local_llm

    def test_it_answers_through_the_proxy_with_its_real_token_usage(self, local_proxy: str, usage_ledger: UsageLedger) -> None:
        response = ask(local_proxy, "What is the capital of France?", max_tokens=40)
        assert response.status_code == 200, response.text
        body = response.json()
        assert response.headers["x-daarion-provider"] == "llama"
        assert body["choices"][0]["message"]["content"].strip()
        usage = body["usage"]
        assert usage["prompt_tokens"] == 37  # SmolLM2's chat template around the question, as its tokenizer counts
        assert 1 <= usage["completion_tokens"] <= 40
        [event] = events_of(usage_ledger, response.headers["x-request-id"])
        assert (event.provider, event.completion_tokens) == ("llama", usage["completion_tokens"])

    def test_it_streams_its_answer_and_ends_with_the_usage(self, local_proxy: str) -> None:
        body = {"model": "local", "messages": [{"role": "user", "content": "Say hello to the team."}],
                "metadata": {"agent_id": "agent:sofia"}, "stream": True, "max_tokens": 30}
        with httpx.stream("POST", local_proxy + URL, json=body, timeout=180, headers=auth()) as response:
            chunks = [json.loads(line[5:]) for line in response.iter_lines()
                      if line.startswith("data:") and line[5:].strip() != "[DONE]"]
        text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
        assert text.strip() and sum(1 for c in chunks if c["choices"]) > 3
        assert 1 <= chunks[-1]["usage"]["completion_tokens"] <= 30

    def test_a_forced_tool_choice_gets_a_call_whose_arguments_fit_the_schema(self, local_proxy: str) -> None:
        response = ask(local_proxy, "Show the tasks of Project X", tools=[PROJECTS, TASKS],
                       tool_choice={"type": "function", "function": {"name": "tasks__list"}})
        message = response.json()["choices"][0]["message"]
        [call] = message["tool_calls"]
        assert call["function"]["name"] == "tasks__list"
        assert isinstance(json.loads(call["function"]["arguments"])["project_id"], str)

    def test_asked_about_projects_in_english_it_decides_to_list_them(self, local_proxy: str) -> None:
        """What SmolLM2-135M really does (greedy decision under the grammar): it picks projects__list for
        this English question, and nothing for a greeting. (It picks no tool for the Ukrainian one.)"""
        system = {"role": "system", "content": "You are Sofia, the assistant of microDAO 7."}
        asked = [system, {"role": "user", "content": "Sofia, what's new in Project X?"}]
        body = {"model": "local", "messages": asked, "metadata": {"agent_id": "agent:sofia"}, "tools": [PROJECTS, TASKS]}
        message = httpx.post(local_proxy + URL, json=body, timeout=180, headers=auth()).json()["choices"][0]["message"]
        assert [c["function"]["name"] for c in message["tool_calls"]] == ["projects__list"]
        greeting = {**body, "messages": [system, {"role": "user", "content": "Hello!"}], "max_tokens": 30}
        answer = httpx.post(local_proxy + URL, json=greeting, timeout=180, headers=auth()).json()["choices"][0]
        assert answer["message"].get("tool_calls") is None and answer["message"]["content"].strip()
