"""Reading the console the way a person does: sign in through the form, open pages, read their tables."""

from __future__ import annotations

from typing import Any

from tests.browser.world import World

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def signed_in(browser: Any, world: World, key: str, viewport: dict[str, int] = DESKTOP) -> Any:
    """A page in a fresh browser context, signed in with `key` through the sign-in form."""
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(f"{world.console}/login")
    page.fill("input[name=key]", key)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def rows(page: Any, table_id: str) -> list[list[str]]:
    """The body rows of a table (its totals row too), as the cells' visible text."""
    found: list[list[str]] = page.eval_on_selector_all(
        f"#{table_id} tbody tr", "rs => rs.map(r => [...r.cells].map(c => c.innerText.trim()))")
    return [r for r in found if r != ["nothing yet"]]


def body_rows(page: Any, table_id: str) -> list[list[str]]:
    return [r for r in rows(page, table_id) if r[0] != "Total"]


def total_row(page: Any, table_id: str) -> list[str]:
    [total] = [r for r in rows(page, table_id) if r[0] == "Total"]
    return total
