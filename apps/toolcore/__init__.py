"""Toolcore (port 7009): the tool registry, permissions, safe HTTP and Python executors, MCP."""
