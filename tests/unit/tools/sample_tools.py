"""The two tools and the grant that the Toolcore domain tests share: Sofia may list tasks and create one."""

from __future__ import annotations

from domain.tools.model import ToolDefinition
from domain.tools.permissions import Grant

SCHEMA = {"type": "object", "properties": {"project_id": {"type": "string"}}, "required": ["project_id"]}
TASKS = ToolDefinition("tasks.list", "recent tasks", SCHEMA, "http", idempotent=True, retries=2, safe_to_log=True)
CREATE = ToolDefinition("task.create", "create a task", SCHEMA, "http", retries=2, max_result_bytes=64)
SOFIA = Grant(("tasks.*", "task.create"), agent="agent:sofia", microdao="microdao:7")
