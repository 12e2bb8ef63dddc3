"""DeepSeek speaks the OpenAI API; its key comes from DEEPSEEK_API_KEY (or the env var named in config)."""

from __future__ import annotations

import os

from infra.llm.providers.openai_compatible import OpenAICompatibleProvider

DEEPSEEK_BASE_URL = "https://api.deepseek.com/v1"


class DeepSeekProvider(OpenAICompatibleProvider):
    def __init__(self, name: str = "deepseek", base_url: str = DEEPSEEK_BASE_URL,
                 api_key_env: str = "DEEPSEEK_API_KEY") -> None:
        super().__init__(name, base_url, os.environ.get(api_key_env) or None, requires_key=True)
