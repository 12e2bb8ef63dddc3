"""Composition root of the agent runtime (port 7006)."""

from __future__ import annotations

from litestar import Litestar
from prometheus_client import CollectorRegistry

from apps.agent_runtime.container import open_runtime
from apps.agent_runtime.routes import ROUTES
from apps.agent_runtime.settings import RuntimeSettings, load_runtime_settings
from apps.common.service import build_app
from infra.agents.prometheus_metrics import AgentMetrics


def create_app(settings: RuntimeSettings | None = None) -> Litestar:
    settings = settings or load_runtime_settings()
    registry = CollectorRegistry()
    metrics = AgentMetrics(registry)
    return build_app("agent-runtime", ROUTES, lambda tracing: open_runtime(settings, metrics, tracing), registry)
