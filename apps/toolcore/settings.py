"""Toolcore's settings: defaults with the environment laid over them (infra.platform.settings). The tools
themselves, their grants and outbound policy live in the registry file (config/tools.yaml)."""

from __future__ import annotations

import msgspec

from infra.platform.settings import LedgerSettings, load_settings

LOCAL_MCP_HOSTS = ("127.0.0.1:*", "localhost:*", "[::1]:*")


class ToolcoreSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    tools_config: str | None = None  # default: $DAARION_TOOLS_CONFIG, else config/tools.yaml
    ledger: LedgerSettings = LedgerSettings()
    # True: a call's response waits for its ledger commit (see domain/tools/records.py for the trade).
    ledger_wait: bool = False
    ledger_linger_ms: float = 25.0  # how long outcome entries gather before they go to the writer together
    pool_size: int = 10
    # Host headers /mcp answers besides loopback (DNS-rebinding protection).
    mcp_extra_hosts: tuple[str, ...] = ()

    @property
    def mcp_allowed_hosts(self) -> tuple[str, ...]:
        return LOCAL_MCP_HOSTS + self.mcp_extra_hosts


def load_toolcore_settings() -> ToolcoreSettings:
    return load_settings(ToolcoreSettings, "toolcore", None)
