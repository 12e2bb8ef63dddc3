"""The fuzz stage: every service, fuzzed against its own published OpenAPI document, answers every
generated request with no 5xx and as its document says (status, content type, body schema).

DAARION_FUZZ_EXAMPLES sets the cases per operation and generation mode (default 50: the whole stage
stays within a few minutes on two cores)."""

from __future__ import annotations

import os

import httpx
import pytest

from apps.common.openapi import SPEC_PATH
from tests.fuzz.fuzzing import REPORTS, FuzzTarget, fuzz
from tests.fuzz.stack import SERVICES

EXAMPLES = int(os.environ.get("DAARION_FUZZ_EXAMPLES", "50"))


@pytest.mark.slow
@pytest.mark.parametrize("service", SERVICES)
def test_every_generated_request_gets_a_documented_answer_and_no_server_error(
    service: str, fuzz_targets: dict[str, FuzzTarget], pytestconfig: pytest.Config,
) -> None:
    target = fuzz_targets[service]
    spec = httpx.get(target.base_url + SPEC_PATH, timeout=30).json()
    report = fuzz(service, spec, target, EXAMPLES)
    pytestconfig.stash.setdefault(REPORTS, []).append(report)
    if report.findings:
        statuses = "\n".join(f"  {operation}: {dict(seen)}" for operation, seen in report.by_operation.items())
        pytest.fail(f"{report.summary()}\n{statuses}\n\n{report.details()}", pytrace=False)
