"""The operator console: server-rendered pages over the ledger, the projections, budgets and memory health."""
