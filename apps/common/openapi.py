"""Every service describes itself: OpenAPI 3.1 at `/schema/openapi.json`, Swagger UI at `/schema/swagger`
(and `/schema`), its assets served by the service itself from the swagger-ui-bundle package, so the docs
open offline.

Litestar derives parameters and bodies from the handlers' msgspec Structs; openapi_document.py adds what
the routes say beyond them (security, error responses, strictness, event streams). A route declares the
error statuses of its own with `responses=errors(404, ...)`, and a success body Litestar cannot infer
(pre-encoded bytes, a dict, a stream) with `responses=answer(...)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from litestar import Request, Router
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.static_files import create_static_files_router
from swagger_ui_bundle import swagger_ui_path

from apps.common.openapi_document import ERROR_STATUSES, EventStream, finish
from apps.common.structs import ErrorBody

__all__ = ["DOCS_PATH", "SPEC_PATH", "answer", "errors", "openapi_config"]

SCHEMA_PATH = "/schema"
SPEC_PATH = f"{SCHEMA_PATH}/openapi.json"
DOCS_PATH = f"{SCHEMA_PATH}/swagger"
ASSETS_PATH = f"{SCHEMA_PATH}/swagger-ui"

ABOUT: dict[str, tuple[str, str]] = {
    "llm-proxy": ("DAARION LLM proxy", (
        "OpenAI-compatible chat completions over the configured providers, with routing and fallback, exact "
        "rate limits and budgets and a durable usage ledger; usage reports; the admin API of agents and keys.")),
    "memory": ("DAARION memory", (
        "An agent's memory: short-term turns, mid- and long-term items and the microDAO's knowledge "
        "documents, recalled by hybrid (vector and full-text) search.")),
    "toolcore": ("DAARION Toolcore", (
        "The tools an agent may use, and their calls: permissions, argument validation, idempotency, the "
        "usage ledger. The same tools are served over MCP (streamable HTTP) at /mcp.")),
    "agent-runtime": ("DAARION agent runtime", (
        "One turn of an agent: recall memory, call tools, ask the LLM, answer (JSON, or Server-Sent Events), "
        "remember.")),
    "projects": ("DAARION projects", "The demo projects service: a microDAO's projects and their tasks."),
}


@dataclass
class _Answer(ResponseSpec):
    events: EventStream | None = None


def answer(body: Any, description: str, status: int = 200, events: EventStream | None = None,
           ) -> dict[int, ResponseSpec]:
    """A success body Litestar cannot infer (pre-encoded bytes, a dict); `events`: the route may answer
    Server-Sent Events instead, {event name ("message" when unnamed): [Struct or fixed string of its data]}."""
    return {status: _Answer(body, generate_examples=False, description=description, events=events)}


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    """The error statuses of a route besides those every route may answer (openapi_document.py)."""
    return {status: ResponseSpec(ErrorBody, generate_examples=False, description=ERROR_STATUSES[status])
            for status in statuses}


def openapi_config(service: str) -> OpenAPIConfig:
    title, description = ABOUT.get(service, (service, ""))
    document = _Document()
    return OpenAPIConfig(
        title=title, version=_version(), description=description, path=SCHEMA_PATH, use_handler_docstrings=True,
        render_plugins=[_SwaggerUi(document), _Spec(document)],
    )


class _Document:
    """The finished document, built once per app on first request."""

    def __init__(self) -> None:
        self._finished: dict[str, Any] | None = None

    def of(self, request: Request[Any, Any, Any], generated: dict[str, Any]) -> dict[str, Any]:
        if self._finished is None:
            self._finished = finish(request.app, generated)
        return self._finished


class _Spec(JsonRenderPlugin):
    def __init__(self, document: _Document) -> None:
        super().__init__(path="/openapi.json")
        self._document = document

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, self._document.of(request, openapi_schema))


class _SwaggerUi(SwaggerRenderPlugin):
    """Swagger UI 5 (it renders OpenAPI 3.1), every asset from this service."""

    def __init__(self, document: _Document) -> None:
        super().__init__(
            js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js", css_url=f"{ASSETS_PATH}/swagger-ui.css",
            standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js", path=["/", "/swagger"],
            favicon=f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/favicon-32x32.png'>",
        )
        self._document = document

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, self._document.of(request, openapi_schema))

    def receive_router(self, router: Router) -> None:
        assets = Path(str(swagger_ui_path))
        router.register(create_static_files_router(ASSETS_PATH.removeprefix(SCHEMA_PATH), [assets],
                                                   name="swagger-ui-assets"))


def _version() -> str:
    try:
        return metadata.version("daarion")
    except metadata.PackageNotFoundError:
        return "0.0.0"
