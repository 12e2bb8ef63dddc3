"""Opens the usage ledger on the shared database and the writer that commits to it."""

from __future__ import annotations

from psycopg_pool.base import AttemptWithBackoff

from domain.ledger.application import UsageLedger
from infra.ledger.group_commit import GroupCommitRecorder, PerRequestRecorder
from infra.platform.db import eventsourcing_env


def open_ledger(url: str) -> UsageLedger:
    # The ledger's connection pool (psycopg_pool, under eventsourcing, which takes no pool options) retries
    # a lost connection after 1, 2, 4, 8 ... s: after a minute's outage the ledger would stay unwritable for
    # half a minute more once the database is back. Retrying every second costs one failed connect per
    # second per connection while the database is down. A class setting: it holds for every pool here.
    AttemptWithBackoff.DELAY_BACKOFF = 1.0
    return UsageLedger(env=eventsourcing_env(url))


def ledger_recorder(ledger: UsageLedger, mode: str = "group_commit") -> GroupCommitRecorder | PerRequestRecorder:
    if mode == "per_request":
        return PerRequestRecorder(ledger)
    return GroupCommitRecorder(ledger)
