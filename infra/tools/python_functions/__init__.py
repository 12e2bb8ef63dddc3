"""Functions the Python executor may run (see python.allowed_modules in config/tools.yaml)."""
