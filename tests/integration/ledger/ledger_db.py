"""A database of the ledger tests' own, and a way to make one of its writes fail exactly once."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from tests.support import fresh_database


@pytest.fixture(name="isolated_database")
def isolated_database_fixture(database_url: str) -> str:
    """A database of its own: these tests put triggers on its tables."""
    return fresh_database(database_url, "ledger")


def fail_once(url: str, event_on_table: str, nth: int = 1) -> None:
    """From now on the nth row written by `event_on_table` ("INSERT ON usageledger_events") fails its
    transaction. A sequence counts the rows: it is not rolled back with the transaction, so the failure
    happens exactly once."""
    name = f"test_fail_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"CREATE SEQUENCE {name}")
        connection.execute(f"""
            CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF nextval('{name}') = {int(nth)} THEN RAISE EXCEPTION 'injected failure'; END IF;
                RETURN NEW;
            END $$""")
        connection.execute(f"CREATE TRIGGER {name} BEFORE {event_on_table} FOR EACH ROW EXECUTE FUNCTION {name}()")
