"""Row-level security for the projects service's projects and tasks and Toolcore's idempotency keys.

Tenant work runs as `daarion_app` with `daarion.microdao_id` / `daarion.agent_id` set for the transaction
(infra/platform/tenancy.py); the policies below admit to that role only the rows of the transaction's
microDAO (and, for idempotency keys, which belong to one agent, only that agent's), for reading and for
writing alike (WITH CHECK refuses a row written into another microDAO). The tables' owner, which migrations
and cross-tenant work connect as, is not subject to them.

`tasks` and `tool_idempotency` had no microdao_id: tasks take their project's (a composite foreign key
keeps the two equal, since foreign-key checks are not subject to row-level security), idempotency keys
their agent's where the agent is registered (others keep '' and simply expire).

Revision ID: 0008_tools_projects_rls
Revises: 0003_projects_tools, 0005_identity
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0008_tools_projects_rls"
down_revision = ("0003_projects_tools", "0005_identity")
branch_labels = None
depends_on = None

_MICRODAO = "microdao_id = current_setting('daarion.microdao_id', true)"
_AGENT = "agent_id = current_setting('daarion.agent_id', true)"
POLICIES = {
    "projects": _MICRODAO,
    "tasks": _MICRODAO,
    "tool_idempotency": f"{_MICRODAO} AND {_AGENT}",
}


def upgrade() -> None:
    op.execute("ALTER TABLE projects ADD CONSTRAINT uq_projects_id_microdao_id UNIQUE (id, microdao_id)")
    op.execute("ALTER TABLE tasks ADD COLUMN microdao_id text")
    op.execute("UPDATE tasks t SET microdao_id = p.microdao_id FROM projects p WHERE p.id = t.project_id")
    op.execute("ALTER TABLE tasks ALTER COLUMN microdao_id SET NOT NULL")
    op.execute("""
        ALTER TABLE tasks ADD CONSTRAINT fk_tasks_project_id_microdao_id_projects
            FOREIGN KEY (project_id, microdao_id) REFERENCES projects (id, microdao_id) ON DELETE CASCADE
    """)
    op.execute("ALTER TABLE tool_idempotency ADD COLUMN microdao_id text NOT NULL DEFAULT ''")
    op.execute("ALTER TABLE tool_idempotency ALTER COLUMN microdao_id DROP DEFAULT")
    op.execute("UPDATE tool_idempotency t SET microdao_id = a.microdao_id FROM agents a WHERE a.agent_id = t.agent_id")
    for table, rule in POLICIES.items():
        # Granted already when 0005 ran after 0003; said again so the order of the branches does not matter.
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO daarion_app")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY {table}_tenant ON {table} TO daarion_app USING ({rule}) WITH CHECK ({rule})")


def downgrade() -> None:
    for table in POLICIES:
        op.execute(f"DROP POLICY {table}_tenant ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE tool_idempotency DROP COLUMN microdao_id")
    op.execute("ALTER TABLE tasks DROP CONSTRAINT fk_tasks_project_id_microdao_id_projects")
    op.execute("ALTER TABLE tasks DROP COLUMN microdao_id")
    op.execute("ALTER TABLE projects DROP CONSTRAINT uq_projects_id_microdao_id")
