"""Embedding adapters (domain.memory.ports.Embedder): MiniLM in-process, Ollama and OpenAI over HTTP."""
