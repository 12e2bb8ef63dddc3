"""`daarion toolcore mcp`: the tool registry as an MCP server on stdio, acting with one agent's API key.

An MCP host (an IDE, an agent framework) starts one process per agent, with that agent's key:
    DAARION_API_KEY=dk_... daarion toolcore mcp
(or `--agent-id agent:sofia` to take that agent's key from the local keys file `daarion up` wrote). The
key is checked against the database before anything is served, and again on every request (a revoked
key stops working). tools/list then shows that agent's tools and tools/call runs them through the same
permissions, validation, executors and ledger as the HTTP API. stdout carries the protocol only: the SDK
points fd 1 at stderr while serving, and everything (database start-up included) runs inside that.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import msgspec
from mcp.server.stdio import stdio_server
from prometheus_client import CollectorRegistry

from apps.toolcore.container import open_toolcore
from apps.toolcore.mcp_server import authenticating, build_mcp_server
from apps.toolcore.settings import ToolcoreSettings, load_toolcore_settings
from domain.identity.scopes import Scope
from domain.kernel.errors import DaarionError
from infra.identity.local_keys import agent_key
from infra.platform.settings import env
from infra.tools.prometheus_metrics import ToolcoreMetrics

NO_KEY = ("toolcore mcp: no API key. Set DAARION_API_KEY to the agent's key (dk_..., from `daarion keys "
          "create`), or name an agent whose key is in the local keys file with --agent-id")


def register(subparsers: Any) -> None:
    toolcore = subparsers.add_parser("toolcore", help="Toolcore utilities")
    commands = toolcore.add_subparsers(dest="toolcore_command", required=True)
    mcp = commands.add_parser("mcp", help="serve the tool registry over MCP on stdio, acting with one agent's key")
    mcp.add_argument("--agent-id", default=None,
                     help="take this agent's key from the local keys file (when DAARION_API_KEY is unset)")
    mcp.add_argument("--config", default=None, help="tools.yaml (default $DAARION_TOOLS_CONFIG, config/tools.yaml)")
    mcp.set_defaults(handler=_mcp_stdio)


def _mcp_stdio(args: argparse.Namespace) -> int:
    key = env("DAARION_API_KEY") or (agent_key(args.agent_id) if args.agent_id else None)
    if not key:
        raise SystemExit(NO_KEY)
    settings = load_toolcore_settings()
    if args.config:
        settings = msgspec.structs.replace(settings, tools_config=args.config)
    asyncio.run(serve_stdio(settings, key))
    return 0


async def serve_stdio(settings: ToolcoreSettings, key: str) -> None:
    from apps.cli import prepare_database  # the stack's one way to start and migrate the database

    async with stdio_server() as (read_stream, write_stream):
        await asyncio.to_thread(prepare_database)
        async with open_toolcore(settings, ToolcoreMetrics(CollectorRegistry())) as toolcore:
            try:
                principal = await toolcore.authenticator.authenticate(key)
                principal.tenant()
                if not (principal.may(Scope.TOOLS_LIST) or principal.may(Scope.TOOLS_CALL)):
                    raise SystemExit("toolcore mcp: this key has neither the tools:list nor the tools:call scope")
            except DaarionError as exc:
                raise SystemExit(f"toolcore mcp: the API key was refused: {exc.message}") from None
            server = build_mcp_server(toolcore.service, authenticating(toolcore.authenticator, key))
            await server.run(read_stream, write_stream, server.create_initialization_options())
