"""A chat stream retold as Responses API events.

    response.created, response.in_progress
    per output item: response.output_item.added, then
        text:     response.content_part.added, response.output_text.delta..., response.output_text.done,
                  response.content_part.done
        function: response.function_call_arguments.delta..., response.function_call_arguments.done
    response.output_item.done; finally response.completed (with the usage), or `error` if the stream broke.

An item is closed when the next one opens: chat deltas of text and of each tool call come one after another.
"""

from __future__ import annotations

from typing import Any

import msgspec

from apps.llm_proxy.responses_schemas import (
    ArgumentsDeltaEvent,
    ArgumentsDoneEvent,
    ContentPartEvent,
    ErrorEvent,
    FunctionCallItem,
    LifecycleEvent,
    MessageItem,
    OutputItem,
    OutputItemEvent,
    OutputText,
    ResponsesRequest,
    TextDeltaEvent,
    TextDoneEvent,
)
from apps.llm_proxy.responses_translate import envelope, usage_of
from domain.llm.policies import ChatChunk

_encode = msgspec.json.encode


class ResponseEvents:
    def __init__(self, data: ResponsesRequest, response_id: str) -> None:
        self._data = data
        self._id = response_id
        self._sequence = 0
        self._done: list[OutputItem] = []
        self._open: MessageItem | FunctionCallItem | None = None
        self._open_tool_index: int | None = None
        self._pieces: list[str] = []
        self._incomplete = False

    def start(self) -> bytes:
        response = envelope(self._data, self._id, "in_progress", [])
        return (self._event(LifecycleEvent("response.created", self._next(), response))
                + self._event(LifecycleEvent("response.in_progress", self._next(), response)))

    def add(self, chunk: ChatChunk) -> bytes:
        """The events of one chat chunk; the final one (with the usage) completes the response."""
        out = b""
        delta = chunk.delta
        if isinstance(content := delta.get("content"), str) and content:
            message = self._open
            if not isinstance(message, MessageItem):
                out += self._close()
                message = self._open = MessageItem(f"msg_{self._id}_{len(self._done)}", "in_progress", [])
                out += self._opened(message)
            self._pieces.append(content)
            out += self._event(TextDeltaEvent("response.output_text.delta", self._next(), message.id, len(self._done),
                                              0, content))
        for piece in delta.get("tool_calls") or []:
            out += self._tool_piece(piece)
        if chunk.finish_reason == "length":
            self._incomplete = True
        if chunk.usage is not None:
            out += self._close()
            status = "incomplete" if self._incomplete else "completed"
            response = envelope(self._data, self._id, status, self._done, usage_of(chunk.usage),
                                {"reason": "max_output_tokens"} if self._incomplete else None)
            out += self._event(LifecycleEvent(f"response.{'completed' if status == 'completed' else 'incomplete'}",
                                              self._next(), response))
        return out

    def failed(self, code: str, message: str) -> bytes:
        return self._event(ErrorEvent("error", self._next(), code, message))

    def _tool_piece(self, piece: dict[str, Any]) -> bytes:
        out = b""
        index = int(piece.get("index", 0))
        function = piece.get("function") or {}
        if self._open_tool_index != index or not isinstance(self._open, FunctionCallItem):
            out += self._close()
            call_id = str(piece.get("id") or f"call_{self._id}_{index}")
            self._open = FunctionCallItem(f"fc_{call_id}", call_id, str(function.get("name") or ""), "", "in_progress")
            self._open_tool_index = index
            self._pieces = []
            out += self._event(OutputItemEvent("response.output_item.added", self._next(), len(self._done), self._open))
        elif function.get("name"):
            self._open.name += str(function["name"])
        if arguments := function.get("arguments"):
            self._pieces.append(str(arguments))
            out += self._event(ArgumentsDeltaEvent("response.function_call_arguments.delta", self._next(),
                                                   self._open.id, len(self._done), str(arguments)))
        return out

    def _opened(self, message: MessageItem) -> bytes:
        index = len(self._done)
        return (self._event(OutputItemEvent("response.output_item.added", self._next(), index, message))
                + self._event(ContentPartEvent("response.content_part.added", self._next(), message.id, index, 0,
                                               OutputText(""))))

    def _close(self) -> bytes:
        item, index, whole = self._open, len(self._done), "".join(self._pieces)
        if item is None:
            return b""
        self._open, self._open_tool_index, self._pieces = None, None, []
        if isinstance(item, MessageItem):
            done: OutputItem = MessageItem(item.id, "completed", [OutputText(whole)])
            out = (self._event(TextDoneEvent("response.output_text.done", self._next(), item.id, index, 0, whole))
                   + self._event(ContentPartEvent("response.content_part.done", self._next(), item.id, index, 0,
                                                  OutputText(whole))))
        else:
            done = FunctionCallItem(item.id, item.call_id, item.name, whole, "completed")
            out = self._event(ArgumentsDoneEvent("response.function_call_arguments.done", self._next(), item.id,
                                                 index, item.name, whole))
        self._done.append(done)
        return out + self._event(OutputItemEvent("response.output_item.done", self._next(), index, done))

    def _next(self) -> int:
        self._sequence += 1
        return self._sequence - 1

    @staticmethod
    def _event(event: Any) -> bytes:
        return b"event: " + event.type.encode() + b"\ndata: " + _encode(event) + b"\n\n"
