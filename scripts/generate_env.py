"""Writes compose.yaml's secrets to .env (or the path given): `python3 scripts/generate_env.py [path]`.
The same as `daarion keys generate-env`, for a machine where only Docker and Python are installed."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from infra.identity.env_file import write_env_file

if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else ".env")
    try:
        write_env_file(target)
    except FileExistsError:
        sys.exit(f"{target} exists; it is never overwritten (delete it first to make new secrets)")
    print(f"wrote {target} (mode 0600): a Postgres password and an operator key for the LLM proxy's /admin API")
