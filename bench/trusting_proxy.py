"""The LLM proxy with credential verification taken out, for bench/proxy_overhead.py's "without auth" figure.

Its authenticator trusts any request as agent:bench, so the route guards still run but no key is looked up,
hashed or compared: the difference to the real proxy is what verification costs. Bench use only, never a
deployment mode (the product has no open mode).

    python -m uvicorn bench.trusting_proxy:create_app --factory --port 17907
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar

import apps.common.core
from apps.llm_proxy.app import create_app as create_proxy
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


def create_app() -> Litestar:
    apps.common.core.open_authenticator = _trusting  # type: ignore[assignment]
    return create_proxy()
