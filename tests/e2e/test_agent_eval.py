"""The agent evaluation (bench/agent_eval.py) run in the suite, deterministically: the same 22 turns and the
same scoring against the real projects data, with the LLM proxy's OpenAI-compatible provider pointed at a
local fake. Grounded mode must score as the issue demands; a model that answers with invented facts in
the wrong language must score low, be kept out of memory and be marked in the ledger."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import msgspec
import pytest

from apps.agent_runtime.app import create_app as create_runtime
from apps.agent_runtime.settings import RuntimeSettings, load_runtime_settings
from apps.llm_proxy.app import create_app as create_proxy
from apps.llm_proxy.settings import ProxySettings
from bench.eval_cases import CASES
from bench.eval_run import Target, evaluate
from bench.eval_score import TurnScore, table
from domain.agents.model import AnswerSettings
from infra.agents.service_http import ServiceEndpoint
from tests.e2e.conftest import Stack
from tests.fakes.llm_servers import FakeOpenAI
from tests.support import REPO, serve_in_thread

KEY_ENV = "DAARION_TEST_EVAL_UPSTREAM_KEY"


def _share(scores: list[TurnScore], test: Callable[[TurnScore], bool]) -> float:
    return sum(1 for s in scores if test(s)) / len(scores)


@pytest.fixture(scope="module")
def runtimes(stack: Stack) -> Iterator[dict[str, str]]:
    """Two runtimes on the stack: Sofia grounded (the fake model decides unrouted questions: it never calls a
    tool) and Sofia free on a model that lies."""
    os.environ[KEY_ENV] = "sk-test-upstream"
    shipped = load_runtime_settings(REPO / "config" / "agents.yaml")
    for conversation in shipped.seed.conversations:
        stack.remember(f"eval-seed:{conversation.days_ago}", conversation.user_message, conversation.agent_reply)
    with serve_in_thread(FakeOpenAI()) as upstream:
        proxy_config = msgspec.convert({
            "providers": {"fake": {"kind": "openai_compatible", "base_url": f"{upstream}/v1", "api_key_env": KEY_ENV}},
            "models": {"eval-ok": {"targets": [{"provider": "fake", "model": "ok"}]},
                       "eval-liar": {"targets": [{"provider": "fake", "model": "liar"}]}},
            "prices": {"ok": {"input_per_1m": "0", "output_per_1m": "0"},
                       "liar": {"input_per_1m": "0", "output_per_1m": "0"}},
            "limits": {"default": {"requests_per_minute": 100000, "tokens_per_minute": 100000000}},
        }, ProxySettings)
        with serve_in_thread(create_proxy(proxy_config)) as proxy:
            urls = {}
            sofia = shipped.agents[0]
            configs = {"grounded": msgspec.structs.replace(sofia, model="eval-ok", answer=msgspec.structs.replace(
                           sofia.answer, model_decides=True)),
                       "liar": msgspec.structs.replace(sofia, model="eval-liar", answer=AnswerSettings(mode="free"))}
            servers = []
            for name, profile in configs.items():
                services = msgspec.structs.replace(stack.config.services, llm_proxy=ServiceEndpoint(proxy, 30))
                config = RuntimeSettings([profile], services, stack.config.seed)
                server = serve_in_thread(create_runtime(config))
                servers.append(server)
                urls[name] = server.__enter__()
            try:
                yield urls
            finally:
                for server in reversed(servers):
                    server.__exit__(None, None, None)
    os.environ.pop(KEY_ENV, None)


def target(stack: Stack, runtime: str) -> Target:
    return Target(runtime, stack.projects, stack.memory, stack.key)


def test_grounded_sofia_gets_the_tools_and_facts_right_in_both_languages(
    stack: Stack, runtimes: dict[str, str],
) -> None:
    scores = evaluate(target(stack, runtimes["grounded"]), CASES)
    report = table({"grounded": scores}) + "\n" + "\n".join(f"{s.case.text}: {s.why}" for s in scores if s.why)
    assert _share(scores, lambda s: s.right) >= 0.9, report
    assert _share(scores, lambda s: s.facts) >= 0.8, report
    assert all(s.language for s in scores), report
    assert all(s.self_check == "passed" for s in scores), [(s.case.text, s.self_check) for s in scores]


def test_a_model_that_invents_facts_in_the_wrong_language_scores_low(stack: Stack, runtimes: dict[str, str]) -> None:
    scores = evaluate(target(stack, runtimes["liar"]), CASES)
    report = table({"liar": scores})
    assert _share(scores, lambda s: s.right) <= 0.2, report
    assert _share(scores, lambda s: s.facts) <= 0.2, report
    assert not any(s.language for s in scores if s.case.language == "uk"), report
    assert all("invented" in s.why for s in scores), report
    assert all(s.self_check.startswith("failed") for s in scores), report


def test_a_reply_that_fails_the_grounding_check_is_not_remembered_and_is_marked_in_the_ledger(
    stack: Stack, runtimes: dict[str, str],
) -> None:
    answer = stack.ask("Що нового в проєкті X?", channel="eval:liar-ledger", runtime=runtimes["liar"])
    body = answer.json()
    assert any("not stored in memory" in warning for warning in body["warnings"]), body
    turn = [e for e in stack.events(body["request_id"], until=lambda found: any(
        type(e).__name__ == "AgentTurnCompleted" for e in found)) if type(e).__name__ == "AgentTurnCompleted"]
    assert turn[0].grounding.startswith("failed") and turn[0].answer_mode == "free"
    recalled = stack.recall("eval:liar-ledger", "Launch the rocket")
    assert not any("Launch the rocket" in m["text"] for m in recalled["memories"] + recalled.get("short_term", []))
