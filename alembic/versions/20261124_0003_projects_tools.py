"""Toolcore's idempotency keys, and the demo projects service's projects and tasks (with seed data).

The seed (microdao:7 with "Project X" and its recent tasks, plus a second project and a second
microDAO so scoping is visible) lives here so every migrated database, tests included, has it; its
timestamps are relative to the moment of migration so the tasks read as recent.

Revision ID: 0003_projects_tools
Revises: 0001_core
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0003_projects_tools"
down_revision = "0001_core"
branch_labels = None
depends_on = None

PROJECTS = [
    ("prj_project_x", "microdao:7", "Project X",
     "Launch of the DAARION community marketplace: listings, escrow payments and reputation.", "active"),
    ("prj_treasury", "microdao:7", "Treasury reporting",
     "Monthly treasury reports and the grant budget for Q1.", "active"),
    ("prj_onboarding", "microdao:12", "Member onboarding",
     "Welcome flow and mentor matching for new members of microDAO 12.", "active"),
]

# (project, title, description, status, assignee, hours ago)
TASKS = [
    ("prj_project_x", "Draft the escrow smart-contract spec", "Two-party escrow with a dispute window.",
     "in_progress", "agent:sofia", 3),
    ("prj_project_x", "Review marketplace listing UI mockups", "Feedback from the design call on Monday.",
     "todo", "member:olena", 9),
    ("prj_project_x", "Set up staging environment for Project X", "", "done", "member:taras", 26),
    ("prj_project_x", "Write announcement post for the beta launch", "Blog + Telegram channel.",
     "todo", None, 30),
    ("prj_project_x", "Collect reputation-score requirements from members", "Survey closes Friday.",
     "in_progress", "agent:sofia", 50),
    ("prj_project_x", "Kick-off meeting notes", "", "done", "member:olena", 120),
    ("prj_treasury", "Prepare November treasury report", "", "todo", "agent:sofia", 5),
    ("prj_onboarding", "Translate welcome guide to Ukrainian", "", "todo", None, 7),
]


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE tool_idempotency (
            agent_id text NOT NULL,
            idempotency_key text NOT NULL,
            tool_id text NOT NULL,
            fingerprint text NOT NULL,
            state text NOT NULL,
            outcome jsonb,
            created_at timestamptz NOT NULL DEFAULT now(),
            lease_until timestamptz NOT NULL,
            CONSTRAINT pk_tool_idempotency PRIMARY KEY (agent_id, idempotency_key),
            CONSTRAINT ck_tool_idempotency_state CHECK (state IN ('running', 'done'))
        )
        """
    )
    op.execute("CREATE INDEX ix_tool_idempotency_created_at ON tool_idempotency (created_at)")
    op.execute(
        """
        CREATE TABLE projects (
            id text NOT NULL,
            microdao_id text NOT NULL,
            name text NOT NULL,
            description text NOT NULL DEFAULT '',
            status text NOT NULL DEFAULT 'active',
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_projects PRIMARY KEY (id),
            CONSTRAINT uq_projects_microdao_id_name UNIQUE (microdao_id, name)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE tasks (
            id uuid NOT NULL DEFAULT gen_random_uuid(),
            project_id text NOT NULL,
            title text NOT NULL,
            description text NOT NULL DEFAULT '',
            status text NOT NULL DEFAULT 'todo',
            assignee text,
            created_by text NOT NULL,
            idempotency_key text,
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_tasks PRIMARY KEY (id),
            CONSTRAINT fk_tasks_project_id_projects FOREIGN KEY (project_id) REFERENCES projects (id)
                ON DELETE CASCADE,
            CONSTRAINT uq_tasks_project_id_idempotency_key UNIQUE (project_id, idempotency_key),
            CONSTRAINT ck_tasks_status CHECK (status IN ('todo', 'in_progress', 'done'))
        )
        """
    )
    op.execute("CREATE INDEX ix_tasks_project_id_created_at ON tasks (project_id, created_at DESC)")
    for project_id, microdao, name, description, status in PROJECTS:
        op.execute(
            f"INSERT INTO projects (id, microdao_id, name, description, status, created_at) VALUES "
            f"({_q(project_id)}, {_q(microdao)}, {_q(name)}, {_q(description)}, {_q(status)}, "
            f"now() - interval '30 days')"
        )
    for project_id, title, description, status, assignee, hours in TASKS:
        op.execute(
            f"INSERT INTO tasks (project_id, title, description, status, assignee, created_by, created_at) "
            f"VALUES ({_q(project_id)}, {_q(title)}, {_q(description)}, {_q(status)}, {_q(assignee)}, "
            f"'member:olena', now() - interval '{int(hours)} hours')"
        )


def downgrade() -> None:
    op.execute("DROP TABLE tasks")
    op.execute("DROP TABLE projects")
    op.execute("DROP TABLE tool_idempotency")


def _q(value: str | None) -> str:
    """A SQL literal for the constant seed rows above (never for outside input)."""
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"
