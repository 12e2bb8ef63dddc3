"""OpenAI: the key comes from OPENAI_API_KEY (or the env var named in config), never from requests."""

from __future__ import annotations

import os
from collections.abc import Sequence

import aiohttp

from infra.llm.providers.openai_compatible import OpenAICompatibleProvider

OPENAI_BASE_URL = "https://api.openai.com/v1"


class OpenAIProvider(OpenAICompatibleProvider):
    def __init__(self, name: str = "openai", base_url: str = OPENAI_BASE_URL, api_key_env: str = "OPENAI_API_KEY",
                 trace_configs: Sequence[aiohttp.TraceConfig] = ()) -> None:
        super().__init__(name, base_url, os.environ.get(api_key_env) or None, requires_key=True,
                         trace_configs=trace_configs)
