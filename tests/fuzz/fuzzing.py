"""Property-based API testing of one running service against the OpenAPI document it publishes.

For every operation of the document, schemathesis makes requests: first its coverage cases (boundary
values, missing and unexpected fields, wrong types, other methods and content types), then `examples`
Hypothesis cases each of valid (positive) and schema-breaking (negative) requests. Each is sent to the live
server with a real key, and its answer must be no 5xx, of a documented status and content type, and match
the documented schema (streams too, event by event). Generation is derandomized, so CI sees the same cases
every run. Failures are collected rather than raised at the first, so one run counts them all, by kind,
with a curl command for each.

Half the Hypothesis cases get the values in `FuzzTarget.known` for parameters and body fields of those names
(the key's own agent and microDAO, a configured model, a real project), so they also get past identity
checks and unknown names.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

REPORTS = pytest.StashKey[list["Report"]]()  # the session's reports, for its terminal summary
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# NUL is refused at the edge of every service, whatever the field (regression tests in tests/integration/platform);
# strings without it reach further.
CONFIG = {"generation": {"deterministic": True, "with-security-parameters": False, "allow-x00": False}}


@dataclass(frozen=True)
class FuzzTarget:
    base_url: str
    keys: dict[str, str]  # "agent", and "operator" where /admin routes are
    known: dict[str, str] = field(default_factory=dict)

    def key_for(self, path: str) -> str:
        return self.keys["operator"] if path.startswith("/admin") else self.keys["agent"]


@dataclass(frozen=True)
class Finding:
    operation: str
    kind: str
    status: int
    message: str
    repro: str


@dataclass
class Report:
    service: str
    operations: int = 0
    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    by_operation: dict[str, Counter[int]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0

    def failures_by_kind(self) -> Counter[str]:
        return Counter(finding.kind for finding in self.findings)

    def summary(self) -> str:
        kinds = ", ".join(f"{kind}: {n}" for kind, n in sorted(self.failures_by_kind().items())) or "none"
        statuses = " ".join(f"{status}×{n}" for status, n in sorted(self.statuses.items()))
        return (f"{self.service}: {self.operations} operations, {self.cases} cases in {self.seconds:.1f} s; "
                f"statuses {statuses}; failures: {kinds}")

    def details(self, limit: int = 12) -> str:
        """One example of each distinct (operation, kind), with its curl command."""
        seen: dict[tuple[str, str], Finding] = {}
        for finding in self.findings:
            seen.setdefault((finding.operation, finding.kind), finding)
        return "\n\n".join(f"{f.operation}: {f.kind} (status {f.status})\n{f.message}\n{f.repro}"
                           for f in list(seen.values())[:limit])


def fuzz(service: str, spec: dict[str, Any], target: FuzzTarget, examples: int) -> Report:
    """`examples` cases per operation and generation mode."""
    report = Report(service)
    started = time.perf_counter()
    schema = schemathesis.openapi.from_dict(spec, config=schemathesis.Config.from_dict(CONFIG))
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    for result in schema.get_all_operations():
        report.operations += 1
        if not isinstance(result, Ok):
            report.findings.append(Finding("?", "Invalid operation in the document", 0, str(result.err()), ""))
            continue
        operation = result.ok()
        generation = schema.config.generation_for(operation=operation)
        for case in schema.iter_coverage_cases(operation, generation_modes=modes, generation_config=generation):
            _exercise(case, target, report)
        for mode in modes:
            try:
                _run(operation.as_strategy(generation_mode=mode), target, report, examples)
            except Unsatisfiable:
                if mode is GenerationMode.POSITIVE:
                    raise
                # else nothing to negate: an operation without parameters or body has no negative cases
    report.seconds = time.perf_counter() - started
    return report


def _run(strategy: Any, target: FuzzTarget, report: Report, examples: int) -> None:
    @settings(max_examples=examples, derandomize=True, database=None, deadline=None, print_blob=False,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy, realistic=st.booleans())
    def exercise(case: schemathesis.Case, realistic: bool) -> None:
        if realistic:
            _use_known(case, target.known)
        _exercise(case, target, report)

    exercise()


def _exercise(case: schemathesis.Case, target: FuzzTarget, report: Report) -> None:
    headers = {"authorization": f"Bearer {target.key_for(case.operation.path)}"}
    response = case.call(base_url=target.base_url, headers=headers, timeout=60)
    report.cases += 1
    report.statuses[response.status_code] += 1
    report.by_operation.setdefault(case.operation.label, Counter())[response.status_code] += 1
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except (FailureGroup, AssertionError) as exc:
        failures: list[BaseException] = [f for f in getattr(exc, "exceptions", [exc]) if isinstance(f, Failure)] or [exc]
        for failure in failures:
            kind = getattr(failure, "title", type(failure).__name__)
            repro = case.as_curl_command(headers=headers, base_url=target.base_url)
            message = str(getattr(failure, "message", failure))[:600]
            report.findings.append(Finding(case.operation.label, kind, response.status_code, message, repro))


def _use_known(case: schemathesis.Case, known: dict[str, str]) -> None:
    for name, value in known.items():
        for container in (case.path_parameters, case.query, case.body):
            if isinstance(container, dict) and name in container:
                container[name] = value
