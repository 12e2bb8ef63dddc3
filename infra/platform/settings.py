"""The environment, read in one place: every variable the stack knows, and a service's settings loaded
from its YAML with the environment laid over it.

A variable either overrides one key of a service's settings (`target`, validated like the YAML, and an
error names the variable) or is read through `env()` by the platform and the CLI. `env()` refuses a name
this table does not list, so the table (and the README's copy of it, checked by a test) stays complete.
Variables that config files name themselves (`api_key_env`, `key_env`, `base_url_env`, secret headers)
are read where the config says, not here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, TypeVar

import msgspec

from infra.platform.config_files import REPO_CONFIG_DIR, convert, read_yaml

T = TypeVar("T")

ALL_SERVICES = ("llm-proxy", "memory", "toolcore", "agent-runtime", "projects")
LEDGER_WRITERS = ("llm-proxy", "memory", "toolcore", "agent-runtime")


class EnvVar(msgspec.Struct, frozen=True):
    name: str
    meaning: str
    target: str | None = None              # the settings key it overrides, in `services`
    services: tuple[str, ...] = ()
    is_list: bool = False                   # comma-separated


ENVIRONMENT: tuple[EnvVar, ...] = (
    EnvVar("DATABASE_URL", "your own PostgreSQL with pgvector; unset: the embedded PostgreSQL 18"),
    EnvVar("DAARION_DATA_DIR", "where the embedded PostgreSQL keeps its data "
                               "(default `$XDG_DATA_HOME/daarion/pgdata`, i.e. `~/.local/share/daarion/pgdata`)"),
    EnvVar("DAARION_MIGRATE_ON_START", "`1`: `daarion serve` migrates a DATABASE_URL database too "
                                       "(the embedded one always is)"),
    EnvVar("DAARION_API_KEY", "`daarion chat` and `daarion toolcore mcp`: the API key to act with (default: "
                              "the agent's key in the local keys file)"),
    EnvVar("DAARION_KEYS_FILE", "the local keys file `daarion up` writes (default `$XDG_DATA_HOME/daarion/keys.json`)"),
    EnvVar("DAARION_BOOTSTRAP_ADMIN_KEY", "an operator key (`dk_...`, from `daarion keys generate-env`) the LLM "
                                          "proxy registers at start, so a fresh deployment has an admin",
           "bootstrap_admin_key", ("llm-proxy",)),
    EnvVar("DAARION_HOST", "address `daarion serve`/`daarion up` bind (default 127.0.0.1)"),
    EnvVar("DAARION_LLM_PROXY_CONFIG", "the LLM proxy's YAML (default `config/llm_proxy.yaml`)"),
    EnvVar("DAARION_MEMORY_CONFIG", "the memory service's YAML (default `config/memory.yaml`)"),
    EnvVar("DAARION_TOOLS_CONFIG", "Toolcore's tool registry YAML (default `config/tools.yaml`)"),
    EnvVar("DAARION_AGENTS_CONFIG", "the agent runtime's YAML (default `config/agents.yaml`)"),
    EnvVar("DAARION_EVENTS_CONFIG", "the ledger export's YAML (default `config/events.yaml`)"),
    EnvVar("DAARION_LEDGER_MODE", "`group_commit` or `per_request`, for every service that writes the ledger",
           "ledger.mode", LEDGER_WRITERS),
    EnvVar("DAARION_OLLAMA_HOST", "Ollama's URL for the proxy's `ollama` providers (wins over `host`)",
           "ollama_host", ("llm-proxy",)),
    EnvVar("DAARION_NATS_URL", "NATS server(s) `daarion events export` publishes the ledger to and `daarion events "
                               "tail` reads from, comma-separated for a cluster", "nats.url", ("ledger-export",)),
    EnvVar("DAARION_LLM_PROXY_URL", "where the agent runtime reaches the LLM proxy (replicas: comma-separated)",
           "services.llm_proxy.base_url", ("agent-runtime",)),
    EnvVar("DAARION_MEMORY_URL", "where the agent runtime reaches memory (replicas: comma-separated)",
           "services.memory.base_url", ("agent-runtime",)),
    EnvVar("DAARION_TOOLCORE_URL", "where the agent runtime reaches Toolcore (replicas: comma-separated)",
           "services.toolcore.base_url", ("agent-runtime",)),
    EnvVar("DAARION_PROJECTS_URL", "where Toolcore's project tools reach the projects service "
                                   "(named by `base_url_env` in `config/tools.yaml`)"),
    EnvVar("DAARION_PROJECTS_NETWORKS", "where the projects service's host name may resolve, comma-separated CIDRs "
                                        "(needed when DAARION_PROJECTS_URL names a host, as compose's `projects`; "
                                        "named by `networks_env` in `config/tools.yaml`)"),
    EnvVar("DAARION_MCP_ALLOWED_HOSTS", "extra Host headers Toolcore's `/mcp` answers, comma-separated "
                                        "(loopback always)", "mcp_extra_hosts", ("toolcore",), is_list=True),
    EnvVar("DAARION_TOOLCORE_LEDGER_WAIT", "`1`: a tool call's response waits for its ledger commit",
           "ledger_wait", ("toolcore",)),
    EnvVar("DAARION_TOOLCORE_LEDGER_LINGER_MS", "how long Toolcore gathers outcome entries before writing "
                                                "them together (default 25)", "ledger_linger_ms", ("toolcore",)),
    EnvVar("DAARION_AGENT_RUNTIME_URL", "`daarion chat`: the agent runtime's URL (default http://127.0.0.1:7006)"),
    EnvVar("DAARION_CHAT_USER", "`daarion chat`: the user id the messages come from (default member:cli)"),
    EnvVar("DAARION_TEST_DATABASE_URL", "tests only: run the suite against this database instead of a fresh "
                                        "embedded one"),
)
_BY_NAME = {var.name: var for var in ENVIRONMENT}


class LedgerSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How a service writes the usage ledger: a shared commit per batch of requests, or one per request."""

    mode: Literal["group_commit", "per_request"] = "group_commit"


def env(name: str) -> str | None:
    """The variable's value, None when unset or empty. Only listed variables may be read."""
    if name not in _BY_NAME:
        raise KeyError(f"{name} is not in infra.platform.settings.ENVIRONMENT; list it there first")
    return os.environ.get(name) or None


def config_path(file_name: str, env_var: str) -> Path:
    """The path in `env_var` if set, else ./config/<file_name>, else the repository's shipped default."""
    explicit = env(env_var)
    if explicit:
        return Path(explicit)
    local = Path("config") / file_name
    return local if local.exists() else REPO_CONFIG_DIR / file_name


def load_settings(schema: type[T], service: str, path: Path | None) -> T:
    """The service's YAML (none: defaults), then every set variable that targets the service, validated
    together so a bad value fails start-up naming its key and the variable that set it."""
    raw = read_yaml(path) if path is not None else {}
    set_by: dict[str, str] = {}
    for var in ENVIRONMENT:
        value = env(var.name) if var.target and service in var.services else None
        if value is not None and var.target is not None:
            _put(raw, var.target, [v.strip() for v in value.split(",") if v.strip()] if var.is_list else value)
            set_by[var.target] = var.name
    source = f"config file {path}" if path is not None else f"{service} settings"
    return convert(raw, schema, source, set_by)


def _put(raw: dict[str, Any], key_path: str, value: Any) -> None:
    *parents, leaf = key_path.split(".")
    for key in parents:
        if not isinstance(raw.get(key), dict):
            raw[key] = {}
        raw = raw[key]
    raw[leaf] = value
