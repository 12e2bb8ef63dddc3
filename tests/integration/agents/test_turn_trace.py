"""One agent turn is one OpenTelemetry trace across the runtime, the proxy, memory, Toolcore and the projects
service (W3C traceparent between them, on to the LLM upstream), with the GenAI conventions' attributes, the
ledger's own figures for tokens and cost, and no secret in any span; the proxy's embeddings calls are traced
the same way."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import msgspec
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from apps.agent_runtime.app import create_app as create_runtime
from apps.agent_runtime.settings import RuntimeSettings, SeedSettings, ServicesSettings
from apps.llm_proxy.app import create_app as create_proxy
from apps.llm_proxy.settings import ProxySettings
from apps.memory.app import create_app as create_memory
from apps.projects.app import create_app as create_projects
from apps.toolcore.app import create_app as create_toolcore
from domain.agents.model import AgentProfile, ToolSettings
from domain.ledger.application import UsageLedger
from domain.ledger.events import AgentTurnCompleted, EmbeddingsCompleted, LlmCallCompleted
from infra.agents.service_http import ServiceEndpoint
from tests.fakes.llm_servers import FakeOpenAI
from tests.fakes.memory import FakeEmbedder
from tests.memory_support import memory_settings
from tests.proxy_support import events_of
from tests.support import bearer, issue_key, serve_in_thread, wait_until
from tests.tracing_support import attribute_values, collected_spans

UPSTREAM_KEY = "sk-otel-upstream-4f1e9a"
SOFIA = AgentProfile("agent:sofia", "microdao:7", "Sofia", "You are Sofia.", "traced",
                     tools=ToolSettings(include=("projects.list",)))
SERVICES = {"daarion.agent-runtime", "daarion.llm-proxy", "daarion.memory", "daarion.toolcore", "daarion.projects"}


class TracedStack(msgspec.Struct):
    runtime: str
    proxy: str
    upstream: FakeOpenAI
    spans: InMemorySpanExporter


@pytest.fixture(scope="module")
def stack(database_url: str) -> Iterator[TracedStack]:
    upstream = FakeOpenAI(UPSTREAM_KEY)
    proxy_settings = msgspec.convert({
        "providers": {"fake": {"kind": "openai_compatible", "base_url": "", "api_key_env": "TEST_OTEL_UPSTREAM_KEY"}},
        "models": {"traced": {"targets": [{"provider": "fake", "model": "tool-once"}]}},
        "embeddings": {"traced-embed": {"targets": [{"provider": "fake", "model": "ok-embed"}]}},
        "prices": {"tool-once": {"input_per_1m": "0.4", "output_per_1m": "1.6"},
                   "ok-embed": {"input_per_1m": "0.02", "output_per_1m": "0"}},
        "limits": {"default": {"requests_per_minute": 100000, "tokens_per_minute": 100000000}},
    }, ProxySettings)
    with ExitStack() as running, pytest.MonkeyPatch.context() as env:
        def serve(app: Any) -> str:
            return running.enter_context(serve_in_thread(app))

        upstream_url = serve(upstream)  # not traced: it stands for a provider outside
        spans = running.enter_context(collected_spans())
        env.setenv("TEST_OTEL_UPSTREAM_KEY", UPSTREAM_KEY)
        env.setenv("DAARION_PROJECTS_URL", serve(create_projects()))
        toolcore = serve(create_toolcore())
        memory = serve(create_memory(memory_settings(), embedder=FakeEmbedder(model="fake-otel", dimensions=384)))
        proxy_settings.providers["fake"] = msgspec.structs.replace(proxy_settings.providers["fake"],
                                                                  base_url=upstream_url)
        proxy = serve(create_proxy(proxy_settings))
        services = ServicesSettings(ServiceEndpoint(proxy, 30), ServiceEndpoint(memory, 10),
                                    ServiceEndpoint(toolcore, 10))
        runtime = serve(create_runtime(RuntimeSettings([SOFIA], services, SeedSettings(on_start=False))))
        yield TracedStack(runtime, proxy, upstream, spans)


class Trace:
    def __init__(self, spans: list[ReadableSpan]) -> None:
        self.spans = spans
        self.by_id = {span.context.span_id: span for span in spans}

    def parent(self, span: ReadableSpan) -> ReadableSpan:
        assert span.parent is not None, f"{span.name} has no parent"
        return self.by_id[span.parent.span_id]

    def named(self, name: str) -> list[ReadableSpan]:
        return [span for span in self.spans if span.name == name]

    def one(self, name: str) -> ReadableSpan:
        found = self.named(name)
        assert len(found) == 1, sorted(span.name for span in self.spans)
        return found[0]

    def children(self, span: ReadableSpan) -> list[ReadableSpan]:
        return [child for child in self.spans if child.parent and child.parent.span_id == span.context.span_id]

    def answered(self) -> bool:
        """Every HTTP call between the services has its server's span, the root's included."""
        calls = [s for s in self.spans if s.kind == SpanKind.CLIENT and "http.request.method" in (s.attributes or {})]
        served = {s.parent.span_id for s in self.spans if s.kind == SpanKind.SERVER and s.parent}
        return any(s.kind == SpanKind.SERVER and s.parent is None for s in self.spans) and \
            bool(calls) and all(call.context.span_id in served for call in calls)


def scope_of(span: ReadableSpan) -> str:
    assert span.instrumentation_scope is not None
    return span.instrumentation_scope.name


def test_one_agent_turn_is_one_trace_through_every_service_with_genai_attributes_and_the_ledgers_figures(
    stack: TracedStack, database_url: str, ledger: UsageLedger,
) -> None:
    key = issue_key(database_url, SOFIA.id, "microdao:7")
    stack.spans.clear()

    response = httpx.post(f"{stack.runtime}/internal/agents/{SOFIA.id}/messages", headers=bearer(key), timeout=60,
                          json={"channel_id": "cli:otel", "user_id": "member:olena", "text": "Which projects?"})

    assert response.status_code == 200, response.text
    assert [(c["tool_id"], c["status"]) for c in response.json()["tool_calls"]] == [("projects.list", "succeeded")]
    request_id = response.headers["x-request-id"]
    wait_until(lambda: Trace(list(stack.spans.get_finished_spans())).answered(), timeout=10)
    turn = Trace(list(stack.spans.get_finished_spans()))
    assert len({span.context.trace_id for span in turn.spans}) == 1
    assert {scope_of(span) for span in turn.spans} == SERVICES

    # runtime server span -> invoke_agent -> the turn's HTTP calls -> each service's server span
    root = turn.one("POST /internal/agents/{agent_id}/messages")
    assert root.parent is None and root.kind == SpanKind.SERVER and scope_of(root) == "daarion.agent-runtime"
    assert (root.attributes or {})["daarion.request_id"] == request_id
    agent = turn.one("invoke_agent Sofia")
    assert turn.parent(agent) is root
    calls = turn.children(agent)
    assert calls and all(call.kind == SpanKind.CLIENT for call in calls)
    served = {span.name: scope_of(span) for call in calls for span in turn.children(call)}
    assert served == {"POST /internal/llm/proxy": "daarion.llm-proxy", "GET /internal/tools": "daarion.toolcore",
                      "POST /internal/tools/call": "daarion.toolcore",
                      "POST /internal/agent-memory/query": "daarion.memory",
                      "POST /internal/agent-memory/store": "daarion.memory"}
    assert len(turn.named("POST /internal/llm/proxy")) == 2  # the tool call, then the answer

    # proxy server span -> chat span, the client span of the provider call: its traceparent reached the provider
    chats = turn.named("chat tool-once")
    assert len(chats) == 2 and {turn.parent(chat).name for chat in chats} == {"POST /internal/llm/proxy"}
    assert {chat.kind for chat in chats} == {SpanKind.CLIENT} and not [c for s in chats for c in turn.children(s)]
    sent = {r["headers"].get("traceparent") for r in stack.upstream.requests[-2:]}
    assert sent == {f"00-{root.context.trace_id:032x}-{s.context.span_id:016x}-{s.context.trace_flags:02x}"
                    for s in chats}

    # toolcore server span -> execute_tool -> its HTTP call -> the projects service's server span
    tool = turn.one("execute_tool projects.list")
    assert turn.parent(tool).name == "POST /internal/tools/call"
    [projects_call] = turn.children(tool)
    [projects] = turn.children(projects_call)
    assert projects.name == "GET /microdaos/{microdao_id}/projects" and scope_of(projects) == "daarion.projects"
    assert (tool.attributes or {})["gen_ai.operation.name"] == "execute_tool"
    assert (tool.attributes or {})["gen_ai.tool.name"] == "projects.list"

    # memory server span -> retrieval
    retrieval = turn.one("retrieval memory")
    assert turn.parent(retrieval).name == "POST /internal/agent-memory/query"
    assert (retrieval.attributes or {})["gen_ai.operation.name"] == "retrieval"
    assert (retrieval.attributes or {})["gen_ai.agent.id"] == SOFIA.id

    # the GenAI figures are the ledger's
    events = events_of(ledger, request_id)
    llm_calls = [e for e in events if isinstance(e, LlmCallCompleted)]
    assert sorted(((c.attributes or {})["gen_ai.usage.input_tokens"], (c.attributes or {})["gen_ai.usage.output_tokens"],
                   (c.attributes or {})["gen_ai.usage.cost.amount"]) for c in chats) == \
        sorted((e.prompt_tokens, e.completion_tokens, float(e.cost_usd or "nan")) for e in llm_calls)
    for chat in chats:
        attributes = chat.attributes or {}
        assert (attributes["gen_ai.operation.name"], attributes["gen_ai.provider.name"],
                attributes["gen_ai.request.model"], attributes["gen_ai.response.model"],
                attributes["gen_ai.usage.cost.currency"]) == ("chat", "openai_compatible", "tool-once", "tool-once", "USD")
    [turn_entry] = [e for e in events if isinstance(e, AgentTurnCompleted)]
    assert turn_entry.cost_usd is not None
    assert {k: v for k, v in (agent.attributes or {}).items() if k.startswith("gen_ai.")} == {
        "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.id": SOFIA.id, "gen_ai.agent.name": "Sofia",
        "gen_ai.request.model": "traced", "gen_ai.conversation.id": "cli:otel",
        "gen_ai.usage.input_tokens": turn_entry.prompt_tokens,
        "gen_ai.usage.output_tokens": turn_entry.completion_tokens,
        "gen_ai.usage.cost.amount": float(turn_entry.cost_usd), "gen_ai.usage.cost.currency": "USD"}

    # no key, no header, no user text in any span
    recorded = "\n".join(value for span in turn.spans for value in attribute_values(span))
    for secret in (key, UPSTREAM_KEY, "Bearer", "Which projects?"):
        assert secret not in recorded
    assert not any(name.startswith("http.request.header") for span in turn.spans for name in span.attributes or {})


def test_a_streamed_turn_is_one_trace_too_and_its_agent_span_has_the_turns_usage(
    stack: TracedStack, database_url: str, ledger: UsageLedger,
) -> None:
    key = issue_key(database_url, SOFIA.id, "microdao:7")
    stack.spans.clear()

    response = httpx.post(f"{stack.runtime}/internal/agents/{SOFIA.id}/messages", params={"stream": "true"},
                          headers=bearer(key), timeout=60,
                          json={"channel_id": "cli:otel", "user_id": "member:olena", "text": "Projects, please"})

    assert response.status_code == 200 and "event: done" in response.text, response.text
    request_id = response.headers["x-request-id"]
    wait_until(lambda: Trace(list(stack.spans.get_finished_spans())).answered(), timeout=10)
    turn = Trace(list(stack.spans.get_finished_spans()))
    assert len({span.context.trace_id for span in turn.spans}) == 1
    agent = turn.one("invoke_agent Sofia")
    assert turn.parent(agent).name == "POST /internal/agents/{agent_id}/messages"
    assert {turn.parent(turn.parent(chat)).name for chat in turn.named("chat tool-once")} == {"POST"}
    assert {turn.parent(turn.parent(turn.parent(chat))) for chat in turn.named("chat tool-once")} == {agent}
    [entry] = [e for e in events_of(ledger, request_id) if isinstance(e, AgentTurnCompleted)]
    attributes = agent.attributes or {}
    assert (attributes["gen_ai.usage.input_tokens"], attributes["gen_ai.usage.output_tokens"]) == \
        (entry.prompt_tokens, entry.completion_tokens)


def test_an_embeddings_call_through_the_proxy_is_an_embeddings_span_whose_traceparent_reached_the_provider(
    stack: TracedStack, database_url: str, ledger: UsageLedger,
) -> None:
    key = issue_key(database_url, SOFIA.id, "microdao:7")
    stack.spans.clear()

    response = httpx.post(f"{stack.proxy}/v1/embeddings", headers=bearer(key), timeout=30,
                          json={"model": "traced-embed", "input": ["green tea", "black coffee please"]})

    assert response.status_code == 200, response.text
    wait_until(lambda: bool(Trace(list(stack.spans.get_finished_spans())).named("POST /v1/embeddings")), timeout=10)
    call = Trace(list(stack.spans.get_finished_spans()))
    embeddings = call.one("embeddings ok-embed")
    assert call.parent(embeddings).name == "POST /v1/embeddings" and embeddings.kind == SpanKind.CLIENT
    assert stack.upstream.requests[-1]["headers"]["traceparent"] == (
        f"00-{embeddings.context.trace_id:032x}-{embeddings.context.span_id:016x}-{embeddings.context.trace_flags:02x}")
    [event] = [e for e in events_of(ledger, response.headers["x-request-id"]) if isinstance(e, EmbeddingsCompleted)]
    attributes = embeddings.attributes or {}
    assert (attributes["gen_ai.operation.name"], attributes["gen_ai.request.model"],
            attributes["gen_ai.usage.input_tokens"], attributes["gen_ai.usage.cost.amount"]) == \
        ("embeddings", "ok-embed", event.prompt_tokens, float(event.cost_usd or "nan"))
    assert "green tea" not in "\n".join(attribute_values(embeddings))
