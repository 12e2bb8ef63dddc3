"""Identity arguments: tool arguments that name the caller (its agent or its microDAO).

A tool may take the caller's ids as arguments (`{"microdao_id": "microdao:7"}`: clients written before
credentials send them). The caller is whoever the credential says, so such an argument may only repeat
it: one naming another agent or microDAO is refused as an identity mismatch (403), and one left out is
filled in from the caller before the schema check, so a schema may require it. Lists shown to agents and
LLMs leave these arguments out: there is nothing for a model to choose.

Which arguments carry identity is `ToolDefinition.identity_args` (config: `identity_args`), and by
convention arguments named `agent_id` and `microdao_id` always do (the registry refuses to load a tool
that says otherwise).
"""

from __future__ import annotations

from typing import Any

import msgspec

from domain.kernel.errors import IdentityMismatch
from domain.tools.model import IdentityKind, ToolCall, ToolDefinition

CONVENTIONAL: dict[str, IdentityKind] = {"agent_id": "agent", "microdao_id": "microdao"}


def bind_identity(tool: ToolDefinition, call: ToolCall) -> ToolCall:
    """The call with each identity argument checked against the caller and filled in where omitted."""
    if not tool.identity_args:
        return call
    args = dict(call.args)
    for name, kind in tool.identity_args.items():
        own = call.agent_id if kind == "agent" else call.microdao_id
        claimed = args.get(name)
        if claimed is not None and claimed != own:
            raise IdentityMismatch(f"argument '{name}' of '{tool.id}' names '{claimed}', but the caller's "
                                   f"{kind} is '{own}'")
        if claimed is None and own is not None:
            args[name] = own
    return msgspec.structs.replace(call, args=args)


def as_listed(tool: ToolDefinition) -> ToolDefinition:
    """The definition as an agent sees it: its input schema without the identity arguments."""
    if not tool.identity_args:
        return tool
    schema: dict[str, Any] = dict(tool.input_schema)
    properties = schema.get("properties")
    if isinstance(properties, dict):
        schema["properties"] = {k: v for k, v in properties.items() if k not in tool.identity_args}
    required = schema.get("required")
    if isinstance(required, list):
        schema["required"] = [name for name in required if name not in tool.identity_args]
        if not schema["required"]:
            del schema["required"]
    return msgspec.structs.replace(tool, input_schema=schema)
