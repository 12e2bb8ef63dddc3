"""Every service describes itself: a valid OpenAPI 3.1 document at /schema/openapi.json and a Swagger UI page
at /schema/swagger that opens offline, every asset served by the service itself."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import pytest
from schemathesis.specs.openapi.definitions import OPENAPI_31

from apps.common.openapi import DOCS_PATH, SCHEMA_PATH, SPEC_PATH
from tests.fuzz.stack import SERVICES, five_services

OPEN_PATHS = {"/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"}
ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}
OPENAI_ERROR_BODY = {"$ref": "#/components/schemas/OpenAIErrorBody"}
_ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


@pytest.fixture(scope="module")
def services(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with five_services(tmp_path_factory.mktemp("docs")) as urls:
        yield urls


def spec_of(base: str) -> dict[str, Any]:
    response = httpx.get(base + SPEC_PATH, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    spec: dict[str, Any] = response.json()
    return spec


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in {"get", "put", "post", "delete", "patch"}:
                yield f"{method.upper()} {path}", operation


@pytest.mark.parametrize("service", SERVICES)
def test_the_service_publishes_a_valid_openapi_3_1_document_naming_it(services: dict[str, str], service: str) -> None:
    spec = spec_of(services[service])
    jsonschema.Draft202012Validator(OPENAPI_31).validate(spec)
    for schema in spec["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)
    assert spec["openapi"].startswith("3.1.")
    assert spec["info"]["title"].startswith("DAARION") and spec["info"]["description"]
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", spec["info"]["version"])
    assert not {"/healthz", "/readyz", "/metrics"} & set(spec["paths"])
    assert not any(path.startswith(SCHEMA_PATH) for path in spec["paths"])


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_but_the_open_ones_needs_a_bearer_key_and_every_error_has_its_routes_body(
    services: dict[str, str], service: str,
) -> None:
    spec = spec_of(services[service])
    assert spec["components"]["securitySchemes"]["bearer"] == {**spec["components"]["securitySchemes"]["bearer"],
                                                               "type": "http", "scheme": "bearer"}
    for name, operation in operations(spec):
        responses = operation["responses"]
        if name.split(" ", 1)[1] in OPEN_PATHS:
            assert "security" not in operation, name
        else:
            assert operation["security"] == [{"bearer": []}], name
            assert {"401", "403"} <= set(responses), name
        assert {"400", "503"} <= set(responses), name
        assert "Retry-After" in responses["503"]["headers"], name
        for status, response in responses.items():
            if status >= "400":
                body = OPENAI_ERROR_BODY if name.split(" ", 1)[1].startswith("/v1/") else ERROR_BODY
                assert response["content"] == {"application/json": {"schema": body}}, (name, status)
    error = spec["components"]["schemas"]["ErrorDetail"]
    assert set(error["required"]) == {"type", "message", "request_id"}


def test_a_chat_completion_is_documented_as_json_or_an_event_stream_of_chunks(services: dict[str, str]) -> None:
    spec = spec_of(services["llm-proxy"])
    ok = spec["paths"]["/v1/chat/completions"]["post"]["responses"]["200"]["content"]
    assert ok["application/json"]["schema"] == {"$ref": "#/components/schemas/ChatCompletion"}
    event = ok["text/event-stream"]["schema"]
    assert {"const": "[DONE]"} in event["properties"]["data"]["anyOf"]
    assert {"402", "404", "429", "502", "504"} <= set(spec["paths"]["/v1/chat/completions"]["post"]["responses"])


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("page", [DOCS_PATH, SCHEMA_PATH])
def test_the_docs_page_takes_every_asset_from_the_service_itself(
    services: dict[str, str], service: str, page: str,
) -> None:
    base = services[service]
    response = httpx.get(base + page, timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "SwaggerUIBundle(" in html
    assert not re.search(r"https?://", html), "the page names another host: it would not open offline"
    assets = _ASSET.findall(html)
    assert {a.rsplit("/", 1)[-1] for a in assets} >= {"swagger-ui.css", "swagger-ui-bundle.js",
                                                      "swagger-ui-standalone-preset.js"}
    for asset in assets:
        assert asset.startswith("/") and not asset.startswith("//"), asset
        served = httpx.get(base + asset, timeout=30)
        assert served.status_code == 200, asset
        assert len(served.content) > 100, asset
