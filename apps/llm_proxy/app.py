"""Composition root of the LLM proxy (port 7007)."""

from __future__ import annotations

from collections.abc import Mapping

from litestar import Litestar
from prometheus_client import CollectorRegistry

from apps.common.service import build_app
from apps.llm_proxy.admin_routes import admin_router
from apps.llm_proxy.container import open_proxy
from apps.llm_proxy.embeddings_routes import ROUTES as EMBEDDINGS_ROUTES
from apps.llm_proxy.responses_routes import ROUTES as RESPONSES_ROUTES
from apps.llm_proxy.routes import ROUTES
from apps.llm_proxy.settings import ProxySettings, load_proxy_settings
from domain.llm.ports import ChatProvider
from infra.llm.prometheus_metrics import ProxyMetrics


def create_app(settings: ProxySettings | None = None, providers: Mapping[str, ChatProvider] | None = None) -> Litestar:
    """`providers` replaces the configured adapters by name (tests swap in their own)."""
    settings = settings or load_proxy_settings()
    registry = CollectorRegistry()
    metrics = ProxyMetrics(registry)
    return build_app("llm-proxy", [*ROUTES, *EMBEDDINGS_ROUTES, *RESPONSES_ROUTES, admin_router()], lambda: open_proxy(settings, metrics, providers), registry)
