"""The five services for the fuzz stage (stack.py) on a database of their own: the fuzzer writes garbage that
no other test should find. Sofia's own key acts as the agent (the shipped tool grants are hers); an
operator key calls /admin."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.fuzz.fuzzing import REPORTS, FuzzTarget
from tests.fuzz.stack import MODEL, five_services
from tests.support import fresh_database, issue_key

AGENT, MICRODAO = "agent:sofia", "microdao:7"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The stage's figures in every run's output, passed or failed."""
    reports = terminalreporter.config.stash.get(REPORTS, [])
    if reports:
        terminalreporter.section("fuzz stage (schemathesis)")
        for report in reports:
            terminalreporter.write_line(report.summary())


@pytest.fixture(scope="session")
def fuzz_targets(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, FuzzTarget]]:
    url = fresh_database(database_url, "fuzz")
    agent_key, operator_key = issue_key(url, AGENT, MICRODAO), issue_key(url, None)
    # The services read DATABASE_URL once, as they start; the session's own is back before any other test runs.
    os.environ["DATABASE_URL"] = url
    try:
        services = five_services(tmp_path_factory.mktemp("fuzz"))
        urls = services.__enter__()
    finally:
        os.environ["DATABASE_URL"] = database_url
    agent_only, me = {"agent": agent_key}, {"agent_id": AGENT, "microdao_id": MICRODAO}
    yield {
        "llm-proxy": FuzzTarget(urls["llm-proxy"], {"agent": agent_key, "operator": operator_key}, {"model": MODEL}),
        "memory": FuzzTarget(urls["memory"], agent_only, {**me, "kind": "fact"}),
        "toolcore": FuzzTarget(urls["toolcore"], agent_only, {**me, "tool_id": "projects.list"}),
        "agent-runtime": FuzzTarget(urls["agent-runtime"], agent_only, me),
        "projects": FuzzTarget(urls["projects"], agent_only, {**me, "created_by": AGENT, "project_id": "prj_treasury"}),
    }
    services.__exit__(None, None, None)
