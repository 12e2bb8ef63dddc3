"""The services of the stack: `daarion serve NAME`, `daarion up`, compose.yaml and the ports table agree on this."""

from __future__ import annotations

import msgspec


class ServiceSpec(msgspec.Struct, frozen=True):
    name: str
    app: str
    port: int


SERVICES: dict[str, ServiceSpec] = {
    spec.name: spec
    for spec in (
        ServiceSpec("llm-proxy", "apps.llm_proxy.app:create_app", 7007),
        ServiceSpec("memory", "apps.memory.app:create_app", 7008),
        ServiceSpec("projects", "apps.projects.app:create_app", 7010),
        ServiceSpec("toolcore", "apps.toolcore.app:create_app", 7009),
        ServiceSpec("agent-runtime", "apps.agent_runtime.app:create_app", 7006),
        ServiceSpec("console", "apps.console.app:create_app", 7011),
    )
}
