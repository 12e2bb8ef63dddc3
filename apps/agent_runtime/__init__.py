"""The agent runtime (port 7006): one agent turn through memory, Toolcore and the LLM proxy."""
