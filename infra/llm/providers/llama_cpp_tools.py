"""Function calling for small local models that were never trained for it (SmolLM2-135M and the like).

The model is not trusted to produce a tool call on its own. Instead, when tools are offered, a first
pass asks it for a *decision* under a JSON grammar built from the offered tools:
    {"tool": "<function name>", "arguments": {...fitting that function's parameters...}}  or  {"tool": "none"}
so whatever it says is a well-formed call of an offered function, or "no tool". The clear fallbacks:
a decision that is cut off, unreadable or "none", or that repeats a call already made this turn
(tiny models love to), means "answer in text" - the second pass, streamed.
"""

from __future__ import annotations

import json
from typing import Any

from infra.llm.providers.llama_cpp_prompt import function_name

_KEEP = ("type", "properties", "required", "enum", "const", "items", "anyOf")
NONE = "none"
MAX_STRING_CHARS = 48


def decision_schema(tools: list[dict[str, Any]] | None, tool_choice: Any) -> dict[str, Any] | None:
    """The JSON schema the decision must fit, or None when there is nothing to decide."""
    if not tools or tool_choice == NONE:
        return None
    forced = (tool_choice.get("function") or {}).get("name") if isinstance(tool_choice, dict) else None
    options = [{
        "type": "object",
        "properties": {"tool": {"const": function_name(tool)}, "arguments": _simplified(_parameters(tool))},
        "required": ["tool", "arguments"], "additionalProperties": False,
    } for tool in tools if forced in (None, function_name(tool))]
    if forced is None and tool_choice != "required":
        options.append({"type": "object", "properties": {"tool": {"const": NONE}}, "required": ["tool"],
                        "additionalProperties": False})
    return {"anyOf": options} if options else None


def decision_instruction(tools: list[dict[str, Any]]) -> str:
    lines = ["You can call these tools:"]
    for tool in tools:
        function = tool.get("function") or {}
        parameters = _parameters(tool).get("properties") or {}
        arguments = ", ".join(parameters) or "no arguments"
        lines.append(f"- {function_name(tool)}: {function.get('description', '')} (arguments: {arguments})")
    lines.append('If one of them is needed to answer the user\'s last message, reply with JSON '
                 '{"tool": NAME, "arguments": {...}}; otherwise reply {"tool": "none"}.')
    return "\n".join(lines)


def with_instruction(messages: list[dict[str, str]], instruction: str) -> list[dict[str, str]]:
    """The decision instruction joins the first system message: measured with SmolLM2-135M, it picks a
    tool there and never when the instruction comes as a separate message after the conversation."""
    if messages and messages[0]["role"] == "system":
        return [{"role": "system", "content": f"{messages[0]['content']}\n\n{instruction}"}, *messages[1:]]
    return [{"role": "system", "content": instruction}, *messages]


def parse_decision(text: str) -> tuple[str, dict[str, Any]] | None:
    """(function name, arguments), or None for "no tool" and for anything cut off or unreadable."""
    try:
        decision = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(decision, dict) or decision.get("tool") in (None, NONE):
        return None
    arguments = decision.get("arguments")
    return str(decision["tool"]), arguments if isinstance(arguments, dict) else {}


def repeats_a_call(name: str, arguments: dict[str, Any], messages: list[dict[str, Any]]) -> bool:
    """Whether this exact call was already made since the last user message."""
    wanted = json.dumps(arguments, sort_keys=True)
    for message in reversed(messages):
        if message.get("role") == "user":
            return False
        for call in message.get("tool_calls") or []:
            raw = (call.get("function") or {}).get("arguments") or "{}"
            try:
                made = json.dumps(json.loads(raw) if isinstance(raw, str) else raw, sort_keys=True)
            except json.JSONDecodeError:
                continue
            if function_name(call) == name and made == wanted:
                return True
    return False


def _parameters(tool: dict[str, Any]) -> dict[str, Any]:
    parameters = (tool.get("function") or {}).get("parameters")
    return parameters if isinstance(parameters, dict) else {"type": "object", "properties": {}}


def _simplified(schema: Any) -> Any:
    """Only what shapes the JSON (patterns make slow grammars; Toolcore validates the arguments anyway),
    with every free string bounded."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {k: v for k, v in schema.items() if k in _KEEP}
    if "properties" in out:
        out["properties"] = {name: _simplified(sub) for name, sub in out["properties"].items()}
    if "items" in out:
        out["items"] = _simplified(out["items"])
    if "anyOf" in out:
        out["anyOf"] = [_simplified(sub) for sub in out["anyOf"]]
    if out.get("type") == "string" and "enum" not in out and "const" not in out:
        # Unbounded, a small model rambles inside a string until the token limit cuts the call off.
        out["maxLength"] = min(int(schema.get("maxLength", MAX_STRING_CHARS)), MAX_STRING_CHARS)
    if out.get("type") == "object":
        out["additionalProperties"] = False
        out.setdefault("properties", {})
    return out
