"""The LLM proxy's settings: config/llm_proxy.yaml (providers, logical model routes, prices, limits, budgets,
ledger) with the environment laid over it (infra.platform.settings)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

import msgspec

from domain.identity.keys import key_id_of
from domain.llm.policies import Price, RateLimit, Target
from infra.llm.providers.stub import StubRule
from infra.platform.config_files import ConfigError
from infra.platform.settings import LedgerSettings, config_path, load_settings

PositiveInt = Annotated[int, msgspec.Meta(ge=1)]


EMBEDDING_KINDS = frozenset({"openai", "openai_compatible", "ollama", "minilm"})
CHAT_KINDS = frozenset({"openai", "deepseek", "ollama", "openai_compatible", "stub", "llama_cpp"})


class ProviderConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    kind: Literal["openai", "deepseek", "ollama", "openai_compatible", "stub", "llama_cpp", "minilm"]
    base_url: str | None = None
    api_key_env: str | None = None
    host: str | None = None
    rules: list[StubRule] = []
    latency_ms: float = 0.0
    model_path: str | None = None
    context_tokens: int = 2048
    threads: int | None = None
    # The optional OpenAI parameters this target does not take (domain/llm/parameters.py): pass, drop or reject.
    unsupported_params: Literal["pass", "drop", "reject"] = "drop"
    supported_params: list[str] | None = None  # replaces the kind's own list (infra/llm/providers/factory.py)


class ModelRoute(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    targets: Annotated[list[Target], msgspec.Meta(min_length=1)]
    description: str = ""


class LimitsConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    default: RateLimit = RateLimit()
    agents: dict[str, RateLimit] = {}


class BudgetsConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    agents: dict[str, Decimal] = {}
    microdaos: dict[str, Decimal] = {}


class ProxySettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    providers: dict[str, ProviderConfig]
    models: dict[str, ModelRoute]
    embeddings: dict[str, ModelRoute] = {}  # logical embeddings model -> targets (POST /v1/embeddings)
    prices: dict[str, Price] = {}
    limits: LimitsConfig = LimitsConfig()
    budgets: BudgetsConfig = BudgetsConfig()
    ledger: LedgerSettings = LedgerSettings()
    default_max_tokens: PositiveInt = 1024  # for a request without max_tokens (then at most the agent's cap)
    ollama_host: str | None = None  # DAARION_OLLAMA_HOST: wins over every ollama provider's `host`
    # Keys may be issued for agents nobody registered (they are registered on the spot, in the microDAO the
    # request names). Off: an unknown agent is a 403 unknown_agent.
    allow_unregistered_agents: bool = False
    bootstrap_admin_key: str | None = None  # DAARION_BOOTSTRAP_ADMIN_KEY



def validate(config: ProxySettings, path: Path) -> ProxySettings:
    if config.bootstrap_admin_key is not None and key_id_of(config.bootstrap_admin_key) is None:
        raise ConfigError("DAARION_BOOTSTRAP_ADMIN_KEY is not a DAARION key (dk_<16 hex>_<43 characters>); "
                          "make one with `daarion keys generate-env`")
    for section, routes, kinds in (("models", config.models, CHAT_KINDS),
                                   ("embeddings", config.embeddings, EMBEDDING_KINDS)):
        for name, route in routes.items():
            for index, target in enumerate(route.targets):
                where = f"at `$.{section}.{name}.targets[{index}].provider`"
                provider = config.providers.get(target.provider)
                if provider is None:
                    raise ConfigError(f"config file {path}: unknown provider '{target.provider}' - {where} "
                                      f"(known: {', '.join(sorted(config.providers))})")
                if provider.kind not in kinds:
                    raise ConfigError(f"config file {path}: provider '{target.provider}' ({provider.kind}) cannot "
                                      f"serve {section} - {where} (kinds that can: {', '.join(sorted(kinds))})")
    if overlap := sorted(set(config.models) & set(config.embeddings)):
        raise ConfigError(f"config file {path}: '{overlap[0]}' is both a chat and an embeddings model - at "
                          f"`$.embeddings.{overlap[0]}`")
    return config


def load_proxy_settings(path: Path | None = None) -> ProxySettings:
    path = path or config_path("llm_proxy.yaml", "DAARION_LLM_PROXY_CONFIG")
    return validate(load_settings(ProxySettings, "llm-proxy", path), path)
