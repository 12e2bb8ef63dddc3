"""Python tool functions used only by the tests (registered through python.allowed_modules)."""
