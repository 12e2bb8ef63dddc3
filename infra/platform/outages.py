"""Which failures mean "the database cannot be reached now" (a 503 worth retrying), told apart from bugs (a 500).

The drivers say it in several ways, all of them read here:

- a SQLSTATE of class 08 (connection exception) or a server that is shutting down, crashed or starting
  (57P01, 57P02, 57P03), or has no connection slot left (53300): asyncpg's and psycopg's errors alike;
- psycopg's client-side OperationalError (no SQLSTATE: connection failed, psycopg_pool's PoolTimeout), which
  the ledger's eventsourcing recorder raises and wraps in its own OperationalError;
- an OSError (TimeoutError included) raised inside a database driver: ConnectionRefusedError over TCP,
  FileNotFoundError when the embedded server's unix socket is gone, a reset, an acquire or command
  timeout. Where it was raised decides, not its type: the traceback must pass through asyncpg, psycopg
  or psycopg_pool, so a FileNotFoundError about a config file stays a bug;
- asyncpg's and psycopg's InterfaceError saying the connection is closed. asyncpg 0.32 detaches a pooled
  connection the server dropped, so its next call reads "connection has been released back to the pool",
  the words of a use-after-release bug too; no code here uses a connection outside its `async with`, so
  the outage is the reading taken;
- asyncpg's InternalClientError: its protocol is out of step with the server, as when the server's
  "terminating connection" arrived on an idle pooled connection before the socket closed ("cannot switch
  to state 15; another operation (2) is in progress": 2 is consuming that error). Two tasks using one
  connection at once, the bug that reads alike, is stopped earlier with an InterfaceError.

The exception's cause and context are searched as well (the InterfaceError of a transaction's exit whose
connection was lost mid-transaction carries the loss as its context), and so are an exception group's members.
"""

from __future__ import annotations

import re
from types import TracebackType

import asyncpg
import psycopg

__all__ = ["RETRY_AFTER_S", "is_database_outage"]

RETRY_AFTER_S = 1  # what a 503 asks a client to wait: the embedded server restarts in about a second

_SERVER_UNAVAILABLE = frozenset({"57P01", "57P02", "57P03", "53300"})
_DRIVERS = frozenset({"asyncpg", "psycopg", "psycopg_pool"})
_CONNECTION_CLOSED = re.compile(r"connection is closed|connection has been released back to the pool")


def is_database_outage(exc: BaseException) -> bool:
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if _says_unreachable(current):
            return True
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        pending.extend(linked for linked in (current.__cause__, current.__context__) if linked is not None)
    return False


def _says_unreachable(exc: BaseException) -> bool:
    if isinstance(exc, asyncpg.PostgresError | psycopg.Error):
        state = exc.sqlstate
        if not state:
            if isinstance(exc, psycopg.InterfaceError):
                return bool(_CONNECTION_CLOSED.search(str(exc)))
            return isinstance(exc, psycopg.OperationalError)
        return state.startswith("08") or state in _SERVER_UNAVAILABLE
    if isinstance(exc, asyncpg.InterfaceError):
        return bool(_CONNECTION_CLOSED.search(str(exc)))
    if isinstance(exc, asyncpg.InternalClientError):
        return True
    if isinstance(exc, OSError):
        return _raised_inside_a_driver(exc.__traceback__)
    return False


def _raised_inside_a_driver(traceback: TracebackType | None) -> bool:
    while traceback is not None:
        module = traceback.tb_frame.f_globals.get("__name__", "")
        if isinstance(module, str) and module.partition(".")[0] in _DRIVERS:
            return True
        traceback = traceback.tb_next
    return False
