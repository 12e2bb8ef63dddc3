"""Every tenant table can be distributed by microdao_id (Citus `create_distributed_table`) as it stands.

A tenant table is one the catalog says holds a tenant's rows: it has a microdao_id column or row-level
security. Each must have microdao_id in its primary key, in every unique constraint and unique index, and on
both sides of every foreign key to another tenant table: what Citus requires of a distributed table. The
tables are read from the migrated database's catalog, so a table a new migration adds is checked without
this file changing; the only tables exempt are the global ones below.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

# Tables that hold no single tenant's rows; on Citus, reference tables or coordinator-local ones.
GLOBAL_TABLES = {
    # The usage ledger (eventsourcing's stored events): one log of every tenant's events in one order
    # (notification_id), which the projections and their exactly-once positions follow; the microDAO is
    # inside each event. It grows by time, not by tenant: it is partitioned by time (see the README).
    "usageledger_events",
    # The projections' positions in that log, one row per projection.
    "usage_projection_tracking",
    # Identity, read by key id or agent id to authenticate a request, before any tenant is known; an
    # operator's key belongs to no microDAO (its microdao_id is NULL, which no key may hold), and agent ids
    # are unique across the platform. Small and read-mostly: Citus reference tables.
    "agents",
    "api_keys",
    "alembic_version",
}

TABLES = """
    SELECT c.oid, c.relname, c.relrowsecurity,
           EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'microdao_id'
                   AND NOT a.attisdropped) AS has_microdao
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND NOT c.relispartition
    ORDER BY c.relname
"""
# Primary keys and unique indexes (a unique constraint has one): the columns of each; an expression index
# has attribute number 0 in its place, which names no column.
UNIQUE_KEYS = """
    SELECT i.indexrelid::regclass::text AS name, i.indisprimary,
           array(SELECT a.attname::text FROM unnest(i.indkey) AS k(attnum)
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum) AS columns
    FROM pg_index i WHERE i.indrelid = %s AND i.indisunique
"""
FOREIGN_KEYS = """
    SELECT con.conname, con.confrelid,
           array(SELECT a.attname::text FROM unnest(con.conkey) AS k(attnum)
                 JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) AS columns,
           array(SELECT a.attname::text FROM unnest(con.confkey) AS k(attnum)
                 JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum) AS referenced
    FROM pg_constraint con WHERE con.conrelid = %s AND con.contype = 'f'
"""


def tenant_key_gaps(connection: psycopg.Connection, schema: str = "public",
                    exempt: frozenset[str] = frozenset(GLOBAL_TABLES)) -> list[str]:
    """What keeps each tenant table of `schema` from being distributed by microdao_id, one line a gap."""
    tables = connection.execute(TABLES, (schema,)).fetchall()
    tenant = {oid: name for oid, name, secured, has_microdao in tables
              if (secured or has_microdao) and name not in exempt}
    gaps = [f"{name}: a tenant table (row-level security) without a microdao_id column"
            for oid, name, secured, has_microdao in tables if oid in tenant and not has_microdao]
    for oid, name in tenant.items():
        keys = connection.execute(UNIQUE_KEYS, (oid,)).fetchall()
        if not any(primary for _, primary, _ in keys):
            gaps.append(f"{name}: no primary key")
        gaps += [f"{name}: {'primary key' if primary else 'unique index'} {index} ({', '.join(columns)}) "
                 "lacks microdao_id" for index, primary, columns in keys if "microdao_id" not in columns]
        for constraint, target, columns, referenced in connection.execute(FOREIGN_KEYS, (oid,)).fetchall():
            if target in tenant and ("microdao_id", "microdao_id") not in zip(columns, referenced, strict=True):
                gaps.append(f"{name}: foreign key {constraint} to {tenant[target]} does not pair microdao_id "
                            "with microdao_id")
    return sorted(gaps)


@pytest.fixture(name="connection")
def connection_fixture(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection


def test_every_tenant_table_has_microdao_id_in_its_primary_unique_and_foreign_keys(
    connection: psycopg.Connection,
) -> None:
    assert tenant_key_gaps(connection) == []


def test_the_tables_checked_are_the_tenant_tables_the_catalog_shows(connection: psycopg.Connection) -> None:
    names = {row[1] for row in connection.execute(TABLES, ("public",)).fetchall()}
    assert GLOBAL_TABLES <= names  # an exemption for a table that has gone would hide a new one of that name
    checked = {row[1] for row in connection.execute(TABLES, ("public",)).fetchall() if row[2] or row[3]}
    assert {"memory_items", "memory_chunks", "memory_embeddings", "memory_index_jobs", "projects", "tasks",
            "tool_idempotency", "llm_spend", "rate_limit_windows", "usage_daily"} <= checked - GLOBAL_TABLES


@pytest.fixture(name="scratch")
def scratch_fixture(connection: psycopg.Connection) -> Iterator[str]:
    schema = f"tenant_keys_{uuid.uuid4().hex[:8]}"
    connection.execute(f"CREATE SCHEMA {schema}")
    yield schema
    connection.execute(f"DROP SCHEMA {schema} CASCADE")


def test_the_check_names_each_kind_of_gap_in_tables_made_to_have_them(
    connection: psycopg.Connection, scratch: str,
) -> None:
    for statement in [
        ("CREATE TABLE {s}.good (id bigint, microdao_id text, name text, PRIMARY KEY (id, microdao_id), "
        "UNIQUE (microdao_id, name))"),
        "CREATE TABLE {s}.bare_pk (id bigint PRIMARY KEY, microdao_id text)",
        "CREATE TABLE {s}.loose_unique (id bigint, microdao_id text, name text, PRIMARY KEY (id, microdao_id))",
        "CREATE UNIQUE INDEX loose_name ON {s}.loose_unique (lower(name)) WHERE name IS NOT NULL",
        "CREATE TABLE {s}.no_pk (microdao_id text, name text)",
        "CREATE TABLE {s}.secured (agent_id text PRIMARY KEY)",
        "ALTER TABLE {s}.secured ENABLE ROW LEVEL SECURITY",
        ("CREATE TABLE {s}.child (id bigint, good_id bigint, microdao_id text, PRIMARY KEY (id, microdao_id), "
        "FOREIGN KEY (good_id, microdao_id) REFERENCES {s}.good (id, microdao_id))"),
        ("CREATE TABLE {s}.crossed (id bigint, good_id bigint, good_microdao text, microdao_id text, "
        "PRIMARY KEY (id, microdao_id), "
        "CONSTRAINT crossed_good FOREIGN KEY (good_id, good_microdao) REFERENCES {s}.good (id, microdao_id))"),
        "CREATE TABLE {s}.settings (name text PRIMARY KEY)",
    ]:
        connection.execute(statement.format(s=scratch))
    assert tenant_key_gaps(connection, scratch, frozenset()) == [
        f"bare_pk: primary key {scratch}.bare_pk_pkey (id) lacks microdao_id",
        "crossed: foreign key crossed_good to good does not pair microdao_id with microdao_id",
        f"loose_unique: unique index {scratch}.loose_name () lacks microdao_id",
        "no_pk: no primary key",
        "secured: a tenant table (row-level security) without a microdao_id column",
        f"secured: primary key {scratch}.secured_pkey (agent_id) lacks microdao_id",
    ]
    assert tenant_key_gaps(connection, scratch, frozenset({"bare_pk", "crossed", "loose_unique", "no_pk",
                                                           "secured"})) == []
