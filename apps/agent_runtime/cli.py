"""`daarion chat agent:sofia ["message"] [--channel ...]`: one answer, or an interactive chat (/help lists its
local commands; Ctrl-D or /quit ends it). Options go after the message (argparse cannot take them between the two positionals).

It speaks with the agent's own key, found by itself: DAARION_API_KEY, else the local keys file that
`daarion up` writes (infra/identity/local_keys.py)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from apps.agent_runtime.chat import ChatClient, ChatError, Printer
from apps.agent_runtime.chat_session import ChatSession
from apps.agent_runtime.chat_status import Thinking
from apps.agent_runtime.settings import load_runtime_settings
from domain.kernel.errors import DaarionError
from infra.identity.local_keys import agent_key, keys_file
from infra.platform.config_files import ConfigError
from infra.platform.settings import env

DEFAULT_URL = "http://127.0.0.1:7006"


def register(commands: Any) -> None:
    chat = commands.add_parser("chat", help="talk to an agent: one message, or an interactive chat")
    chat.add_argument("agent", help="the agent's id, e.g. agent:sofia")
    chat.add_argument("message", nargs="?", help="answer this one message and exit")
    chat.add_argument("--url", default=env("DAARION_AGENT_RUNTIME_URL") or DEFAULT_URL)
    chat.add_argument("--user", default=env("DAARION_CHAT_USER") or "member:cli")
    chat.add_argument("--channel", default=None, help="default: cli:<your login name>")
    chat.add_argument("--microdao", default=None, help="default: the key's (the runtime refuses any other)")
    chat.set_defaults(handler=run_chat)


def run_chat(args: argparse.Namespace) -> int:
    opened = _open(args, args.agent, args.channel or f"cli:{_login()}")
    if isinstance(opened, str):
        print(opened, file=sys.stderr)
        return 2
    client, name = opened
    if not args.message:
        session = ChatSession(client, name, args.agent, args.channel or f"cli:{_login()}",
                              lambda agent_id, channel: _open(args, agent_id, channel))
        try:
            return session.run()
        finally:
            session.client.close()
    print(f"you › {args.message}")
    try:
        with Thinking(sys.stdout) as thinking:
            body = client.ask(args.message)
            thinking.stop()
        Printer(name, sys.stdout).whole(body)
        return 0
    except ChatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()


def _open(args: argparse.Namespace, agent_id: str, channel: str) -> tuple[ChatClient, str] | str:
    """A client speaking as `agent_id` with its own key and its display name, or why there is none."""
    try:
        key = agent_key(agent_id)
    except ValueError as exc:  # a keys file that is not one
        return f"cannot read the keys: {exc}"
    if key is None:
        return (f"no API key for {agent_id}: run `daarion up` once (it writes the local keys file, {keys_file()}), "
                f"or set DAARION_API_KEY to {agent_id}'s key")
    return ChatClient(args.url, agent_id, key, channel, args.user, args.microdao), _display_name(agent_id)


def _display_name(agent_id: str) -> str:
    try:
        return load_runtime_settings().agent(agent_id).display_name
    except (ConfigError, DaarionError):  # the runtime may know agents this checkout's config lacks
        return agent_id


def _login() -> str:
    try:
        return "".join(c for c in getpass.getuser() if c.isalnum() or c in "._-") or "user"
    except (KeyError, OSError):
        return "user"
