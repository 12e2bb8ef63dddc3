"""`daarion chat agent:sofia ["message"] [--channel ...]`: one answer, or an interactive chat (Ctrl-D or /quit
ends it). Options go after the message (argparse cannot take them between the two positionals)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from apps.agent_runtime.chat import ChatClient, ChatError, Printer
from apps.agent_runtime.settings import load_runtime_settings
from domain.kernel.errors import DaarionError
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
    chat.add_argument("--microdao", default=None, help="default: the agent's microDAO from config/agents.yaml")
    chat.set_defaults(handler=run_chat)


def run_chat(args: argparse.Namespace) -> int:
    microdao, name = args.microdao, args.agent
    try:
        profile = load_runtime_settings().agent(args.agent)
        microdao, name = microdao or profile.microdao_id, profile.display_name
    except (ConfigError, DaarionError) as exc:  # the runtime may know agents this checkout's config lacks
        if microdao is None:
            print(f"cannot tell the agent's microDAO ({exc}); pass --microdao", file=sys.stderr)
            return 2
    channel = args.channel or f"cli:{_login()}"
    client = ChatClient(args.url, args.agent, microdao, channel, args.user)
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


def _login() -> str:
    try:
        return "".join(c for c in getpass.getuser() if c.isalnum() or c in "._-") or "user"
    except (KeyError, OSError):
        return "user"
