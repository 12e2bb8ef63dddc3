"""Tool executors: HTTP (SSRF-guarded) and Python (registered functions only)."""
