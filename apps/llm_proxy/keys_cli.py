"""`daarion keys` and `daarion agents`: manage principals from a shell with database access (the admin
HTTP API does the same over the network). A key is printed once; only its hash is kept."""

from __future__ import annotations

import argparse
import asyncio
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from domain.identity.scopes import parse_scopes
from domain.kernel.errors import DaarionError

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def register(subparsers: Any) -> None:
    keys = subparsers.add_parser("keys", help="API keys: create, list, rotate, revoke").add_subparsers(
        dest="keys_command", required=True)
    create = keys.add_parser("create", help="issue a key (shown once)")
    owner = create.add_mutually_exclusive_group(required=True)
    owner.add_argument("--agent", help="the agent the key acts as, e.g. agent:sofia")
    owner.add_argument("--operator", action="store_true", help="a key bound to no agent (admin, usage, metrics)")
    create.add_argument("--microdao", help="the agent's microDAO (registers an unknown agent where allowed); with "
                                           "--operator, the one microDAO the key may see (usage:read, metrics:read)")
    create.add_argument("--scopes", default=None,
                        help="comma-separated: llm, memory, tools, projects, usage:read ... (default: an agent's "
                             "usual scopes, or admin,usage:read,metrics:read for --operator; an --operator key "
                             "may also get llm:on_behalf, never by default)")
    create.add_argument("--name", default="")
    create.add_argument("--expires-in", default=None, help="30d, 12h, 90m ...")
    create.add_argument("--budget", default=None, help="monthly budget of this key in USD")
    create.set_defaults(handler=_create)
    listing = keys.add_parser("list", help="keys (never their secrets)")
    listing.add_argument("--agent", default=None)
    listing.set_defaults(handler=_list)
    revoke = keys.add_parser("revoke", help="revoke a key by id (every service refuses it within a second)")
    revoke.add_argument("key_id")
    revoke.set_defaults(handler=_revoke)
    rotate = keys.add_parser("rotate", help="a new key with the same agent and scopes; the old one ends")
    rotate.add_argument("key_id")
    rotate.add_argument("--grace", default="0s", help="how long the old key keeps working (default 0s)")
    rotate.set_defaults(handler=_rotate)
    env_file = keys.add_parser("generate-env", help="fresh secrets for compose.yaml's env file (mode 0600)")
    env_file.add_argument("--file", default=".env", help="where to write them (default .env; never overwritten)")
    env_file.set_defaults(handler=_generate_env)

    agents = subparsers.add_parser("agents", help="registered agents").add_subparsers(
        dest="agents_command", required=True)
    agents.add_parser("list").set_defaults(handler=_agents)
    add = agents.add_parser("register")
    add.add_argument("agent_id")
    add.add_argument("--microdao", required=True)
    add.add_argument("--name", default=None)
    add.set_defaults(handler=_register)
    disable = agents.add_parser("disable", help="its keys stop working (403 unknown_agent)")
    disable.add_argument("agent_id")
    disable.set_defaults(handler=_disable)


def parse_duration(text: str) -> timedelta:
    match = _DURATION.match(text.strip())
    if not match:
        raise SystemExit(f"expected a duration like 30d, 12h, 90m or 45s, got '{text}'")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def _create(args: argparse.Namespace) -> int:
    from domain.identity.scopes import AGENT_SCOPES, MICRODAO_OPERATOR_SCOPES, OPERATOR_SCOPES

    operator_default = MICRODAO_OPERATOR_SCOPES if args.microdao else OPERATOR_SCOPES
    scopes = parse_scopes(args.scopes) if args.scopes else operator_default if args.operator else AGENT_SCOPES
    expires = parse_duration(args.expires_in) if args.expires_in else None
    budget = Decimal(args.budget) if args.budget else None

    async def create(admin: Any) -> int:
        issued = await admin.issue_key(args.agent, scopes, "cli", microdao_id=args.microdao, name=args.name,
                                       expires_in=expires, monthly_budget_usd=budget)
        record = issued.record
        owner = record.agent_id or "operator"
        print(f"key {record.key_id} for {owner} ({', '.join(sorted(record.scopes))}); shown once, keep it safe:")
        print(issued.key)
        print("use it as:  Authorization: Bearer <key>   (or DAARION_API_KEY=<key> for daarion chat / mcp)")
        return 0

    return _with_admin(create)


def _list(args: argparse.Namespace) -> int:
    async def show(admin: Any) -> int:
        for key in await admin.keys(args.agent):
            state = "revoked" if key.revoked_at else f"expires {key.expires_at:%Y-%m-%d %H:%M}" if key.expires_at else "active"
            print(f"{key.key_id}  {key.agent_id or 'operator':<20} {','.join(sorted(key.scopes)):<60} {state}  {key.name}")
        return 0

    return _with_admin(show)


def _revoke(args: argparse.Namespace) -> int:
    async def revoke(admin: Any) -> int:
        record = await admin.revoke_key(args.key_id, "cli")
        print(f"key {record.key_id} revoked at {record.revoked_at:%Y-%m-%d %H:%M:%S} UTC")
        return 0

    return _with_admin(revoke)


def _rotate(args: argparse.Namespace) -> int:
    grace = parse_duration(args.grace)

    async def rotate(admin: Any) -> int:
        issued = await admin.rotate_key(args.key_id, "cli", grace)
        print(f"key {issued.record.key_id} replaces {args.key_id} (which ends in {grace}); shown once:")
        print(issued.key)
        return 0

    return _with_admin(rotate)


def _agents(_: argparse.Namespace) -> int:
    async def show(admin: Any) -> int:
        for agent in await admin.agents():
            print(f"{agent.agent_id:<24} {agent.microdao_id:<16} {'disabled' if agent.disabled_at else 'active'}")
        return 0

    return _with_admin(show)


def _register(args: argparse.Namespace) -> int:
    async def register_one(admin: Any) -> int:
        agent = await admin.register_agent(args.agent_id, args.microdao, "cli", args.name)
        print(f"{agent.agent_id} is registered in {agent.microdao_id}")
        return 0

    return _with_admin(register_one)


def _disable(args: argparse.Namespace) -> int:
    async def disable(admin: Any) -> int:
        agent = await admin.disable_agent(args.agent_id, "cli")
        print(f"{agent.agent_id} is disabled; its keys no longer work")
        return 0

    return _with_admin(disable)


def _generate_env(args: argparse.Namespace) -> int:
    from infra.identity.env_file import write_env_file

    path = Path(args.file)
    try:
        write_env_file(path)
    except FileExistsError:
        raise SystemExit(f"{path} exists; it is never overwritten (delete it first to make new secrets)") from None
    print(f"wrote {path} (mode 0600): a Postgres password and an operator key for the LLM proxy's /admin API")
    return 0


def _with_admin(action: Any) -> int:
    from apps.cli import prepare_database
    from apps.llm_proxy.local_identity import identity_admin
    from apps.llm_proxy.settings import load_proxy_settings

    url = prepare_database()
    allow = load_proxy_settings().allow_unregistered_agents

    async def run() -> int:
        async with identity_admin(url, allow) as admin:
            return int(await action(admin))

    try:
        return asyncio.run(run())
    except DaarionError as exc:
        raise SystemExit(f"{exc.type}: {exc.message}") from None
