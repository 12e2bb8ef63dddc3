"""`daarion toolcore mcp`: the tool registry as an MCP server on stdio, speaking for one agent.

An MCP host (an IDE, an agent framework) starts one process per agent:
    daarion toolcore mcp --agent-id agent:sofia --microdao-id microdao:7
tools/list then shows that agent's tools and tools/call runs them through the same permissions,
validation, executors and ledger as the HTTP API. stdout carries the protocol only: the SDK points
fd 1 at stderr while serving, and everything (database start-up included) runs inside that.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import msgspec
from mcp.server.stdio import stdio_server
from prometheus_client import CollectorRegistry

from apps.toolcore.container import open_toolcore
from apps.toolcore.mcp_server import McpIdentity, build_mcp_server, fixed_identity
from apps.toolcore.settings import ToolcoreSettings, load_toolcore_settings
from infra.platform.settings import env
from infra.tools.prometheus_metrics import ToolcoreMetrics


def register(subparsers: Any) -> None:
    toolcore = subparsers.add_parser("toolcore", help="Toolcore utilities")
    commands = toolcore.add_subparsers(dest="toolcore_command", required=True)
    mcp = commands.add_parser("mcp", help="serve the tool registry over MCP on stdio for one agent")
    mcp.add_argument("--agent-id", default=env("DAARION_AGENT_ID"),
                     help="the agent this process speaks for (default $DAARION_AGENT_ID)")
    mcp.add_argument("--microdao-id", default=env("DAARION_MICRODAO_ID"),
                     help="the microDAO it acts for (default $DAARION_MICRODAO_ID)")
    mcp.add_argument("--config", default=None, help="tools.yaml (default $DAARION_TOOLS_CONFIG, config/tools.yaml)")
    mcp.set_defaults(handler=_mcp_stdio)


def _mcp_stdio(args: argparse.Namespace) -> int:
    if not args.agent_id:
        raise SystemExit("toolcore mcp: name the agent with --agent-id or DAARION_AGENT_ID")
    settings = load_toolcore_settings()
    if args.config:
        settings = msgspec.structs.replace(settings, tools_config=args.config)
    asyncio.run(serve_stdio(settings, McpIdentity(args.agent_id, args.microdao_id)))
    return 0


async def serve_stdio(settings: ToolcoreSettings, identity: McpIdentity) -> None:
    from apps.cli import prepare_database  # the stack's one way to start and migrate the database

    async with stdio_server() as (read_stream, write_stream):
        await asyncio.to_thread(prepare_database)
        async with open_toolcore(settings, ToolcoreMetrics(CollectorRegistry())) as toolcore:
            server = build_mcp_server(toolcore.service, fixed_identity(identity))
            await server.run(read_stream, write_stream, server.create_initialization_options())

