"""config/agents.yaml: the agents, where the other services are, and the demo seed conversations."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import msgspec
from msgspec import Meta

from domain.agents.model import AgentProfile
from domain.kernel.errors import NotFound
from domain.kernel.ids import ExternalId, SubjectId
from infra.agents.service_http import ServiceEndpoint
from infra.platform.config_files import ConfigError, config_path, load_config

URL_ENV = {"llm_proxy": "DAARION_LLM_PROXY_URL", "memory": "DAARION_MEMORY_URL", "toolcore": "DAARION_TOOLCORE_URL"}


class ServicesConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    llm_proxy: ServiceEndpoint = ServiceEndpoint("http://127.0.0.1:7007", 120.0)
    memory: ServiceEndpoint = ServiceEndpoint("http://127.0.0.1:7008", 10.0)
    toolcore: ServiceEndpoint = ServiceEndpoint("http://127.0.0.1:7009", 30.0)

    def from_env(self) -> ServicesConfig:
        """DAARION_<SERVICE>_URL overrides a base URL (compose points them at the containers)."""
        urls = {name: os.environ.get(env) for name, env in URL_ENV.items()}
        return msgspec.structs.replace(self, **{
            name: msgspec.structs.replace(getattr(self, name), base_url=url) for name, url in urls.items() if url})


class SeedConversation(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A past conversation put into memory so a fresh stack has something to remember."""

    agent_id: SubjectId
    channel_id: ExternalId
    user_id: SubjectId
    user_message: Annotated[str, Meta(min_length=1)]
    agent_reply: Annotated[str, Meta(min_length=1)]
    days_ago: Annotated[float, Meta(ge=0)] = 1.0


class SeedConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    on_start: bool = False  # store the conversations (idempotently) each time the runtime starts
    conversations: list[SeedConversation] = []


class RuntimeConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    agents: Annotated[list[AgentProfile], Meta(min_length=1)]
    services: ServicesConfig = ServicesConfig()
    seed: SeedConfig = SeedConfig()
    ledger_mode: str = "group_commit"

    def agent(self, agent_id: str) -> AgentProfile:
        for profile in self.agents:
            if profile.id == agent_id:
                return profile
        raise NotFound(f"no agent '{agent_id}' (configured: {', '.join(p.id for p in self.agents)})")


def validate(config: RuntimeConfig, path: Path | str) -> RuntimeConfig:
    seen: set[str] = set()
    for index, profile in enumerate(config.agents):
        if profile.id in seen:
            raise ConfigError(f"config file {path}: agent '{profile.id}' is defined twice - at `$.agents[{index}].id`")
        seen.add(profile.id)
    for index, conversation in enumerate(config.seed.conversations):
        if conversation.agent_id not in seen:
            raise ConfigError(f"config file {path}: unknown agent '{conversation.agent_id}' - at "
                              f"`$.seed.conversations[{index}].agent_id`")
    if config.ledger_mode not in ("group_commit", "per_request"):
        raise ConfigError(f"config file {path}: ledger_mode must be group_commit or per_request - at `$.ledger_mode`")
    return msgspec.structs.replace(config, services=config.services.from_env())


def load_runtime_config(path: Path | None = None) -> RuntimeConfig:
    path = path or config_path("agents.yaml", "DAARION_AGENTS_CONFIG")
    return validate(load_config(path, RuntimeConfig), path)
