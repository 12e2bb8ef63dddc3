"""How every service hands its adapters to handlers: one typed container, opened in the lifespan, each
field injected by name through Litestar DI.

A service declares `@dataclass(frozen=True) class XContainer` (its adapters and policies) and an async
context manager that opens one; `build_app` opens it for the app's lifetime. A handler names the field
it needs (`gateway: Injected[LlmGateway]`), so tests swap any adapter by building the container with
their own. The container is kept in app state under one key, read here and nowhere else.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol, TypeAlias, TypeVar

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import SkipValidation
from litestar.types import Scope

ReadinessCheck = Callable[[], Awaitable[None]]
C = TypeVar("C")
T = TypeVar("T")

# Adapters are plain objects, not request data: Litestar must hand them over without validating them.
Injected: TypeAlias = NamedDependency[SkipValidation[T]]

_KEY = "container"


class ServiceContainer(Protocol):
    def readiness(self) -> Mapping[str, ReadinessCheck]:
        """Name -> async check that raises when that dependency is not ready (served by /readyz)."""
        ...


def container_dependencies(container_type: type[Any]) -> dict[str, Provide]:
    """One provider per field of the container dataclass, plus `container` for the whole of it."""
    providers = {field.name: Provide(_field_provider(field.name), sync_to_thread=False)
                 for field in dataclasses.fields(container_type)}
    providers[_KEY] = Provide(_whole, sync_to_thread=False)
    return providers


def install(state: State, container: object) -> None:
    state[_KEY] = container


def container_in(scope: Scope, container_type: type[C]) -> C:
    """For raw ASGI handlers (no DI): the running app's container, checked against its type."""
    container = scope["app"].state[_KEY]
    if not isinstance(container, container_type):
        raise TypeError(f"the app's container is a {type(container).__name__}, not a {container_type.__name__}")
    return container


def _field_provider(name: str) -> Callable[[State], Any]:
    def provide(state: State) -> Any:
        return getattr(state[_KEY], name)

    return provide


def _whole(state: State) -> Any:
    return state[_KEY]
