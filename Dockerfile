# One image for every DAARION service; compose.yaml runs it once per service (`daarion serve NAME`).
# EXTRAS picks the optional parts: memory (MiniLM via CPU torch), tools (MCP, SSRF guard), local-llm
# (llama.cpp + SmolLM2; compiled here, 6-7 minutes on 2 cores). Drop local-llm for a smaller, faster build.
ARG PYTHON=python:3.11-slim

FROM ${PYTHON} AS build
ARG EXTRAS="memory,tools,local-llm"
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 \
    PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu \
    CMAKE_BUILD_PARALLEL_LEVEL=4 \
    CMAKE_ARGS="-DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF"
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY alembic alembic
COPY apps apps
COPY domain domain
COPY infra infra
# Editable, so the code stays at /app beside alembic/ and config/ (infra/platform/migrations.py finds them there).
RUN python -m venv /venv && /venv/bin/pip install --upgrade pip && /venv/bin/pip install -e ".[${EXTRAS}]"

FROM ${PYTHON}
# libgomp: llama.cpp's OpenMP runtime.
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 daarion
COPY --from=build /venv /venv
COPY --from=build /app /app
COPY config /app/config
WORKDIR /app
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DAARION_HOST=0.0.0.0 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1
USER daarion
EXPOSE 7006 7007 7008 7009 7010
CMD ["daarion", "up"]
