"""Prometheus figures of the agent runtime: turns by outcome, turn latency, tool calls by status.

Label values are bounded: agent ids are those of configured profiles (the route refuses a key of another
agent, and an agent with a key but no profile here, before any figure; apps/agent_runtime/routes.py), and a tool id labels a series only once Toolcore has offered that tool to some agent
(`tools_offered`, fed by the turn). A model may ask for any function name it likes; those it was never
offered all count under "unknown", so a model cannot grow the label space.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram

from domain.kernel.tool_calls import ToolCallStatus

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
UNKNOWN = "unknown"
_STATUSES = frozenset(ToolCallStatus)


class AgentMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.turns = Counter("daarion_agent_turns", "Agent turns by outcome", ["agent_id", "outcome"],
                             registry=registry)
        self.turn_seconds = Histogram("daarion_agent_turn_seconds", "Agent turn latency", ["agent_id"],
                                      buckets=LATENCY_BUCKETS, registry=registry)
        self.tool_calls = Counter("daarion_agent_tool_calls", "Tool calls made by agents", ["tool_id", "status"],
                                  registry=registry)
        self.warnings = Counter("daarion_agent_turn_warnings", "Turns that degraded (memory or tools down...)",
                                ["agent_id"], registry=registry)
        self._offered: set[str] = set()

    def tools_offered(self, tool_ids: Iterable[str]) -> None:
        """Tool ids Toolcore listed for a turn: from now on they label their own series."""
        self._offered.update(tool_ids)

    def turn_finished(self, agent_id: str, outcome: str, seconds: float, tools: list[tuple[str, str]],
                      warned: bool) -> None:
        self.turns.labels(agent_id, outcome).inc()
        self.turn_seconds.labels(agent_id).observe(seconds)
        for tool_id, status in tools:
            self.tool_calls.labels(tool_id if tool_id in self._offered else UNKNOWN,
                                   status if status in _STATUSES else UNKNOWN).inc()
        if warned:
            self.warnings.labels(agent_id).inc()
