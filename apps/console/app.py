"""Composition root of the operator console (port 7011): HTML pages for people, beside the JSON services.

A service of its own, not routes on the proxy: browser sessions, cookies and CSRF tokens stay off the
machine-to-machine APIs (which take bearer keys only), and the console starts, scales and fails on its own,
never costing the proxy's hot path a thing."""

from __future__ import annotations

from pathlib import Path

from litestar import Litestar
from prometheus_client import CollectorRegistry

from apps.common.service import build_app
from apps.console.admin_routes import ADMIN
from apps.console.auth_routes import AUTH
from apps.console.container import open_console
from apps.console.routes import PAGES
from apps.console.settings import ConsoleSettings, load_console_settings
from apps.llm_proxy.settings import ProxySettings


def create_app(settings: ConsoleSettings | None = None, proxy: ProxySettings | None = None,
               tools_config: Path | None = None) -> Litestar:
    """`proxy` and `tools_config` replace the configured LLM proxy settings and tools YAML (tests pass theirs)."""
    settings = settings or load_console_settings()
    return build_app("console", [*PAGES, *AUTH, *ADMIN], lambda _: open_console(settings, proxy, tools_config),
                     CollectorRegistry())
