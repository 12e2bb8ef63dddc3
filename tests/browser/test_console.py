"""The operator console in a real Chromium: the numbers on its pages are those of /internal/usage and the
ledger, one request id opens its turn, forms need the session's CSRF token, a revoked key loses its session,
and an operator of one microDAO sees nothing of another."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from tests.browser.pages import PHONE, body_rows, rows, signed_in, total_row
from tests.browser.world import NINE, RIVAL, SEVEN, SOFIA, World
from tests.support import issue_key


def test_only_an_operator_key_signs_in_and_a_page_without_a_session_sends_you_to_sign_in(browser: Any,
                                                                                         world: World) -> None:
    page = signed_in(browser, world, world.sofia_key)
    assert "/login" in page.url and "not an operator key" in page.inner_text("#problem")
    page = signed_in(browser, world, "dk_0123456789abcdef_" + "x" * 43)
    assert "/login" in page.url and "not valid" in page.inner_text("#problem")
    page.goto(f"{world.console}/calls")
    assert page.url.endswith("/login")
    page = signed_in(browser, world, world.admin_key)
    assert page.url.endswith("/spend")
    cookie = next(c for c in page.context.cookies() if c["name"] == "daarion_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and world.admin_key not in cookie["value"]


def test_a_form_posted_without_the_sessions_csrf_token_changes_nothing(browser: Any, world: World) -> None:
    page = signed_in(browser, world, world.admin_key)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    before = world.sql("SELECT count(*) FROM api_keys")[0][0]
    for token in (None, "forged"):
        form = {"agent_id": "", "microdao_id": "", "name": "csrf", **({"csrf": token} if token else {})}
        answer = httpx.post(f"{world.console}/keys", data=form, cookies=cookies, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/login"
    [(dead,)] = world.sql("SELECT id FROM memory_index_jobs WHERE dead_at IS NOT NULL")
    httpx.post(f"{world.console}/memory/dead/{dead}/retry", data={}, cookies=cookies)
    assert world.sql("SELECT dead_at IS NOT NULL FROM memory_index_jobs WHERE id = %s", dead) == [(True,)]
    assert world.sql("SELECT count(*) FROM api_keys")[0][0] == before


def test_the_spend_totals_equal_internal_usage_for_each_split_and_period(browser: Any, world: World) -> None:
    page = signed_in(browser, world, world.admin_key)
    for days in (30, 90):
        for split, group_by in (("agent", "agent"), ("microdao", "microdao"), ("model", "model")):
            page.goto(f"{world.console}/spend?days={days}&split={split}")
            shown = {r[0]: r[1:] for r in body_rows(page, "spend-totals")}
            usage = {r["key"]: r for r in world.usage(group_by, days) if r["llm_calls"]}
            assert set(shown) == set(usage)
            for key, r in usage.items():
                assert shown[key] == [str(r["llm_calls"]), str(r["prompt_tokens"]), str(r["completion_tokens"]),
                                      str(r["total_tokens"]), r["cost_usd"]]
            total = total_row(page, "spend-totals")
            assert total[1] == str(sum(r["llm_calls"] for r in usage.values())) == "5"
            assert Decimal(total[5]) == sum(Decimal(r["cost_usd"]) for r in usage.values())
    page.goto(f"{world.console}/spend?split=provider")
    assert [r[0] for r in body_rows(page, "spend-totals")] == ["stub"]
    assert page.locator("svg rect").count() >= 1


def test_the_csv_export_holds_the_points_the_page_adds_up(browser: Any, world: World) -> None:
    page = signed_in(browser, world, world.admin_key)
    page.goto(f"{world.console}/spend?split=agent")
    with page.expect_download() as download:
        page.click("text=CSV of what is shown")
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[0] == "day,agent,llm_calls,prompt_tokens,completion_tokens,cost_usd"
    by_agent: dict[str, int] = {}
    for line in lines[1:]:
        _, agent, calls, *_ = line.split(",")
        by_agent[agent] = by_agent.get(agent, 0) + int(calls)
    assert by_agent == {r[0]: int(r[1]) for r in body_rows(page, "spend-totals")} == {SOFIA: 3, RIVAL: 2}


def test_the_calls_page_lists_the_ledgers_calls_newest_first_and_filters_them(browser: Any, world: World) -> None:
    page = signed_in(browser, world, world.admin_key)
    page.goto(f"{world.console}/calls")
    listed = body_rows(page, "calls")
    ledger = world.sql("SELECT kind, agent_id FROM ledger_calls ORDER BY position DESC")
    assert [(r[1], r[2]) for r in listed] == ledger and len(ledger) == 9
    page.goto(f"{world.console}/calls?kind=llm&agent={SOFIA}")
    llm = body_rows(page, "calls")
    assert len(llm) == 3 and {(r[1], r[2], r[3]) for r in llm} == {("llm", SOFIA, SEVEN)}
    costs = world.sql("SELECT cost_usd FROM ledger_calls WHERE kind = 'llm' AND agent_id = %s ORDER BY position DESC",
                      SOFIA)
    assert [Decimal(r[7]) for r in llm] == [c[0].quantize(Decimal("0.000001")) for c in costs]
    page.goto(f"{world.console}/calls?kind=tool&status=denied")
    assert [(r[2], r[4], r[5]) for r in body_rows(page, "calls")] == [(RIVAL, "time.now", "denied (permission_denied)")]


def test_a_request_id_opens_its_whole_turn_as_a_timeline(browser: Any, world: World) -> None:
    page = signed_in(browser, world, world.admin_key)
    page.goto(f"{world.console}/calls?agent={SOFIA}")
    page.click(f"#calls a[title='{world.turn_request}'] >> nth=0")
    assert page.inner_text("#turn-request") == world.turn_request
    steps = body_rows(page, "turn")
    assert [s[1] for s in steps] == ["memory", "tool", "llm"]
    [(cost, prompt, completion)] = world.sql(
        "SELECT cost_usd, prompt_tokens, completion_tokens FROM ledger_calls WHERE request_id = %s AND kind = 'llm'",
        world.turn_request)
    assert Decimal(steps[2][5]) == cost.quantize(Decimal("0.000001"))
    total = total_row(page, "turn")
    assert (total[6], total[7]) == (str(prompt), str(completion))
    assert all(float(s[4]) >= 0 for s in steps)


def test_the_tools_page_counts_calls_failures_and_denials_per_tool_and_agent(browser: Any, world: World) -> None:
    page = signed_in(browser, world, world.admin_key)
    page.goto(f"{world.console}/tools")
    use = {(r[0], r[1]): r[2:6] for r in body_rows(page, "tool-use")}
    assert use == {("time.now", SOFIA): ["1", "0", "0", "0"], ("time.now", RIVAL): ["1", "0", "1", "0"]}
    grants = rows(page, "grants")
    assert [SOFIA, SEVEN] == grants[0][:2] and "time.*" in grants[0][2]


def test_the_budgets_page_shows_month_to_date_spend_against_each_budget(browser: Any, world: World) -> None:
    page = signed_in(browser, world, world.admin_key)
    page.goto(f"{world.console}/budgets")
    lines = {(r[0], r[1]): r for r in rows(page, "budgets")}
    spent = {m: Decimal(c) for m, c in world.sql(
        "SELECT microdao_id, sum(cost_usd) FROM ledger_calls WHERE kind = 'llm' GROUP BY 1")}
    for microdao, budget in ((SEVEN, "500.000000"), (NINE, "5.000000")):
        line = lines[("microdao", microdao)]
        assert Decimal(line[3]) == spent[microdao].quantize(Decimal("0.000001"))
        assert (line[4], line[5], line[7]) == ("0.000000", budget, "ok")
    assert lines[("agent", SOFIA)][5] == "50.000000"
    headroom = {r[0]: r for r in rows(page, "headroom")}
    assert headroom[SOFIA][2] == "99997 / 100000" and headroom[RIVAL][4] == "ok"
    assert "Throttled now (429): nobody" in page.inner_text("#refused-now")


def test_the_memory_page_shows_items_backlog_and_dead_letters_and_retries_one(browser: Any, world: World) -> None:
    page = signed_in(browser, world, world.admin_key)
    page.goto(f"{world.console}/memory")
    assert {(r[0], r[1]): r[2] for r in body_rows(page, "memory-items")} == {(SEVEN, "mid"): "1", (NINE, "mid"): "1"}
    [dead] = rows(page, "dead-letters")
    assert (dead[1], dead[4], dead[5]) == (SEVEN, "5", "embedder said no")
    [queue] = rows(page, "memory-queue")
    assert (queue[1], queue[3]) == ("1", "1")  # Rival's job waits (indexing is off here); Sofia's is dead
    page.click("#dead-letters button")
    page.wait_for_load_state()
    assert "queued again" in page.inner_text("#notice") and rows(page, "dead-letters") == []
    assert rows(page, "memory-queue")[0][1:4] == ["2", "0", "0"]
    world.sql("UPDATE memory_index_jobs SET dead_at = now(), attempts = 5, last_error = 'embedder said no' "
              "WHERE microdao_id = %s", SEVEN)


def test_an_admin_creates_a_key_shown_once_and_revoking_it_ends_its_sessions(browser: Any, world: World) -> None:
    admin = signed_in(browser, world, world.admin_key)
    admin.goto(f"{world.console}/keys")
    admin.fill("input[name=microdao_id]", NINE)
    admin.fill("input[name=name]", "auditor")
    admin.click("form[action='/keys'] button")
    key = admin.inner_text("#new-key")
    key_id = key.split("_")[1]
    assert world.sql("SELECT microdao_id, scopes FROM api_keys WHERE key_id = %s", key_id) == [
        (NINE, ["usage:read"])]
    admin.goto(f"{world.console}/keys")
    assert admin.locator("#new-key").count() == 0 and key not in admin.content()
    auditor = signed_in(browser, world, key)
    assert auditor.url.endswith("/spend")
    admin.click(f"form[action='/keys/{key_id}/revoke'] button")
    admin.wait_for_load_state()
    assert f"key {key_id} revoked" in admin.inner_text("#notice")
    auditor.goto(f"{world.console}/calls")
    assert auditor.url.endswith("/login")


def test_an_operator_of_one_microdao_sees_none_of_anothers_rows(browser: Any, world: World) -> None:
    page = signed_in(browser, world, world.scoped_key)
    page.goto(f"{world.console}/spend?split=microdao")
    assert [r[0] for r in body_rows(page, "spend-totals")] == [NINE]
    page.goto(f"{world.console}/spend?split=agent")
    assert [r[0] for r in body_rows(page, "spend-totals")] == [RIVAL]
    page.goto(f"{world.console}/calls?microdao={SEVEN}")
    assert body_rows(page, "calls") and {r[3] for r in body_rows(page, "calls")} == {NINE}
    page.goto(f"{world.console}/calls/turn?request_id={world.turn_request}")
    assert page.locator("#turn").count() == 0 and "No calls" in page.inner_text("main")
    page.goto(f"{world.console}/tools")
    assert {r[1] for r in body_rows(page, "tool-use")} == {RIVAL} and rows(page, "grants") == []
    page.goto(f"{world.console}/memory")
    assert {r[0] for r in body_rows(page, "memory-items")} == {NINE} and rows(page, "dead-letters") == []
    page.goto(f"{world.console}/budgets")
    assert {r[2] for r in rows(page, "budgets")} == {NINE} and {r[1] for r in rows(page, "headroom")} == {NINE}
    page.goto(f"{world.console}/keys")
    assert {r[3] for r in rows(page, "keys")} == {NINE} and {r[1] for r in rows(page, "agents")} == {NINE}
    assert page.locator("form[action='/keys']").count() == 0  # no admin scope: no key changes
    seven_job = world.sql("SELECT id FROM memory_index_jobs WHERE microdao_id = %s", SEVEN)[0][0]
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    answer = httpx.post(f"{world.console}/memory/dead/{seven_job}/retry", cookies=cookies,
                        data={"csrf": page.get_attribute("input[name=csrf]", "value")})
    assert "not+a+dead+letter+here" in answer.headers["location"]
    assert world.sql("SELECT dead_at IS NOT NULL FROM memory_index_jobs WHERE id = %s", seven_job) == [(True,)]


def test_every_page_loads_nothing_else_is_screenshotted_at_desktop_and_phone_width_and_fits_a_phone(
        browser: Any, world: World, screenshot_dirs: list[Path]) -> None:
    pages = {"spend": "/spend?days=30&split=agent", "budgets": "/budgets", "calls": "/calls",
             "turn": f"/calls/turn?request_id={world.turn_request}", "tools": "/tools", "memory": "/memory",
             "keys": "/keys"}
    for width, viewport in (("1280x800", {"width": 1280, "height": 800}), ("phone", PHONE)):
        page = signed_in(browser, world, world.admin_key, viewport)
        for name, path in pages.items():
            page.goto(f"{world.console}{path}")
            for folder in screenshot_dirs:
                page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
            # Offline by construction: the document is the only thing a page loads (no CDN, script or font).
            assert page.evaluate("performance.getEntriesByType('resource').length") == 0
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{name} is wider than the {width} screen by {overflow}px"
    assert len(list(screenshot_dirs[0].glob("*.png"))) == 2 * len(pages)


def test_a_scoped_operator_key_made_for_the_tests_cannot_hold_admin_or_cross_tenant_metrics(world: World) -> None:
    key = issue_key(world.database, None, SEVEN)
    key_id = key.split("_")[1]
    assert world.sql("SELECT scopes FROM api_keys WHERE key_id = %s", key_id) == [(["usage:read"],)]
