"""Identity: registered agents, API keys (only their SHA-256 is stored), and the role tenant work runs as.

`daarion_app` is the role every tenant-scoped transaction switches to (`SET LOCAL ROLE`, see
infra/platform/tenancy.py). It owns nothing, so row-level security applies to it; the policies of each
context's tables compare rows with the transaction's `daarion.microdao_id` / `daarion.agent_id` settings.
The connecting user (the tables' owner) stays the role of migrations and cross-tenant background work.

Revision ID: 0005_identity
Revises: 0001_core
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0005_identity"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'daarion_app') THEN
                CREATE ROLE daarion_app NOLOGIN NOINHERIT;
            END IF;
        END $$
    """)
    op.execute("GRANT daarion_app TO CURRENT_USER")
    op.execute("GRANT USAGE ON SCHEMA public TO daarion_app")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO daarion_app")
    op.execute("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO daarion_app")
    op.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO daarion_app")
    op.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO daarion_app")
    op.execute("CREATE SEQUENCE identity_changes")
    op.execute("""
        CREATE TABLE agents (
            agent_id text PRIMARY KEY,
            microdao_id text NOT NULL,
            display_name text,
            created_at timestamptz NOT NULL DEFAULT now(),
            disabled_at timestamptz,
            change_seq bigint NOT NULL DEFAULT nextval('identity_changes')
        )
    """)
    op.execute("""
        CREATE TABLE api_keys (
            key_id text PRIMARY KEY,
            key_sha256 bytea NOT NULL,
            name text NOT NULL DEFAULT '',
            agent_id text REFERENCES agents (agent_id),
            microdao_id text,
            scopes text[] NOT NULL,
            monthly_budget_usd numeric(18, 6),
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz,
            revoked_at timestamptz,
            change_seq bigint NOT NULL DEFAULT nextval('identity_changes'),
            CONSTRAINT api_keys_agent_has_microdao CHECK ((agent_id IS NULL) = (microdao_id IS NULL))
        )
    """)
    op.execute("CREATE INDEX api_keys_change_seq ON api_keys (change_seq)")
    op.execute("CREATE INDEX agents_change_seq ON agents (change_seq)")


def downgrade() -> None:
    op.execute("DROP TABLE api_keys")
    op.execute("DROP TABLE agents")
    op.execute("DROP SEQUENCE identity_changes")
    op.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM daarion_app")
    op.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM daarion_app")
    op.execute("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM daarion_app")
    op.execute("REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM daarion_app")
    op.execute("REVOKE USAGE ON SCHEMA public FROM daarion_app")
