"""What a target does with the optional OpenAI parameters it does not take.

The core of a chat request (messages, tools, sampling, max_tokens, stop, response_format, seed) every adapter
translates. The rest (`ChatRequest.extra`: logprobs, logit_bias, reasoning_effort, service_tier, ...) only some
targets understand, so each provider's config says what to do with the ones its target does not:

    pass    send them anyway (the target decides; a target that refuses them answers 400, and so does the proxy)
    drop    leave them out and say so (the proxy's `x-daarion-dropped-params` header) -- the default
    reject  refuse the request with 400 `unsupported_parameter`, `param` naming the first one, before any spend
"""

from __future__ import annotations

from typing import Literal

import msgspec

from domain.kernel.errors import UnsupportedParameter
from domain.llm.policies import ChatRequest

Mode = Literal["pass", "drop", "reject"]

# `stream_options.include_obfuscation` travels in `extra` under this dotted name; adapters put it back.
OBFUSCATION = "stream_options.include_obfuscation"


class ParameterPolicy(msgspec.Struct, frozen=True):
    """`supported`: the optional parameters the target takes (None: all of them)."""

    mode: Mode = "drop"
    supported: frozenset[str] | None = None

    def fit(self, request: ChatRequest, provider: str) -> tuple[ChatRequest, tuple[str, ...]]:
        """The request as this target gets it, and the names left out of it."""
        supported = self.supported
        if self.mode == "pass" or supported is None:
            return request, ()
        unsupported = tuple(sorted(name for name in request.extra if name not in supported))
        if not unsupported:
            return request, ()
        if self.mode == "reject":
            raise UnsupportedParameter(
                f"provider '{provider}' does not take '{unsupported[0]}' (its config rejects parameters it does "
                f"not support; unsupported here: {', '.join(unsupported)})", param=unsupported[0])
        kept = {name: value for name, value in request.extra.items() if name in supported}
        return msgspec.structs.replace(request, extra=kept), unsupported


PASS_ALL = ParameterPolicy("pass")
