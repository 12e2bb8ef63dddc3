"""What a target does with optional parameters it does not take: pass, drop (and say which), reject."""

from __future__ import annotations

import pytest

from domain.kernel.errors import UnsupportedParameter
from domain.llm.parameters import ParameterPolicy
from domain.llm.policies import ChatRequest

REQUEST = ChatRequest(messages=[{"role": "user", "content": "hi"}], temperature=0.3,
                      extra={"logprobs": True, "service_tier": "auto", "logit_bias": {"1": 2}})


def test_drop_keeps_what_the_target_takes_and_names_the_rest_in_order() -> None:
    fitted, dropped = ParameterPolicy("drop", frozenset({"logprobs"})).fit(REQUEST, "vllm")
    assert fitted.extra == {"logprobs": True} and fitted.temperature == 0.3
    assert dropped == ("logit_bias", "service_tier")


def test_reject_refuses_naming_the_first_unsupported_parameter() -> None:
    with pytest.raises(UnsupportedParameter) as caught:
        ParameterPolicy("reject", frozenset({"logprobs"})).fit(REQUEST, "vllm")
    assert caught.value.param == "logit_bias" and "'vllm'" in caught.value.message


@pytest.mark.parametrize("policy", [ParameterPolicy("pass", frozenset()), ParameterPolicy("reject", None),
                                    ParameterPolicy("drop", frozenset({"logprobs", "service_tier", "logit_bias"}))])
def test_pass_a_target_that_takes_everything_or_nothing_to_leave_out_sends_the_request_as_is(
    policy: ParameterPolicy,
) -> None:
    assert policy.fit(REQUEST, "p") == (REQUEST, ())
