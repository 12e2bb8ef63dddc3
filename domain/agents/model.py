"""The agent runtime's vocabulary: an agent's profile, what one turn takes, sees, runs and returns.

Profiles double as the schema of config/agents.yaml (strict: an unknown key is a start-up error).
Turn events are a tagged union so the streaming endpoint can send them as they happen.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from domain.kernel.credential import Credential
from domain.kernel.ids import SubjectId
from domain.kernel.tool_calls import ToolCallStatus
from domain.kernel.usage import Usage

MemoryTier = Literal["short", "mid", "long"]

class MemorySettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    enabled: bool = True
    tiers: tuple[MemoryTier, ...] = ("short", "mid", "long")
    limit: Annotated[int, Meta(ge=0, le=50)] = 5               # mid/long-term memories in the prompt
    short_term_turns: Annotated[int, Meta(ge=0, le=50)] = 6    # latest turns of the channel, as chat history
    min_score: float = 0.0
    max_chars: Annotated[int, Meta(ge=50, le=20_000)] = 600    # per memory, so one long memory cannot crowd out the rest
    store_turns: bool = True

    def recalled_tiers(self) -> list[MemoryTier]:
        """The tiers a turn asks memory for: none when disabled, "short" only when its turns are wanted."""
        if not self.enabled:
            return []
        return [tier for tier in self.tiers if tier != "short" or self.short_term_turns > 0]

    @property
    def stores_turns(self) -> bool:
        return self.enabled and self.store_turns


class ToolSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Which of the tools Toolcore allows this agent are offered to the model (Toolcore's allowlist decides
    what may run; `include` only narrows what the model is shown)."""

    include: tuple[str, ...] = ("*",)
    max_steps: Annotated[int, Meta(ge=0, le=8)] = 4
    max_calls_per_step: Annotated[int, Meta(ge=1, le=16)] = 4
    max_result_chars: Annotated[int, Meta(ge=200, le=200_000)] = 12_000


AnswerMode = Literal["free", "grounded"]


class Route(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A kind of question the runtime recognises itself in grounded mode: the first route with one of its
    `when` fragments in the question (lower-cased) runs its `tools` in order, later ones getting arguments
    from the question and from earlier results (a project named in the question -> its id)."""

    when: tuple[str, ...]
    tools: tuple[str, ...]


class AnswerSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How the reply is made. `free`: the model writes it. `grounded` (for small local models, which garble
    languages and invent facts): the runtime picks the tools (`routes`; the model's grammar-bound decision
    when none matches) and renders the reply itself, in the question's language, from tool results and
    memories only."""

    mode: AnswerMode = "free"
    routes: tuple[Route, ...] = ()
    # Memory's scores are reciprocal-rank fusion (domain/memory/ranking.py): 1/61 ~ 0.016 is the best that one
    # leg (vector or full text) gives alone, so 0.025 asks that both found it near the top.
    min_memory_score: Annotated[float, Meta(ge=0)] = 0.025  # a memory below this is not cited
    min_shared_words: Annotated[int, Meta(ge=0)] = 2  # nor one sharing fewer words (4+ letters) with the question
    model_decides: bool = True  # on a question no route or memory answers, ask the model for a tool
    check: bool = True  # the grounding check of every reply (either mode) before the turn is remembered
    max_items: Annotated[int, Meta(ge=1, le=50)] = 6       # list lines in one reply


class PromptSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What a free-mode model reads, made compact for a small local model (SmolLM2-135M read 1,306 tokens
    for the seed question: slow on 2 cores, and it loses the question among them). Defaults change nothing."""

    system_prompt: str = ""  # a short one in place of the agent's own (also for grounded mode's decision)
    budget_chars: Annotated[int, Meta(ge=0)] = 0  # memories (best first) then history (newest first); 0: no cap
    result_fields: tuple[str, ...] = ()  # the keys of tool results the model reads (at any depth); (): all
    result_items: Annotated[int, Meta(ge=0)] = 0  # items of each list in a tool result; 0: all


class AgentProfile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: SubjectId
    microdao_id: SubjectId
    display_name: Annotated[str, Meta(min_length=1, max_length=100)]
    system_prompt: Annotated[str, Meta(min_length=1)]
    model: Annotated[str, Meta(min_length=1)]
    tools: ToolSettings = ToolSettings()
    memory: MemorySettings = MemorySettings()
    answer: AnswerSettings = AnswerSettings()
    prompt: PromptSettings = PromptSettings()
    max_tokens: Annotated[int, Meta(ge=1, le=32_768)] = 512
    temperature: Annotated[float, Meta(ge=0, le=2)] | None = None


class TurnContext(msgspec.Struct, frozen=True):
    """Who is talking to whom, the one request id every downstream call carries, and the credential they
    are made with (None: the calls go without one and the services refuse them)."""

    request_id: str
    agent_id: str
    microdao_id: str
    channel_id: str
    user_id: str
    credential: Credential | None = None


class RecalledTurn(msgspec.Struct, frozen=True):
    id: str
    user_message: str = ""
    agent_reply: str = ""
    text: str = ""


class RecalledMemory(msgspec.Struct, frozen=True):
    id: str
    tier: str
    kind: str
    text: str
    score: float = 0.0
    created_at: str | None = None


class Recall(msgspec.Struct, frozen=True):
    short_term: list[RecalledTurn] = []
    memories: list[RecalledMemory] = []


class LlmCall(msgspec.Struct, frozen=True):
    model: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None


class LlmReply(msgspec.Struct, frozen=True):
    content: str | None
    tool_calls: list[dict[str, Any]] | None
    usage: Usage
    cost_usd: Decimal | None = None
    provider: str = ""


class ToolResult(msgspec.Struct, frozen=True):
    """What Toolcore said about one call: a result, or an error the model will read."""

    status: ToolCallStatus
    latency_ms: float = 0.0
    result: Any = None
    error: dict[str, Any] | None = None


class ToolRun(msgspec.Struct, frozen=True):
    """One tool call of a turn, as the caller sees it (results stay between the model and Toolcore)."""

    tool_id: str
    arguments: dict[str, Any]
    status: str
    step: int
    latency_ms: float = 0.0
    error: dict[str, Any] | None = None


class TurnUsage(msgspec.Struct, frozen=True):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost_usd: Decimal | None  # None: some call had no known price (never a silent 0)
    llm_calls: int


class TurnResult(msgspec.Struct, frozen=True):
    reply: str
    tool_calls: list[ToolRun]
    memories_used: list[str]
    usage: TurnUsage
    request_id: str
    warnings: list[str]
    steps: int
    timings_ms: dict[str, float] = {}
    grounding: str = ""  # "passed", "failed: <why>" (then the turn was not stored in memory), "" unchecked


class MemoriesRecalled(msgspec.Struct, frozen=True, tag="memories"):
    ids: list[str]


class ToolCalled(msgspec.Struct, frozen=True, tag="tool_call"):
    call: ToolRun


class ReplyDelta(msgspec.Struct, frozen=True, tag="delta"):
    text: str


class TurnDone(msgspec.Struct, frozen=True, tag="done"):
    result: TurnResult


TurnEvent = MemoriesRecalled | ToolCalled | ReplyDelta | TurnDone
