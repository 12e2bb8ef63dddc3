"""`daarion keys create` grants llm:on_behalf to an operator key when asked, and refuses it to an agent's key."""

from __future__ import annotations

import pytest

from apps.cli import main
from tests.support import issue_key


def test_an_operator_key_acting_for_agents_is_created_and_an_agent_key_with_that_scope_refused(
    database_url: str, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["keys", "create", "--operator", "--scopes", "llm:on_behalf", "--name", "memory indexing"]) == 0
    assert "for operator (llm:on_behalf)" in capsys.readouterr().out
    issue_key(database_url, "agent:cli-agent", "microdao:cli")
    with pytest.raises(SystemExit) as refused:
        main(["keys", "create", "--agent", "agent:cli-agent", "--scopes", "llm,llm:on_behalf"])
    assert "llm:on_behalf" in str(refused.value.code) + capsys.readouterr().err
