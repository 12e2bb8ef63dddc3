"""compose.yaml runs the same stack as `daarion up`: read, parsed and checked against apps/services.py."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from apps.services import SERVICES
from tests.support import REPO

COMPOSE = yaml.safe_load((REPO / "compose.yaml").read_text())
SERVICES_IN_COMPOSE: dict[str, Any] = COMPOSE["services"]
APP_SERVICES = {name: s for name, s in SERVICES_IN_COMPOSE.items() if s.get("command", [])[1:2] == ["serve"]}


def test_compose_runs_exactly_the_services_of_daarion_up_each_in_its_own_container() -> None:
    assert set(APP_SERVICES) == set(SERVICES)
    for name, service in APP_SERVICES.items():
        assert service["command"] == ["daarion", "serve", name]
        assert service["build"]["context"] == "." and service["image"] == "daarion:local"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_each_service_publishes_its_port_and_is_health_checked_on_it(name: str) -> None:
    service, port = APP_SERVICES[name], SERVICES[name].port
    assert service["ports"] == [f"{port}:{port}"]
    assert f"http://127.0.0.1:{port}/readyz" in " ".join(service["healthcheck"]["test"])
    assert service["environment"]["DAARION_HOST"] == "0.0.0.0"
    assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}


def test_the_ports_are_7006_to_7010() -> None:
    assert sorted(spec.port for spec in SERVICES.values()) == [7006, 7007, 7008, 7009, 7010]


def test_postgres_has_pgvector_ollama_runs_and_a_job_migrates_before_the_services_start() -> None:
    assert SERVICES_IN_COMPOSE["postgres"]["image"].startswith("pgvector/pgvector:")
    assert "healthcheck" in SERVICES_IN_COMPOSE["postgres"]
    assert SERVICES_IN_COMPOSE["ollama"]["image"].startswith("ollama/ollama")
    migrate = SERVICES_IN_COMPOSE["migrate"]
    assert migrate["command"] == ["daarion", "db", "upgrade"] and migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"] == {"condition": "service_healthy"}


def test_the_services_find_each_other_by_their_compose_names() -> None:
    environment = APP_SERVICES["agent-runtime"]["environment"]
    for variable, name in [("DAARION_LLM_PROXY_URL", "llm-proxy"), ("DAARION_MEMORY_URL", "memory"),
                           ("DAARION_TOOLCORE_URL", "toolcore"), ("DAARION_PROJECTS_URL", "projects")]:
        assert environment[variable] == f"http://{name}:{SERVICES[name].port}"
    assert environment["DAARION_OLLAMA_HOST"] == "http://ollama:11434"
    assert environment["DATABASE_URL"].startswith("postgresql://") and "@postgres:5432/" in environment["DATABASE_URL"]
    runtime_needs = APP_SERVICES["agent-runtime"]["depends_on"]
    assert {"llm-proxy", "memory", "toolcore"} <= set(runtime_needs)


def test_the_nats_profile_adds_jetstream_and_the_ledger_exporter_pointed_at_it() -> None:
    nats, exporter = SERVICES_IN_COMPOSE["nats"], SERVICES_IN_COMPOSE["ledger-export"]
    assert nats["profiles"] == exporter["profiles"] == ["nats"] and "-js" in nats["command"]
    assert exporter["command"] == ["daarion", "events", "export"]
    assert exporter["environment"]["DAARION_NATS_URL"] == "nats://nats:4222"
    assert exporter["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}


def test_secrets_come_from_the_env_file_and_no_default_secret_is_left_in_compose() -> None:
    text = (REPO / "compose.yaml").read_text()
    assert "daarion:daarion@" not in text and "INTERNAL_TOKEN" not in text
    assert SERVICES_IN_COMPOSE["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    for service in APP_SERVICES.values():
        environment = service["environment"]
        assert "${POSTGRES_PASSWORD:?" in environment["DATABASE_URL"]
        assert environment["DAARION_BOOTSTRAP_ADMIN_KEY"].startswith("${DAARION_BOOTSTRAP_ADMIN_KEY:?")


def test_the_env_file_script_writes_fresh_secrets_that_the_services_accept(tmp_path: Any) -> None:
    import stat
    import subprocess
    import sys

    from domain.identity.keys import key_id_of
    from infra.platform.exposure import default_secret_problem

    target = tmp_path / ".env"
    subprocess.run([sys.executable, str(REPO / "scripts" / "generate_env.py"), str(target)], check=True,
                   cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    values = dict(line.split("=", 1) for line in target.read_text().splitlines() if not line.startswith("#"))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert key_id_of(values["DAARION_BOOTSTRAP_ADMIN_KEY"]) is not None
    url = f"postgresql://daarion:{values['POSTGRES_PASSWORD']}@postgres:5432/daarion"
    assert default_secret_problem("0.0.0.0", url) is None
    assert subprocess.run([sys.executable, str(REPO / "scripts" / "generate_env.py"), str(target)],
                          check=False, capture_output=True).returncode != 0  # never overwritten
