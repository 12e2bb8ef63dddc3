"""`daarion chat agent:sofia ["message"] [--channel ...]`: one answer, or an interactive chat (Ctrl-D or /quit
ends it). Options go after the message (argparse cannot take them between the two positionals).

It speaks with the agent's own key, found by itself: DAARION_API_KEY, else the local keys file that
`daarion up` writes (infra/identity/local_keys.py)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from apps.agent_runtime.chat import ChatClient, ChatError, Printer
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
    try:
        key = agent_key(args.agent)
    except ValueError as exc:  # a keys file that is not one
        print(f"cannot read the keys: {exc}", file=sys.stderr)
        return 2
    if key is None:
        print(f"no API key for {args.agent}: run `daarion up` once (it writes the local keys file, {keys_file()}), "
              f"or set DAARION_API_KEY to {args.agent}'s key", file=sys.stderr)
        return 2
    name = _display_name(args.agent)
    channel = args.channel or f"cli:{_login()}"
    client = ChatClient(args.url, args.agent, key, channel, args.user, args.microdao)
    printer = Printer(name, sys.stdout)
    try:
        if args.message:
            print(f"you › {args.message}")
            printer.whole(client.ask(args.message))
            return 0
        return _interactive(client, printer, name)
    except ChatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()


def _interactive(client: ChatClient, printer: Printer, name: str) -> int:
    print(f"chatting with {name}; Ctrl-D or /quit to leave")
    while True:
        try:
            text = input("you › ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if text in ("/quit", "/exit"):
            return 0
        if not text:
            continue
        try:
            for event, data in client.stream(text):
                if event == "memories":
                    printer.memories(data["ids"])
                elif event == "tool_call":
                    printer.tool_call(data)
                elif event == "delta":
                    printer.delta(data["text"])
                elif event == "done":
                    printer.done(data, streamed=True)
                elif event == "error":
                    print(f"\nerror: {data['error']['type']}: {data['error']['message']}", file=sys.stderr)
        except ChatError as exc:
            print(f"error: {exc}", file=sys.stderr)
        except KeyboardInterrupt:
            print("\n(interrupted)")


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
