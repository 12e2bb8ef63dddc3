"""The agent evaluation (bench/agent_eval.py) run in the suite, deterministically: the same 22 turns and the
same scoring against the real projects data, with the LLM proxy's OpenAI-compatible provider pointed at a
local fake. Grounded mode must score as the issue demands; a model that answers with invented facts in
the wrong language must score low, be kept out of memory and be marked in the ledger."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import httpx
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
from tests.support import REPO, serve_in_thread, wait_until

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
    across = next(s for s in scores if s.case.text == "Коли плануємо бета-запуск Project X?")
    assert across.right and across.facts, (across.why, across.reply)  # a Ukrainian question, the answer in an English memory


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


def _indexed(stack: Stack, text: str) -> None:
    """Waits until a stored turn can be found from another channel by both legs of memory's search."""
    def ready() -> bool:
        found = [m for m in stack.recall("eval:probe", text)["memories"] if text in m["text"]]
        if not found:
            return False
        record = httpx.get(f"{stack.memory}/internal/agent-memory/{found[0]['id']}", headers=stack.auth, timeout=10)
        return bool(record.json()["indexed_chunks"]) and record.json()["indexed_chunks"] == record.json()["chunks"]

    wait_until(ready, timeout=30, interval=0.1)


@pytest.mark.parametrize(("note", "question", "fact"), [
    ("Запам'ятай: демо для інвесторів у четвер о 15:00", "Коли демо для інвесторів?", "у четвер о 15:00"),
    ("Remember: the investor demo is on Thursday at 15:00", "When is the investor demo?", "Thursday at 15:00"),
])
def test_what_a_user_tells_grounded_sofia_is_remembered_and_cited_in_a_later_turn(
    stack: Stack, runtimes: dict[str, str], note: str, question: str, fact: str,
) -> None:
    told = stack.ask(note, channel="eval:note", runtime=runtimes["grounded"]).json()
    assert told["grounding"] == "passed" and told["reply"] in ("Запам'ятала.", "Noted."), told
    _indexed(stack, note)

    later = stack.ask(question, channel="eval:later", runtime=runtimes["grounded"]).json()

    assert fact in later["reply"] and later["reply"].startswith(("Мені сказали", "I was told")), later


def test_a_task_list_rendered_by_an_earlier_grounded_turn_is_never_cited_as_a_memory(
    stack: Stack, runtimes: dict[str, str],
) -> None:
    listed = stack.ask("Which tasks of Project X are done?", channel="eval:list", runtime=runtimes["grounded"]).json()
    titles = [line for line in listed["reply"].splitlines() if line.startswith("•")]
    assert titles, listed
    _indexed(stack, "Which tasks of Project X are done?")

    later = stack.ask("Which ones of Project X are done?", channel="eval:later-list", runtime=runtimes["grounded"])

    reply = later.json()["reply"]
    assert not any(title.split("”")[0].strip("• “") in reply for title in titles), reply
    assert "Which tasks of Project X are done?" not in reply  # a question asked is no fact told
