"""Which failures are the database being unreachable (503) and which are bugs (500): real driver errors,
produced against places where no database listens."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import psycopg
import pytest
from eventsourcing.persistence import OperationalError as LedgerOperationalError

from infra.platform.outages import is_database_outage
from tests.support import free_port


def _raised(coroutine: object) -> BaseException:
    try:
        asyncio.run(coroutine)  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - the error under test
        return exc
    raise AssertionError("expected the call to fail")


def test_a_missing_unix_socket_of_the_embedded_server_is_an_outage(tmp_path: Path) -> None:
    exc = _raised(asyncpg.connect(f"postgresql://postgres@/postgres?host={tmp_path}"))
    assert isinstance(exc, FileNotFoundError)
    assert is_database_outage(exc)


def test_a_refused_tcp_connection_is_an_outage() -> None:
    exc = _raised(asyncpg.connect(f"postgresql://postgres@127.0.0.1:{free_port()}/postgres", timeout=5))
    assert isinstance(exc, OSError)
    assert is_database_outage(exc)


def test_a_missing_file_outside_the_drivers_is_a_bug(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as raised:
        (tmp_path / "config.yaml").read_text()
    assert not is_database_outage(raised.value)


def test_a_timeout_outside_the_drivers_is_a_bug() -> None:
    async def slow() -> None:
        await asyncio.wait_for(asyncio.sleep(1), 0.01)

    assert not is_database_outage(_raised(slow()))


@pytest.mark.parametrize("kind", [
    asyncpg.exceptions.AdminShutdownError, asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.CrashShutdownError, asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.ConnectionDoesNotExistError, asyncpg.exceptions.ConnectionFailureError,
])
def test_a_server_shutting_down_starting_full_or_gone_is_an_outage(kind: type[Exception]) -> None:
    assert is_database_outage(kind("terminating connection due to administrator command"))


@pytest.mark.parametrize("kind", [
    asyncpg.exceptions.UniqueViolationError, asyncpg.exceptions.UndefinedColumnError,
    asyncpg.exceptions.DeadlockDetectedError, asyncpg.exceptions.CharacterNotInRepertoireError,
])
def test_errors_of_the_statement_itself_are_bugs(kind: type[Exception]) -> None:
    assert not is_database_outage(kind("no"))


def test_a_connection_lost_mid_transaction_is_an_outage() -> None:
    lost = asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation")
    try:
        try:
            raise lost
        finally:
            # what asyncpg raises leaving the transaction: the loss is its context
            raise asyncpg.InterfaceError("cannot call Transaction.__aexit__(): the underlying connection is closed")
    except asyncpg.InterfaceError as exc:
        assert exc.__context__ is lost
        assert is_database_outage(exc)
    assert is_database_outage(asyncpg.InterfaceError(
        "cannot call Connection.fetchval(): connection has been released back to the pool"))
    assert not is_database_outage(asyncpg.InterfaceError("cannot perform operation: another operation is in progress"))


def test_the_ledger_recorder_failing_to_connect_is_an_outage(tmp_path: Path) -> None:
    with pytest.raises(psycopg.OperationalError) as raised:
        psycopg.connect(f"host={tmp_path} dbname=postgres user=postgres", connect_timeout=2)
    assert is_database_outage(raised.value)
    try:
        raise LedgerOperationalError(str(raised.value)) from raised.value
    except LedgerOperationalError as wrapped:  # how eventsourcing hands it on
        assert is_database_outage(wrapped)


def test_an_exception_group_with_an_outage_inside_is_an_outage() -> None:
    shutdown = asyncpg.exceptions.AdminShutdownError("terminating")
    assert is_database_outage(ExceptionGroup("calls", [ValueError("x"), shutdown]))
    assert not is_database_outage(ExceptionGroup("calls", [ValueError("x")]))
