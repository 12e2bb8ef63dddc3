"""`daarion chat` handles its slash commands itself and shows a thinking line only on a terminal."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator

import pytest

from apps.agent_runtime.chat import ChatClient
from apps.agent_runtime.chat_session import ChatSession
from apps.agent_runtime.chat_status import Thinking

NOWHERE = "http://127.0.0.1:9"  # discard port: a command that reached the runtime would fail loudly


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture()
def session() -> Iterator[tuple[ChatSession, io.StringIO]]:
    out = io.StringIO()
    client = ChatClient(NOWHERE, "agent:sofia", "dk_test", "cli:olena", "member:olena")
    opened: dict[str, tuple[ChatClient, str] | str] = {
        "agent:taras": (ChatClient(NOWHERE, "agent:taras", "dk_t", "cli:olena", "member:olena"), "Taras")}
    chat = ChatSession(client, "Sofia", "agent:sofia", "cli:olena",
                       lambda agent, channel: opened.get(agent, f"no API key for {agent}"), out)
    yield chat, out
    chat.client.close()


def test_slash_commands_are_answered_locally_and_never_sent_to_the_agent(
    session: tuple[ChatSession, io.StringIO], monkeypatch: pytest.MonkeyPatch,
) -> None:
    chat, out = session
    monkeypatch.setattr(chat.client, "stream", lambda text: pytest.fail(f"sent {text!r} to the agent"))
    assert chat.command("/help") and "/reset" in out.getvalue() and "/agent" in out.getvalue()
    assert chat.command("/frobnicate") and "unknown command /frobnicate; /help lists them" in out.getvalue()
    assert chat.command("/agent") and "talking to Sofia (agent:sofia) on channel cli:olena" in out.getvalue()
    assert chat.command("/reset") and chat.channel.startswith("cli:olena:") and chat.channel in out.getvalue()
    assert not chat.command("/quit") and not chat.command("/exit")


def test_agent_switches_to_another_agent_or_says_why_it_cannot(session: tuple[ChatSession, io.StringIO]) -> None:
    chat, out = session
    chat.command("/agent agent:nobody")
    assert "no API key for agent:nobody" in out.getvalue() and chat.agent_id == "agent:sofia"
    chat.command("/agent agent:taras")
    assert chat.agent_id == "agent:taras" and chat.name == "Taras" and "now talking to Taras" in out.getvalue()


def test_the_thinking_line_counts_seconds_on_a_terminal_and_is_wiped_before_the_reply() -> None:
    terminal = Terminal()
    with Thinking(terminal, interval_s=0.01) as thinking:
        time.sleep(0.1)
        thinking.stop()
        shown = terminal.getvalue()
    assert "thinking… 0." in shown and shown.endswith("\r\033[K")
    piped = io.StringIO()
    with Thinking(piped, interval_s=0.01):
        time.sleep(0.05)
    assert piped.getvalue() == ""
