"""DeepSeek speaks the OpenAI API; its key comes from DEEPSEEK_API_KEY (or the env var named in config)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import aiohttp

from infra.llm.providers.openai_compatible import OpenAICompatibleProvider

DEEPSEEK_BASE_URL = "https://api.deepseek.com/v1"


class DeepSeekProvider(OpenAICompatibleProvider):
    def __init__(self, name: str = "deepseek", base_url: str = DEEPSEEK_BASE_URL,
                 api_key_env: str = "DEEPSEEK_API_KEY", trace_configs: Sequence[aiohttp.TraceConfig] = ()) -> None:
        super().__init__(name, base_url, os.environ.get(api_key_env) or None, requires_key=True,
                         trace_configs=trace_configs)
