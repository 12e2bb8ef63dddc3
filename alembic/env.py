"""Alembic owns every table, including the ones eventsourcing would otherwise create itself."""

from __future__ import annotations

from sqlalchemy import create_engine, pool

from alembic import context
from infra.platform.db import database_url, sqlalchemy_url

config = context.config
url = config.get_main_option("sqlalchemy.url") or sqlalchemy_url(database_url())

engine = create_engine(url, poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
