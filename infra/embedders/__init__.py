"""Embedding adapters (domain.ports.Embedder): MiniLM in-process, Ollama and OpenAI over HTTP."""
