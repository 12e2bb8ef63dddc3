"""The LLM proxy with credential verification taken out, for bench/proxy_overhead.py's "without auth" figure.

Its authenticator trusts any request as agent:bench, so the route guards still run but no key is looked up,
hashed or compared, and no key index follows the database: the difference to the real proxy is what
checking credentials costs. It starts exactly as `daarion serve llm-proxy` does. Bench use only, never a
deployment mode (the product has no open mode).

    python -m bench.trusting_proxy --port 17907 --log-level warning
"""

from __future__ import annotations

import sys
from typing import Any

import apps.common.core
from apps.cli import main
from domain.identity.principal import Principal
from domain.identity.scopes import AGENT_SCOPES

BENCH_PRINCIPAL = Principal("bench-trusted", "agent:bench", "microdao:bench", AGENT_SCOPES)


class TrustingAuthenticator:
    async def authenticate(self, presented: str | None) -> Principal:
        return BENCH_PRINCIPAL

    async def aclose(self) -> None:
        return None


async def _trusting(_: Any) -> TrustingAuthenticator:
    return TrustingAuthenticator()


if __name__ == "__main__":
    apps.common.core.open_authenticator = _trusting  # type: ignore[assignment]
    sys.exit(main(["serve", "llm-proxy", *sys.argv[1:]]))
