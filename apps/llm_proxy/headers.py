"""What the proxy's answers say besides their bodies: who answered, what it cost, what is left of the allowance."""

from __future__ import annotations

import math
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from litestar import Response

from apps.common.error_bodies import error_body
from apps.common.errors import status_of
from domain.kernel.errors import DaarionError, RateLimited
from domain.llm.admission import Quota

DROPPED = "x-daarion-dropped-params"


def answer_headers(
    request_id: str, provider: str, physical_model: str, quota: Quota, cost_usd: Decimal | None = None,
    dropped: tuple[str, ...] = (), overhead_ms: float | None = None, costed: bool = True,
) -> dict[str, str]:
    """`costed`: the cost is known now (a stream's comes with its last chunk)."""
    headers = {"x-request-id": request_id, "x-daarion-provider": provider, "x-daarion-model": physical_model,
               **quota_headers(quota)}
    if costed:
        headers["x-daarion-cost-usd"] = "unknown" if cost_usd is None else f"{cost_usd.normalize():f}"
    if overhead_ms is not None:
        headers["x-daarion-overhead-ms"] = f"{overhead_ms:.3f}"
    if dropped:
        headers[DROPPED] = ",".join(dropped)
    return headers


def quota_headers(quota: Quota) -> dict[str, str]:
    """OpenAI's x-ratelimit-* headers, and the least that any budget of the caller has left."""
    headers = {}
    if (rate := quota.rate) is not None:
        headers = {
            "x-ratelimit-limit-requests": str(rate.limit_requests),
            "x-ratelimit-remaining-requests": str(rate.remaining_requests),
            "x-ratelimit-reset-requests": _duration(rate.reset_requests_s),
            "x-ratelimit-limit-tokens": str(rate.limit_tokens),
            "x-ratelimit-remaining-tokens": str(rate.remaining_tokens),
            "x-ratelimit-reset-tokens": _duration(rate.reset_tokens_s),
        }
    if quota.budget_left_usd is not None:
        left = max(quota.budget_left_usd, Decimal(0)).quantize(Decimal("0.000001"), ROUND_FLOOR)
        headers["x-daarion-budget-remaining-usd"] = f"{left:f}"
    return headers


def _duration(seconds: float) -> str:
    """OpenAI's format for a reset time, in whole seconds rounded up: "6s", "1m0s"."""
    minutes, rest = divmod(math.ceil(seconds), 60)
    return f"{minutes}m{rest}s" if minutes else f"{rest}s"


def refusal(exc: DaarionError, path: str, request_id: str) -> Response[Any] | None:
    """A 402 or 429 with the route's error body, plus what admission learned of the allowance; None for other
    errors (the app's handlers answer those)."""
    quota = getattr(exc, "quota", None)
    if not isinstance(quota, Quota):
        return None
    status = status_of(exc)
    headers = {"x-request-id": request_id, **quota_headers(quota)}
    if isinstance(exc, RateLimited):
        headers["retry-after"] = str(exc.retry_after_s)
    return Response(error_body(path, status, exc.type, exc.message, request_id, param=exc.param), status_code=status,
                    media_type="application/json", headers=headers)
