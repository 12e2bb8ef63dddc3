"""Spend control: exact monthly budgets reserved at admission, sliding-window rate limits, both as the tenant.

llm_spend holds, per budget scope (agent, API key, microDAO), subject and calendar month, what was spent
and what calls in flight have reserved. llm_admit is the proxy's whole admission in one round trip: it
switches to the tenant (SET LOCAL role and the daarion.* settings, undone at the end of the statement's
transaction), takes one request and the reserved tokens from the agent's current rate window unless the
sliding estimate (the previous window weighted by p_carry_ms / p_length_ms, plus the current one) would pass a
limit (compared multiplied through by p_length_ms: exact integers, as domain.llm.windows.within), then
locks the budget rows in (scope, subject) order and reserves the call's worst-case cost on each, or
undoes the window and refuses. A month's row starts from what the usage projection already holds for
that month, so upgrading mid-month does not reset spend. llm_settle replaces reservations by real usage,
for a batch of calls, with the same lock order, and waits for its WAL flush (admissions do not).

Row-level security: rate_limit_windows rows belong to their agent; llm_spend rows to their microDAO
(microdao_id: the microDAO itself, or that of the agent or key), and an agent's row to that agent only.

Revision ID: 0006_spend_control
Revises: 0005_identity
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0006_spend_control"
down_revision = "0005_identity"
branch_labels = None
depends_on = None

AGENT = "current_setting('daarion.agent_id', true)"
MICRODAO = "current_setting('daarion.microdao_id', true)"
WINDOW_RULE = f"agent_id = {AGENT}"
SPEND_RULE = f"microdao_id = {MICRODAO} AND (scope <> 'agent' OR subject = {AGENT})"

PROJECTED_SPEND = """
CREATE FUNCTION llm_projected_spend(p_scope text, p_subject text, p_month date) RETURNS numeric
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_scope = 'agent' THEN
        RETURN (SELECT coalesce(sum(u.cost_usd), 0) FROM usage_daily u WHERE u.agent_id = p_subject
                AND u.kind = 'llm' AND u.day >= p_month AND u.day < (p_month + interval '1 month')::date);
    ELSIF p_scope = 'microdao' THEN
        RETURN (SELECT coalesce(sum(u.cost_usd), 0) FROM usage_daily u WHERE u.microdao_id = p_subject
                AND u.kind = 'llm' AND u.day >= p_month AND u.day < (p_month + interval '1 month')::date);
    END IF;
    RETURN 0;  -- the ledger does not record keys: a key's spend counts from its row's creation
END $$
"""

ADMIT = """
CREATE FUNCTION llm_admit(
    p_agent text, p_microdao text, p_window bigint, p_window_s integer, p_length_ms bigint, p_carry_ms bigint,
    p_rpm bigint, p_tpm bigint, p_tokens bigint,
    p_month date, p_cost numeric, p_scopes text[], p_subjects text[], p_limits numeric[],
    OUT verdict text, OUT prev_requests integer, OUT prev_tokens bigint, OUT cur_requests integer,
    OUT cur_tokens bigint, OUT line integer, OUT line_spent numeric, OUT line_reserved numeric,
    OUT budget_left numeric
) LANGUAGE plpgsql AS $$
DECLARE
    i integer;
    line_left numeric;
