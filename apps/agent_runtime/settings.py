"""The agent runtime's settings: config/agents.yaml (the agents, where the other services are, the demo seed
conversations, the ledger) with the environment laid over it (infra.platform.settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec
from msgspec import Meta

from domain.agents.model import AgentProfile
from domain.kernel.errors import NotFound
from domain.kernel.ids import ExternalId, SubjectId
from infra.agents.endpoints import ServiceEndpoint
from infra.platform.config_files import ConfigError
from infra.platform.settings import LedgerSettings, config_path, load_settings


class ServicesSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    llm_proxy: ServiceEndpoint = ServiceEndpoint("http://127.0.0.1:7007", 120.0)
    memory: ServiceEndpoint = ServiceEndpoint("http://127.0.0.1:7008", 10.0)
    toolcore: ServiceEndpoint = ServiceEndpoint("http://127.0.0.1:7009", 30.0)


class SeedConversation(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A past conversation put into memory so a fresh stack has something to remember."""

    agent_id: SubjectId
    channel_id: ExternalId
    user_id: SubjectId
    user_message: Annotated[str, Meta(min_length=1)]
    agent_reply: Annotated[str, Meta(min_length=1)]
    days_ago: Annotated[float, Meta(ge=0)] = 1.0


class SeedSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    on_start: bool = False  # store the conversations (idempotently) each time the runtime starts
    conversations: list[SeedConversation] = []


class RuntimeSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    agents: Annotated[list[AgentProfile], Meta(min_length=1)]
    services: ServicesSettings = ServicesSettings()
    seed: SeedSettings = SeedSettings()
    ledger: LedgerSettings = LedgerSettings()

    def agent(self, agent_id: str) -> AgentProfile:
        for profile in self.agents:
            if profile.id == agent_id:
                return profile
        # Not the list of configured agents: the caller is an agent, and the others are not its business.
        raise NotFound(f"agent '{agent_id}' is not configured in this agent runtime")


def validate(config: RuntimeSettings, path: Path | str) -> RuntimeSettings:
    seen: set[str] = set()
    for index, profile in enumerate(config.agents):
        if profile.id in seen:
            raise ConfigError(f"config file {path}: agent '{profile.id}' is defined twice - at `$.agents[{index}].id`")
        seen.add(profile.id)
    for index, conversation in enumerate(config.seed.conversations):
        if conversation.agent_id not in seen:
            raise ConfigError(f"config file {path}: unknown agent '{conversation.agent_id}' - at "
                              f"`$.seed.conversations[{index}].agent_id`")
    return config


def load_runtime_settings(path: Path | None = None) -> RuntimeSettings:
    path = path or config_path("agents.yaml", "DAARION_AGENTS_CONFIG")
    return validate(load_settings(RuntimeSettings, "agent-runtime", path), path)
