"""Tenant keys: every tenant table's primary and unique keys, and the foreign keys between them, hold microdao_id.

That is what a distributed PostgreSQL needs to shard the tables by tenant without a rewrite: Citus's
`create_distributed_table(table, 'microdao_id')` refuses a table whose primary or unique keys lack the
distribution column, and a foreign key between distributed tables must include it on both sides. The
uniqueness the keys enforce is unchanged: each id already belongs to one microDAO (ids are generated, an
item's chunks, jobs and vectors and a project's tasks copy their parent's microdao_id, an agent's
microDAO is fixed when it is registered). The new column stays last, so the lookups by id that the old
keys' indexes served still use the new ones.

rate_limit_windows gets the microdao_id it lacked (its agent's; '' for rows of unregistered agents, which
expire within the hour). llm_admit and llm_settle name microdao_id in their ON CONFLICT targets (which
must match a unique key exactly) and in their lookups (which a distributed database routes by it); they
are rewritten from their current definitions, so a change another migration made to them is kept. The one
thing the old key of llm_spend did that no tenant key can, llm_spend_kept_elsewhere does (see there).
Row-level security policies are untouched: none refers to a key.

Downgrading restores the old keys; it fails, rather than dropping rows, if some id has come to be used
in two microDAOs.

Revision ID: 0910_tenant_keys
Revises: 0006_spend_control, 0007_memory_rls, 0008_tools_projects_rls
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0910_tenant_keys"
down_revision = ("0006_spend_control", "0007_memory_rls", "0008_tools_projects_rls")
branch_labels = None
depends_on = None

# (table, constraint, kind, columns before, columns after); applied in this order, undone in reverse.
KEYS = [
    ("memory_items", "pk_memory_items", "PRIMARY KEY", "id", "id, microdao_id"),
    ("memory_chunks", "pk_memory_chunks", "PRIMARY KEY", "id", "id, microdao_id"),
    ("memory_chunks", "uq_memory_chunks_item_seq", "UNIQUE", "item_id, seq", "item_id, seq, microdao_id"),
    ("memory_embeddings", "pk_memory_embeddings", "PRIMARY KEY", "chunk_id, model", "chunk_id, model, microdao_id"),
    ("memory_index_jobs", "pk_memory_index_jobs", "PRIMARY KEY", "id", "id, microdao_id"),
    ("memory_index_jobs", "uq_memory_index_jobs_item_model", "UNIQUE", "item_id, model", "item_id, model, microdao_id"),
    ("projects", "pk_projects", "PRIMARY KEY", "id", "id, microdao_id"),
    ("tasks", "pk_tasks", "PRIMARY KEY", "id", "id, microdao_id"),
    ("tasks", "uq_tasks_project_id_idempotency_key", "UNIQUE", "project_id, idempotency_key",
     "project_id, idempotency_key, microdao_id"),
    ("tool_idempotency", "pk_tool_idempotency", "PRIMARY KEY", "agent_id, idempotency_key",
     "agent_id, idempotency_key, microdao_id"),
    ("llm_spend", "pk_llm_spend", "PRIMARY KEY", "scope, subject, month", "scope, subject, month, microdao_id"),
    ("rate_limit_windows", "pk_rate_limit_windows", "PRIMARY KEY", "agent_id, window_start",
     "agent_id, window_start, microdao_id"),
]

# (table, before: (name, columns, referenced table and columns), after: the same); all ON DELETE CASCADE.
FOREIGN_KEYS = [
    ("memory_chunks", ("fk_memory_chunks_item_id_memory_items", "item_id", "memory_items (id)"),
     ("fk_memory_chunks_item_id_microdao_id_memory_items", "item_id, microdao_id", "memory_items (id, microdao_id)")),
    ("memory_embeddings", ("fk_memory_embeddings_chunk_id_memory_chunks", "chunk_id", "memory_chunks (id)"),
     ("fk_memory_embeddings_chunk_id_microdao_id_memory_chunks", "chunk_id, microdao_id",
      "memory_chunks (id, microdao_id)")),
    ("memory_index_jobs", ("fk_memory_index_jobs_item_id_memory_items", "item_id", "memory_items (id)"),
     ("fk_memory_index_jobs_item_id_microdao_id_memory_items", "item_id, microdao_id",
      "memory_items (id, microdao_id)")),
    # tasks had two: by project id alone, and (since 0008) by project id and microDAO, which now suffices.
    ("tasks", ("fk_tasks_project_id_projects", "project_id", "projects (id)"), None),
]
# The key 0008 added for that second foreign key: the new primary key of projects is the same columns.
PROJECTS_ID_MICRODAO = ("projects", "uq_projects_id_microdao_id", "id, microdao_id")
TASKS_TO_PROJECTS = ("tasks", "fk_tasks_project_id_microdao_id_projects", "project_id, microdao_id",
                     "projects (id, microdao_id)")

# The key of llm_spend used to refuse, by itself, a month's row for an agent or key whose spend another
# microDAO already keeps (an agent cannot take its budget to a fresh row elsewhere). With microdao_id in the
# key, llm_admit asks this instead, on the month's first call for a subject only: it reads past row-level
# security (the owner's function) and serializes such first calls per subject (so two microDAOs cannot both
# start one). On a distributed database it is the one query of admission that visits every shard.
KEPT_ELSEWHERE = """
CREATE FUNCTION llm_spend_kept_elsewhere(p_scope text, p_subject text, p_month date, p_microdao text)
RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('llm_spend/' || p_scope || '/' || p_subject || '/' || p_month, 0));
    RETURN EXISTS (SELECT FROM llm_spend s WHERE s.scope = p_scope AND s.subject = p_subject AND s.month = p_month
                   AND s.microdao_id <> p_microdao);
