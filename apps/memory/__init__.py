"""Memory Orchestrator (port 7008): short/mid/long-term memory on pgvector with real embeddings."""
