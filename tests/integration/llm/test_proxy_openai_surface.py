"""The rest of the OpenAI surface: optional parameters under each target's policy, models and their availability,
the usage chunk only when asked for, and OpenAI-shaped errors on /v1 beside the stable body on /internal."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionStreamOptionsParam

from domain.ledger.events import LlmCallCompleted
from tests.fakes.llm_servers import FakeOllama, FakeOpenAI
from tests.proxy_support import auth, body, events_of, key_of

OPTIONAL: dict[str, Any] = {
    "logprobs": True, "top_logprobs": 2, "logit_bias": {"50256": -100}, "reasoning_effort": "low",
    "service_tier": "auto", "stream_options": {"include_obfuscation": False},
}
HELLO: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello"}]


@pytest.fixture
def client(proxy: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=proxy + "/v1", api_key=key_of(), max_retries=0)


def test_openai_targets_get_every_optional_parameter_and_nothing_is_dropped(
    client: openai.OpenAI, fake_openai: tuple[FakeOpenAI, str],
) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="gpt", messages=HELLO, stream=True, **OPTIONAL)
    assert "x-daarion-dropped-params" not in raw.headers
    list(raw.parse())
    sent = fake_openai[0].requests[-1]["body"]
    assert {name: sent[name] for name in ("logprobs", "top_logprobs", "logit_bias", "reasoning_effort",
                                          "service_tier")} == {k: v for k, v in OPTIONAL.items() if k != "stream_options"}
    assert sent["stream_options"] == {"include_usage": True, "include_obfuscation": False}


def test_a_target_that_does_not_take_a_parameter_gets_the_request_without_it_and_the_header_says_so(
    client: openai.OpenAI, fake_openai: tuple[FakeOpenAI, str], fake_ollama: tuple[FakeOllama, str],
) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="compatible", messages=HELLO, logprobs=True, logit_bias={"1": 5}, reasoning_effort="low",
        service_tier="auto", stream=False)
    assert raw.parse().choices[0].message.content == "echo from ok-compatible: hello"
    assert raw.headers["x-daarion-dropped-params"] == "reasoning_effort,service_tier"
    sent = fake_openai[0].requests[-1]["body"]
    assert sent["logprobs"] is True and sent["logit_bias"] == {"1": 5}
    assert "reasoning_effort" not in sent and "service_tier" not in sent
    ollama = client.chat.completions.with_raw_response.create(model="ollama", messages=HELLO, logprobs=True)
    assert ollama.headers["x-daarion-dropped-params"] == "logprobs"


def test_a_target_configured_to_reject_refuses_with_a_400_naming_the_parameter_before_any_spend(
    client: openai.OpenAI, fake_openai: tuple[FakeOpenAI, str],
) -> None:
    before = len(fake_openai[0].requests)
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="strict", messages=HELLO, logit_bias={"1": 5})
    assert (caught.value.code, caught.value.param) == ("unsupported_parameter", "logit_bias")
    assert len(fake_openai[0].requests) == before
    ok = client.chat.completions.create(model="strict", messages=HELLO, temperature=0.5)
    assert ok.choices[0].message.content == "echo from ok-strict: hello"


def test_a_field_openai_does_not_have_is_still_a_400_naming_it(proxy: str) -> None:
    response = httpx.post(proxy + "/v1/chat/completions", headers=auth(), timeout=10,
                          json={"model": "gpt", "messages": HELLO, "temprature": 0.5})
    assert response.status_code == 400
    assert response.json()["error"] | {"message": "", "request_id": ""} == {
        "message": "", "request_id": "", "type": "invalid_request_error", "code": "invalid_request",
        "param": "temprature"}


@pytest.mark.parametrize(("options", "sent"), [(None, False), ({"include_usage": False}, False),
                                               ({"include_usage": True}, True)])
def test_v1_streams_end_with_usage_only_when_asked_and_the_ledger_records_it_either_way(
    client: openai.OpenAI, ledger: Any, options: ChatCompletionStreamOptionsParam | None, sent: bool,
) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="gpt", messages=HELLO, stream=True, stream_options=openai.omit if options is None else options)
    chunks = list(raw.parse())
    assert any(chunk.usage is not None for chunk in chunks) is sent
    [event] = events_of(ledger, raw.headers["x-request-id"])
    assert isinstance(event, LlmCallCompleted) and event.completion_tokens > 0


def test_the_internal_route_keeps_its_usage_chunk_unless_told_otherwise(proxy: str) -> None:
    for options, sent in ((None, True), ({"include_usage": False}, False)):
        payload = body(stream=True) | ({} if options is None else {"stream_options": options})
        response = httpx.post(proxy + "/internal/llm/proxy", headers=auth(), timeout=30, json=payload)
        assert ('"usage"' in response.text) is sent


def test_a_model_is_retrieved_with_whether_it_can_answer_and_an_unknown_one_is_a_404(client: openai.OpenAI) -> None:
    client.chat.completions.create(model="gpt", messages=HELLO)
    model = client.models.retrieve("gpt")
    assert model.id == "gpt" and model.object == "model"
    availability = model.model_extra["daarion"]  # type: ignore[index]
    assert availability["answerable"] is True and availability["kind"] == "chat"
    assert availability["targets"][0] | {"last_checked": 0} == {
        "provider": "openai", "model": "ok-gpt", "configured": True, "last_result": "ok", "last_error": None,
        "last_checked": 0}
    with pytest.raises(openai.NotFoundError) as caught:
        client.models.retrieve("no-such-model")
    assert (caught.value.code, caught.value.param) == ("unknown_model", "model")


def test_the_list_says_which_models_cannot_answer(client: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="all-fail", messages=HELLO)
    cards = {model.id: model.model_extra["daarion"] for model in client.models.list()}  # type: ignore[index]
    assert cards["all-fail"]["answerable"] is False
    assert [t["last_error"] for t in cards["all-fail"]["targets"]] == ["server_error", "rate_limited"]
    assert cards["embed-nokey"] == {"kind": "embeddings", "answerable": False, "targets": [
        {"provider": "nokey", "model": "ok-embed", "configured": False, "last_result": "unknown", "last_error": None,
         "last_checked": None}]}
    assert cards["no-key"]["answerable"] is True  # its second target has a key
    assert cards["embed"]["kind"] == "embeddings"


def test_errors_on_internal_routes_keep_the_stable_body(proxy: str) -> None:
    response = httpx.post(proxy + "/internal/llm/proxy", headers=auth(), timeout=10, json=body(model="nope"))
    assert response.status_code == 404
    assert set(response.json()["error"]) == {"type", "message", "request_id"}
    assert response.json()["error"]["type"] == "unknown_model"


def test_a_failure_mid_stream_on_v1_is_an_openai_shaped_error_event(proxy: str) -> None:
    response = httpx.post(proxy + "/v1/chat/completions", headers=auth(), timeout=30,
                          json={"model": "break", "messages": HELLO, "stream": True})
    last = [line for line in response.text.splitlines() if line.startswith("data: ")][-1]
    assert '"type":"server_error"' in last and '"code":"upstream_error"' in last and '"param":null' in last
