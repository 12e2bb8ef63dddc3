"""Opens the usage ledger on the shared database and the writer that commits to it."""

from __future__ import annotations

from domain.ledger.application import UsageLedger
from infra.ledger.group_commit import GroupCommitRecorder, PerRequestRecorder
from infra.platform.db import eventsourcing_env


def open_ledger(url: str) -> UsageLedger:
    return UsageLedger(env=eventsourcing_env(url))


def ledger_recorder(ledger: UsageLedger, mode: str = "group_commit") -> GroupCommitRecorder | PerRequestRecorder:
    if mode == "per_request":
        return PerRequestRecorder(ledger)
    return GroupCommitRecorder(ledger)