END $$
"""

# Rewrites of the admission functions: (function, [(old text, new text)]).
FUNCTIONS = [
    ("llm_admit", [
        (("INSERT INTO rate_limit_windows AS w (agent_id, window_start, requests, tokens)\n"
         "        SELECT p_agent, p_window, 1, p_tokens\n"),
         ("INSERT INTO rate_limit_windows AS w (agent_id, window_start, requests, tokens, microdao_id)\n"
         "        SELECT p_agent, p_window, 1, p_tokens, p_microdao\n")),
        ("ON CONFLICT (agent_id, window_start) DO", "ON CONFLICT (agent_id, window_start, microdao_id) DO"),
        ("ON CONFLICT (scope, subject, month) DO", "ON CONFLICT (scope, subject, month, microdao_id) DO"),
        (("                VALUES (p_scopes[i], p_subjects[i], p_month, p_microdao,\n"
          "                        llm_projected_spend(p_scopes[i], p_subjects[i], p_month))\n"),
         ("                SELECT p_scopes[i], p_subjects[i], p_month, p_microdao,\n"
          "                        llm_projected_spend(p_scopes[i], p_subjects[i], p_month)\n"
          "                WHERE NOT llm_spend_kept_elsewhere(p_scopes[i], p_subjects[i], p_month, p_microdao)\n")),
        ("WHERE w.agent_id = p_agent AND", "WHERE w.microdao_id = p_microdao AND w.agent_id = p_agent AND"),
        ("WHERE s.scope = p_scopes[i] AND", "WHERE s.microdao_id = p_microdao AND s.scope = p_scopes[i] AND"),
        ("WHERE s.month = p_month AND (s.scope, s.subject) IN",
         "WHERE s.microdao_id = p_microdao AND s.month = p_month AND (s.scope, s.subject) IN"),
    ]),
    ("llm_settle", [
        ("WHERE s.scope = p_scopes[i] AND", "WHERE s.microdao_id = p_tenants[i] AND s.scope = p_scopes[i] AND"),
    ]),
]


def upgrade() -> None:
    op.execute("ALTER TABLE rate_limit_windows ADD COLUMN microdao_id text NOT NULL DEFAULT ''")
    op.execute("ALTER TABLE rate_limit_windows ALTER COLUMN microdao_id DROP DEFAULT")
    op.execute("UPDATE rate_limit_windows w SET microdao_id = a.microdao_id FROM agents a WHERE a.agent_id = w.agent_id")
    for table, before, _ in FOREIGN_KEYS:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {before[0]}")
    op.execute(f"ALTER TABLE {TASKS_TO_PROJECTS[0]} DROP CONSTRAINT {TASKS_TO_PROJECTS[1]}")
    op.execute(f"ALTER TABLE {PROJECTS_ID_MICRODAO[0]} DROP CONSTRAINT {PROJECTS_ID_MICRODAO[1]}")
    for table, name, kind, _, after in KEYS:
        _replace_key(table, name, kind, after)
    for table, _, after in FOREIGN_KEYS:
        if after is not None:
            _add_foreign_key(table, *after)
    _add_foreign_key(*TASKS_TO_PROJECTS)
    op.execute(KEPT_ELSEWHERE)
    for function, edits in FUNCTIONS:
        _rewrite(function, edits)


def downgrade() -> None:
    for function, edits in FUNCTIONS:
        _rewrite(function, [(new, old) for old, new in reversed(edits)])
    op.execute("DROP FUNCTION llm_spend_kept_elsewhere")
    op.execute(f"ALTER TABLE {TASKS_TO_PROJECTS[0]} DROP CONSTRAINT {TASKS_TO_PROJECTS[1]}")
    for table, _, after in FOREIGN_KEYS:
        if after is not None:
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {after[0]}")
    for table, name, kind, before, _ in reversed(KEYS):
        _replace_key(table, name, kind, before)
    table, name, columns = PROJECTS_ID_MICRODAO
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE ({columns})")
    _add_foreign_key(*TASKS_TO_PROJECTS)
    for table, before, _ in FOREIGN_KEYS:
        _add_foreign_key(table, *before)
    op.execute("ALTER TABLE rate_limit_windows DROP COLUMN microdao_id")


def _replace_key(table: str, name: str, kind: str, columns: str) -> None:
    op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}, ADD CONSTRAINT {name} {kind} ({columns})")


def _add_foreign_key(table: str, name: str, columns: str, references: str) -> None:
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({columns}) REFERENCES {references} "
               "ON DELETE CASCADE")


def _rewrite(function: str, edits: list[tuple[str, str]]) -> None:
    """Replaces `function` by its current definition with `edits` made; an edit whose old text is not there
    (the function was changed in a way this migration does not know) stops the migration."""
    connection = op.get_bind()
    definition: str = connection.exec_driver_sql(f"SELECT pg_get_functiondef('{function}'::regproc)").scalar_one()
    for old, new in edits:
        if old not in definition:
            raise RuntimeError(f"{function} no longer contains {old!r}: adapt migration {revision}")
        definition = definition.replace(old, new)
    connection.exec_driver_sql(definition)
