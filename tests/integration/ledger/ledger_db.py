"""A database of the ledger tests' own, and a way to make one of its writes fail exactly once."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from infra.platform import migrations


@pytest.fixture(name="isolated_database")
def isolated_database_fixture(database_url: str) -> str:
    """A fresh, migrated database on the session's server: these tests put triggers on its tables."""
    name = f"ledger_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(database_url)
    url = urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))
    migrations.upgrade(url)
    return url


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
