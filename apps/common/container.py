"""How every service hands its adapters to handlers: one typed container, opened in the lifespan and
injected through Litestar DI.

A service declares `@dataclass(frozen=True) class XContainer` (its adapters and policies) and an async
context manager that opens one; `build_app` opens it for the app's lifetime. A handler takes it as
`container: Injected[XContainer]` and uses the adapters it needs, so tests swap any adapter by building
the container with their own. One dependency, not one per adapter: Litestar resolves two or more
dependencies of a request in an anyio task group, which cost the proxy ~15% of its CPU per request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol, TypeAlias, TypeVar

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import SkipValidation
from litestar.types import Scope

from domain.identity.ports import Authenticator

ReadinessCheck = Callable[[], Awaitable[None]]
C = TypeVar("C")
T = TypeVar("T")

# Adapters are plain objects, not request data: Litestar must hand them over without validating them.
Injected: TypeAlias = NamedDependency[SkipValidation[T]]

_KEY = "container"
AUTHENTICATOR = "authenticator"  # read by apps/common/auth.py


class ServiceContainer(Protocol):
    @property
    def authenticator(self) -> Authenticator:
        """Who a presented key belongs to (apps/common/auth.py asks it on every guarded request)."""
        ...

    def readiness(self) -> Mapping[str, ReadinessCheck]:
        """Name -> async check that raises when that dependency is not ready (served by /readyz)."""
        ...


class ContainerSlot:
    """Where one app keeps its open container (and, for raw ASGI handlers, app state under one key). The
    provider reads it directly: one that takes no parameters costs Litestar no per-request parsing."""

    def __init__(self) -> None:
        self._container: Any = None

    def fill(self, state: State, container: ServiceContainer) -> None:
        self._container = container
        state[_KEY] = container  # for raw ASGI handlers, which get no DI (container_in)
        state[AUTHENTICATOR] = container.authenticator

    def get(self) -> Any:
        if self._container is None:
            raise RuntimeError("the app's container is not open (used outside its lifespan)")
        return self._container

    def dependencies(self) -> dict[str, Provide]:
        # A plain closure, not the bound method: Litestar deep-copies route dependencies, and a copied bound
        # method would read a copy of this slot that the lifespan never fills.
        def provide() -> Any:
            return self.get()

        return {_KEY: Provide(provide, sync_to_thread=False)}


def container_in(scope: Scope, container_type: type[C]) -> C:
    """For raw ASGI handlers (no DI): the running app's container, checked against its type."""
    container = scope["app"].state[_KEY]
    if not isinstance(container, container_type):
        raise TypeError(f"the app's container is a {type(container).__name__}, not a {container_type.__name__}")
    return container
