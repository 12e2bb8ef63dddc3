"""The interactive `daarion chat`: turns stream in with a thinking line while they run; lines starting with
"/" are commands handled here, never sent to the agent."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from typing import TextIO

from apps.agent_runtime.chat import ChatClient, ChatError, Printer
from apps.agent_runtime.chat_status import Thinking

HELP = """commands (handled here, not sent to the agent):
  /help          this list
  /reset         start a new conversation (a new channel: the agent's recent-turn history starts empty;
                 its long-term memories stay)
  /agent [ID]    who you are talking to, on which channel; with ID, talk to that agent instead
  /quit, /exit   leave (Ctrl-D too)"""


class ChatSession:
    def __init__(self, client: ChatClient, name: str, agent_id: str, channel: str,
                 open_client: Callable[[str, str], tuple[ChatClient, str] | str], out: TextIO = sys.stdout) -> None:
        """`open_client(agent_id, channel)`: a client and display name for another agent, or why not."""
        self.client, self.name, self.agent_id, self.channel = client, name, agent_id, channel
        self._base_channel = channel
        self._open_client = open_client
        self._out = out

    def run(self) -> int:
        self._say(f"chatting with {self.name}; /help for commands, Ctrl-D or /quit to leave")
        while True:
            try:
                text = input("you › ").strip()
            except (EOFError, KeyboardInterrupt):
                self._say("")
                return 0
            if text.startswith("/"):
                if not self.command(text):
                    return 0
            elif text:
                self.turn(text)

    def command(self, text: str) -> bool:
        """Handles one slash command; False when the chat should end."""
        name, _, argument = text.partition(" ")
        if name in ("/quit", "/exit"):
            return False
        if name == "/help":
            self._say(HELP)
        elif name == "/reset":
            self.channel = f"{self._base_channel}:{uuid.uuid4().hex[:8]}"
            self.client.use_channel(self.channel)
            self._say(f"new conversation with {self.name} (channel {self.channel})")
        elif name == "/agent" and argument.strip():
            self._switch(argument.strip())
        elif name == "/agent":
            self._say(f"talking to {self.name} ({self.agent_id}) on channel {self.channel}")
        else:
            self._say(f"unknown command {name}; /help lists them")
        return True

    def turn(self, text: str) -> None:
        with Thinking(self._out) as thinking:
            printer = Printer(self.name, self._out, thinking)
            try:
                for event, data in self.client.stream(text):
                    if event == "memories":
                        printer.memories(data["ids"])
                    elif event == "tool_call":
                        printer.tool_call(data)
                    elif event == "delta":
                        printer.delta(data["text"])
                    elif event == "done":
                        printer.done(data, streamed=True)
                    elif event == "error":
                        thinking.stop()
                        print(f"\nerror: {data['error']['type']}: {data['error']['message']}", file=sys.stderr)
            except ChatError as exc:
                thinking.stop()
                print(f"error: {exc}", file=sys.stderr)
            except KeyboardInterrupt:
                thinking.stop()
                self._say("\n(interrupted)")

    def _switch(self, agent_id: str) -> None:
        opened = self._open_client(agent_id, self.channel)
        if isinstance(opened, str):
            self._say(opened)
            return
        self.client.close()
        self.client, self.name = opened
        self.agent_id = agent_id
        self._say(f"now talking to {self.name} ({agent_id})")

    def _say(self, text: str) -> None:
        self._out.write(text + "\n")
        self._out.flush()