BEGIN
    PERFORM set_config('role', 'daarion_app', true), set_config('daarion.microdao_id', p_microdao, true),
            set_config('daarion.agent_id', p_agent, true);
    SELECT w.requests, w.tokens INTO prev_requests, prev_tokens FROM rate_limit_windows w
        WHERE w.agent_id = p_agent AND w.window_start = p_window - p_window_s;
    prev_requests := coalesce(prev_requests, 0);
    prev_tokens := coalesce(prev_tokens, 0);
    -- domain.llm.windows.fits: current * length + previous * carry <= limit * length, in integers.
    INSERT INTO rate_limit_windows AS w (agent_id, window_start, requests, tokens)
        SELECT p_agent, p_window, 1, p_tokens
        WHERE p_length_ms + prev_requests * p_carry_ms <= p_rpm * p_length_ms
          AND p_tokens * p_length_ms + prev_tokens * p_carry_ms <= p_tpm * p_length_ms
    ON CONFLICT (agent_id, window_start) DO UPDATE
        SET requests = w.requests + 1, tokens = w.tokens + EXCLUDED.tokens
        WHERE (w.requests + 1) * p_length_ms + prev_requests * p_carry_ms <= p_rpm * p_length_ms
          AND (w.tokens + EXCLUDED.tokens) * p_length_ms + prev_tokens * p_carry_ms <= p_tpm * p_length_ms
    RETURNING w.requests, w.tokens INTO cur_requests, cur_tokens;
    IF NOT FOUND THEN
        SELECT w.requests, w.tokens INTO cur_requests, cur_tokens FROM rate_limit_windows w
            WHERE w.agent_id = p_agent AND w.window_start = p_window;
        cur_requests := coalesce(cur_requests, 0);
        cur_tokens := coalesce(cur_tokens, 0);
        verdict := 'rate_limited';
        RETURN;
    END IF;
    FOR i IN 1 .. coalesce(array_length(p_scopes, 1), 0) LOOP
        -- Most calls: the month's row exists and the call fits; this one statement locks and reserves.
        UPDATE llm_spend s SET reserved_usd = s.reserved_usd + p_cost
            WHERE s.scope = p_scopes[i] AND s.subject = p_subjects[i] AND s.month = p_month
              AND s.spent_usd + s.reserved_usd < p_limits[i] AND p_cost <= p_limits[i] - s.spent_usd - s.reserved_usd
            RETURNING p_limits[i] - s.spent_usd - s.reserved_usd INTO line_left;
        IF FOUND THEN
            budget_left := least(budget_left, line_left);
            CONTINUE;
        END IF;
        -- The month's first call (the row starts from the usage projection), or a refusal: look under lock.
        SELECT s.spent_usd, s.reserved_usd INTO line_spent, line_reserved FROM llm_spend s
            WHERE s.scope = p_scopes[i] AND s.subject = p_subjects[i] AND s.month = p_month FOR UPDATE;
        IF NOT FOUND THEN
            INSERT INTO llm_spend (scope, subject, month, microdao_id, spent_usd)
                VALUES (p_scopes[i], p_subjects[i], p_month, p_microdao,
                        llm_projected_spend(p_scopes[i], p_subjects[i], p_month))
                ON CONFLICT (scope, subject, month) DO NOTHING;
            SELECT s.spent_usd, s.reserved_usd INTO line_spent, line_reserved FROM llm_spend s
                WHERE s.scope = p_scopes[i] AND s.subject = p_subjects[i] AND s.month = p_month FOR UPDATE;
            IF NOT FOUND THEN
                verdict := 'foreign';  -- the row exists but belongs to another microDAO
            END IF;
        END IF;
        IF verdict IS NULL AND line_spent + line_reserved < p_limits[i]
                AND p_cost <= p_limits[i] - line_spent - line_reserved THEN
            UPDATE llm_spend s SET reserved_usd = s.reserved_usd + p_cost
                WHERE s.scope = p_scopes[i] AND s.subject = p_subjects[i] AND s.month = p_month;
            budget_left := least(budget_left, p_limits[i] - line_spent - line_reserved - p_cost);
            CONTINUE;
        END IF;
        -- Refused: give back what the earlier lines and the window took.
        UPDATE llm_spend s SET reserved_usd = s.reserved_usd - p_cost
            WHERE s.month = p_month AND (s.scope, s.subject) IN (SELECT * FROM unnest(p_scopes[1:i - 1], p_subjects[1:i - 1]));
        UPDATE rate_limit_windows w SET requests = w.requests - 1, tokens = w.tokens - p_tokens
            WHERE w.agent_id = p_agent AND w.window_start = p_window;
        cur_requests := cur_requests - 1;
        cur_tokens := cur_tokens - p_tokens;
        verdict := coalesce(verdict, 'budget_exhausted');
        line := i;
        budget_left := NULL;
        RETURN;
    END LOOP;
    verdict := 'admitted';
END $$
"""

SETTLE = """
CREATE FUNCTION llm_settle(
    p_agents text[], p_windows bigint[], p_token_deltas bigint[],
    p_scopes text[], p_subjects text[], p_months date[], p_tenants text[], p_spent numeric[], p_released numeric[]
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    i integer;
BEGIN
    PERFORM set_config('synchronous_commit', 'on', true), set_config('role', 'daarion_app', true);
    FOR i IN 1 .. coalesce(array_length(p_agents, 1), 0) LOOP
        PERFORM set_config('daarion.agent_id', p_agents[i], true);
        UPDATE rate_limit_windows w SET tokens = greatest(w.tokens + p_token_deltas[i], 0)
            WHERE w.agent_id = p_agents[i] AND w.window_start = p_windows[i];
    END LOOP;
    FOR i IN 1 .. coalesce(array_length(p_scopes, 1), 0) LOOP
        PERFORM set_config('daarion.microdao_id', p_tenants[i], true),
                set_config('daarion.agent_id', CASE WHEN p_scopes[i] = 'agent' THEN p_subjects[i] ELSE '' END, true);
        UPDATE llm_spend s
            SET spent_usd = s.spent_usd + p_spent[i], reserved_usd = greatest(s.reserved_usd - p_released[i], 0)
            WHERE s.scope = p_scopes[i] AND s.subject = p_subjects[i] AND s.month = p_months[i];
    END LOOP;
END $$
"""


def upgrade() -> None:
    op.execute("""
        CREATE TABLE llm_spend (
            scope text NOT NULL,
            subject text NOT NULL,
            month date NOT NULL,
            microdao_id text NOT NULL,
            spent_usd numeric(20, 10) NOT NULL DEFAULT 0,
            reserved_usd numeric(20, 10) NOT NULL DEFAULT 0,
            CONSTRAINT pk_llm_spend PRIMARY KEY (scope, subject, month),
            CONSTRAINT ck_llm_spend_scope CHECK (scope IN ('agent', 'key', 'microdao'))
        )
    """)
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON llm_spend, rate_limit_windows TO daarion_app")
    for table, rule in (("rate_limit_windows", WINDOW_RULE), ("llm_spend", SPEND_RULE)):
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY {table}_tenant ON {table} TO daarion_app USING ({rule}) WITH CHECK ({rule})")
    op.execute(PROJECTED_SPEND)
    op.execute(ADMIT)
    op.execute(SETTLE)


def downgrade() -> None:
    op.execute("DROP FUNCTION llm_settle")
    op.execute("DROP FUNCTION llm_admit")
    op.execute("DROP FUNCTION llm_projected_spend")
    op.execute("DROP POLICY rate_limit_windows_tenant ON rate_limit_windows")
    op.execute("ALTER TABLE rate_limit_windows DISABLE ROW LEVEL SECURITY")
    op.execute("DROP TABLE llm_spend")
