"""Settings come from one YAML per service with the environment laid over it, read in one module."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from apps.agent_runtime.settings import load_runtime_settings
from apps.llm_proxy.settings import load_proxy_settings
from apps.memory.settings import load_memory_settings
from apps.toolcore.settings import load_toolcore_settings
from infra.platform import db
from infra.platform.config_files import ConfigError
from infra.platform.settings import ENVIRONMENT, env
from tests.support import REPO


def test_one_variable_sets_the_ledger_mode_of_every_service_that_writes_the_ledger(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DAARION_LEDGER_MODE", "per_request")
    modes = {load_proxy_settings().ledger.mode, load_memory_settings().ledger.mode,
             load_runtime_settings().ledger.mode, load_toolcore_settings().ledger.mode}
    assert modes == {"per_request"}


def test_a_bad_value_in_the_environment_fails_start_up_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAARION_LEDGER_MODE", "sometimes")
    with pytest.raises(ConfigError) as raised:
        load_memory_settings()
    assert "`$.ledger.mode`" in str(raised.value) and "DAARION_LEDGER_MODE" in str(raised.value)


def test_service_urls_and_toolcore_switches_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAARION_MEMORY_URL", "http://memory:7008")
    monkeypatch.setenv("DAARION_MCP_ALLOWED_HOSTS", "toolcore:*, gateway:443")
    monkeypatch.setenv("DAARION_TOOLCORE_LEDGER_WAIT", "1")
    monkeypatch.setenv("DAARION_TOOLCORE_LEDGER_LINGER_MS", "40")
    assert load_runtime_settings().services.memory.base_url == "http://memory:7008"
    toolcore = load_toolcore_settings()
    assert toolcore.mcp_allowed_hosts[-2:] == ("toolcore:*", "gateway:443") and "127.0.0.1:*" in toolcore.mcp_allowed_hosts
    assert toolcore.ledger_wait is True and toolcore.ledger_linger_ms == 40


def test_only_listed_variables_can_be_read() -> None:
    with pytest.raises(KeyError, match="ENVIRONMENT"):
        env("DAARION_SOMETHING_NEW")


def test_the_embedded_database_lives_in_a_per_user_folder_not_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert db.default_data_dir() == tmp_path / "daarion" / "pgdata"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert db.default_data_dir() == Path.home() / ".local" / "share" / "daarion" / "pgdata"


def test_the_readme_lists_every_variable_and_nothing_else_reads_daarion_variables() -> None:
    readme = (REPO / "README.md").read_text()
    table = set(re.findall(r"^\| `([A-Z_]+)` \|", readme, flags=re.MULTILINE))
    assert table == {var.name for var in ENVIRONMENT}
    code = subprocess.run(["git", "grep", "-n", "-E", r"environ(\.get)?[\[(]\s*\"DAARION_", "--", "domain", "infra",
                           "apps"], cwd=REPO, capture_output=True, text=True, check=False).stdout
    assert code == ""
    named = set(re.findall(r"\bDAARION_[A-Z_]+\b", subprocess.run(
        ["git", "grep", "-h", "DAARION_", "--", "domain", "infra", "apps", "config", "compose.yaml", "Dockerfile"],
        cwd=REPO, capture_output=True, text=True, check=False).stdout))
    assert named <= {var.name for var in ENVIRONMENT}
