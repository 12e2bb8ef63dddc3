"""One exception tree for every service; apps map each class to an HTTP status in one table.

    DaarionError                      type            HTTP (see apps/common/errors.py)
    ├── InvalidRequest                invalid_request     400
    │   ├── ArgumentsInvalid          invalid_arguments   422  (carries JSON paths)
    │   └── UnsupportedParameter      unsupported_parameter 400  (a target's config rejects the parameter)
    ├── Unauthenticated               unauthenticated     401
    ├── BudgetExhausted               budget_exhausted    402
    ├── PermissionDenied              permission_denied   403
    │   ├── InsufficientScope         insufficient_scope  403  (the key lacks the route's scope)
    │   ├── IdentityMismatch          identity_mismatch   403  (names another agent or microDAO)
    │   ├── UnknownAgent              unknown_agent       403
    │   └── AgentKeyRequired          agent_key_required  403
    ├── NotFound                      not_found           404
    │   └── UnknownModel              unknown_model       404
    ├── Conflict                      conflict            409
    ├── PreconditionFailed            precondition_failed 412  (an If-Match names a version no longer current)
    ├── RateLimited                   rate_limited        429  (carries retry_after_s)
    ├── UpstreamFailed                upstream_error      502
    ├── ServiceUnavailable            unavailable         503
    └── UpstreamTimeout               timeout             504
"""

from __future__ import annotations


class DaarionError(Exception):
    """`param`: the request field at fault, when one is (OpenAI's error bodies name it)."""

    type = "internal_error"

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


class InvalidRequest(DaarionError):
    type = "invalid_request"


class ArgumentsInvalid(InvalidRequest):
    type = "invalid_arguments"

    def __init__(self, message: str, errors: list[dict[str, str]]) -> None:
        super().__init__(message)
        self.errors = errors


class UnsupportedParameter(InvalidRequest):
    type = "unsupported_parameter"


class Unauthenticated(DaarionError):
    type = "unauthenticated"


class BudgetExhausted(DaarionError):
    type = "budget_exhausted"


class PermissionDenied(DaarionError):
    type = "permission_denied"


class NotFound(DaarionError):
    type = "not_found"


class UnknownModel(NotFound):
    type = "unknown_model"


class Conflict(DaarionError):
    type = "conflict"


class PreconditionFailed(DaarionError):
    type = "precondition_failed"


class RateLimited(DaarionError):
    type = "rate_limited"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class UpstreamFailed(DaarionError):
    type = "upstream_error"


class ServiceUnavailable(DaarionError):
    type = "unavailable"


class UpstreamTimeout(DaarionError):
    type = "timeout"


class InsufficientScope(PermissionDenied):
    type = "insufficient_scope"


class IdentityMismatch(PermissionDenied):
    """The request names an agent or microDAO other than the one its credential belongs to."""

    type = "identity_mismatch"


class UnknownAgent(PermissionDenied):
    type = "unknown_agent"


class AgentKeyRequired(PermissionDenied):
    """An operator key on a route that acts as one agent: only that agent's own key may."""

    type = "agent_key_required"
