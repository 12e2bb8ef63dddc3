"""Core: the usage ledger's event store, the usage projection and its tracking, rate-limit windows.

The ledger tables match what eventsourcing 9.5's Postgres recorder would create for the application
named "UsageLedger" (table usageledger_events); the services run it with CREATE_TABLE=false.

Revision ID: 0001_core
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.execute(
        "CREATE TYPE stored_event_uuid AS "
        "(originator_id uuid, originator_version bigint, topic text, state bytea)"
    )
    op.execute(
        """
        CREATE TABLE usageledger_events (
            originator_id uuid NOT NULL,
            originator_version bigint NOT NULL,
            topic text,
            state bytea,
            notification_id bigserial,
            CONSTRAINT pk_usageledger_events PRIMARY KEY (originator_id, originator_version)
        )
        """
    )
    op.execute(
        "CREATE UNIQUE INDEX usageledger_events_notification_id_idx "
        "ON usageledger_events (notification_id ASC)"
    )
    op.execute(
        """
        CREATE TABLE usage_projection_tracking (
            application_name text NOT NULL,
            notification_id bigint NOT NULL,
            CONSTRAINT pk_usage_projection_tracking PRIMARY KEY (application_name)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE usage_daily (
            day date NOT NULL,
            kind text NOT NULL,
            agent_id text NOT NULL,
            microdao_id text NOT NULL,
            subject text NOT NULL,
            provider text NOT NULL DEFAULT '',
            physical_model text NOT NULL DEFAULT '',
            calls bigint NOT NULL DEFAULT 0,
            failures bigint NOT NULL DEFAULT 0,
            cancelled bigint NOT NULL DEFAULT 0,
            prompt_tokens bigint NOT NULL DEFAULT 0,
            completion_tokens bigint NOT NULL DEFAULT 0,
            cost_usd numeric(20, 10) NOT NULL DEFAULT 0,
            unpriced_calls bigint NOT NULL DEFAULT 0,
            latency_ms_sum double precision NOT NULL DEFAULT 0,
            bytes bigint NOT NULL DEFAULT 0,
            CONSTRAINT pk_usage_daily
                PRIMARY KEY (day, kind, agent_id, microdao_id, subject, provider, physical_model)
        )
        """
    )
    op.execute("CREATE INDEX ix_usage_daily_agent_day ON usage_daily (agent_id, day)")
    op.execute("CREATE INDEX ix_usage_daily_microdao_day ON usage_daily (microdao_id, day)")
    op.execute(
        """
        CREATE TABLE rate_limit_windows (
            agent_id text NOT NULL,
            window_start bigint NOT NULL,
            requests integer NOT NULL,
            tokens bigint NOT NULL,
            CONSTRAINT pk_rate_limit_windows PRIMARY KEY (agent_id, window_start)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE rate_limit_windows")
    op.execute("DROP TABLE usage_daily")
    op.execute("DROP TABLE usage_projection_tracking")
    op.execute("DROP TABLE usageledger_events")
    op.execute("DROP TYPE stored_event_uuid")
