"""`/internal/usage` and `daarion usage` filtered by agent and microDAO, over real calls through the proxy:
other tenants' rows are absent, the totals are the rows' sum, and a key sees no more than it may."""

from __future__ import annotations

import csv
import io
import json
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest

from apps.cli import main
from tests.proxy_support import auth, body, operator_key
from tests.support import bearer

COUNTS = ("llm_calls", "llm_failures", "prompt_tokens", "completion_tokens", "total_tokens", "tool_calls")


@pytest.fixture(scope="module")
def traffic(proxy: str) -> dict[str, Any]:
    """Two agents of one fresh microDAO and one of another make calls; what each client was charged."""
    tag = uuid.uuid4().hex[:8]
    home, away = f"microdao:home-{tag}", f"microdao:away-{tag}"
    agents = {f"agent:ann-{tag}": (home, 3), f"agent:bob-{tag}": (home, 2), f"agent:cid-{tag}": (away, 4)}
    charged: dict[str, Decimal] = {}
    for agent, (microdao, calls) in agents.items():
        charged[agent] = Decimal(0)
        for index in range(calls):
            payload = body(agent=agent, microdao_id=microdao, text=f"question {index} " * (index + 1))
            response = httpx.post(proxy + "/internal/llm/proxy", json=payload, headers=auth(agent, microdao),
                                  timeout=30)
            assert response.status_code == 200, response.text
            charged[agent] += Decimal(response.headers["x-daarion-cost-usd"])
    return {"home": home, "away": away, "agents": list(agents), "charged": charged}


def usage(proxy: str, headers: dict[str, str] | None = None, /, **params: str) -> httpx.Response:
    return httpx.get(proxy + "/internal/usage", params=params, headers=headers or bearer(operator_key()), timeout=30)


def assert_totals_are_the_sum(report: dict[str, Any]) -> None:
    rows, totals = report["rows"], report["totals"]
    assert totals["key"] == "total"
    for name in COUNTS:
        assert totals[name] == sum(row[name] for row in rows), name
    assert Decimal(totals["cost_usd"]) == sum((Decimal(row["cost_usd"]) for row in rows), Decimal(0))


def test_a_microdao_filter_leaves_out_every_other_microdaos_agents(proxy: str, traffic: dict[str, Any]) -> None:
    ann, bob, _ = traffic["agents"]
    response = usage(proxy, group_by="agent", microdao_id=traffic["home"])
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["microdao_id"] == traffic["home"] and report["complete"] is True
    assert [row["key"] for row in report["rows"]] == [ann, bob]
    assert [row["llm_calls"] for row in report["rows"]] == [3, 2]
    assert_totals_are_the_sum(report)
    charged = traffic["charged"][ann] + traffic["charged"][bob]
    assert Decimal(report["totals"]["cost_usd"]) == charged.quantize(Decimal("0.000001"))


def test_an_agent_filter_combines_with_any_grouping(proxy: str, traffic: dict[str, Any]) -> None:
    cid = traffic["agents"][2]
    by_model = usage(proxy, group_by="model", agent_id=cid).json()
    assert [(row["key"], row["llm_calls"]) for row in by_model["rows"]] == [("gpt -> openai/ok-gpt", 4)]
    by_microdao = usage(proxy, group_by="microdao", agent_id=cid).json()
    assert [row["key"] for row in by_microdao["rows"]] == [traffic["away"]]
    assert_totals_are_the_sum(by_model)
    crossed = usage(proxy, group_by="agent", agent_id=cid, microdao_id=traffic["home"]).json()
    assert crossed["rows"] == [] and crossed["totals"]["llm_calls"] == 0


def test_an_agents_key_sees_only_its_own_usage_and_may_not_name_another(proxy: str, traffic: dict[str, Any]) -> None:
    ann, bob, _ = traffic["agents"]
    own = auth(ann, traffic["home"])
    mine = usage(proxy, own, group_by="agent").json()
    assert [row["key"] for row in mine["rows"]] == [ann]
    assert (mine["agent_id"], mine["microdao_id"]) == (ann, traffic["home"])
    for params in ({"agent_id": bob}, {"microdao_id": traffic["away"]}):
        refused = usage(proxy, own, group_by="agent", **params)
        assert refused.status_code == 403 and refused.json()["error"]["type"] == "identity_mismatch"


@pytest.mark.parametrize("params", [{"agent_id": "agent ann"}, {"microdao_id": ""}, {"agent_id": "a" * 129},
                                    {"microdao_id": "microdao;drop"}], ids=["space", "empty", "long", "semicolon"])
def test_a_malformed_filter_is_a_400_with_the_stable_error_body(proxy: str, params: dict[str, str]) -> None:
    response = usage(proxy, **params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request" and error["request_id"]


def test_the_cli_filters_the_same_way_in_json_and_csv(
    proxy: str, traffic: dict[str, Any], capsys: pytest.CaptureFixture[str],
) -> None:
    ann, bob, _ = traffic["agents"]
    api = usage(proxy, group_by="agent", microdao_id=traffic["home"]).json()
    assert main(["usage", "--by", "agent", "--microdao", traffic["home"], "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["rows"], printed["totals"]) == (api["rows"], api["totals"])
    assert main(["usage", "--by", "agent", "--microdao", traffic["home"], "--agent", bob, "--csv"]) == 0
    records = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["row"], r["agent"], r["llm_calls"]) for r in records] == [("group", bob, "2"), ("total", "", "2")]
    assert main(["usage", "--by", "agent", "--microdao", traffic["home"]]) == 0
    table = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in table[3:] if not line.startswith("-")] == [ann, bob, "total"]
