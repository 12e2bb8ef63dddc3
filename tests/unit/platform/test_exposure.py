"""A service refuses to listen beyond loopback while its database uses a shipped default password."""

from __future__ import annotations

import pytest

from infra.platform.exposure import default_secret_problem


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.5", "::"])
@pytest.mark.parametrize("url", ["postgresql://daarion:daarion@postgres:5432/daarion",
                                 "postgresql://postgres@db/daarion"])
def test_a_default_database_password_on_a_public_address_is_refused(host: str, url: str) -> None:
    problem = default_secret_problem(host, url)
    assert problem is not None and "generate-env" in problem


@pytest.mark.parametrize("host, url", [
    ("127.0.0.1", "postgresql://daarion:daarion@localhost/daarion"),
    ("localhost", "postgresql://daarion:daarion@localhost/daarion"),
    ("::1", "postgresql://daarion:daarion@localhost/daarion"),
    ("0.0.0.0", "postgresql://daarion:Zq9-generated-secret@postgres/daarion"),
    ("0.0.0.0", None),
])
def test_loopback_generated_secrets_or_the_embedded_database_are_fine(host: str, url: str | None) -> None:
    assert default_secret_problem(host, url) is None
