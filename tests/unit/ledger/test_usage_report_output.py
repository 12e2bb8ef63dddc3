"""The usage report's totals row and the forms `daarion usage` prints it in: table, CSV, arguments."""

from __future__ import annotations

import argparse
import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from apps.llm_proxy.cli import register
from apps.llm_proxy.usage_render import render_usage_csv, render_usage_table
from domain.ledger.reports import UsageRow, totals_of


def row(key: str, llm_calls: int = 0, cost: str = "0.000000", latency: float | None = None, turns: int = 0,
        turn_cost: str | None = None, tool_calls: int = 0) -> UsageRow:
    return UsageRow(key, llm_calls, 1 if llm_calls else 0, 0, 10 * llm_calls, 2 * llm_calls, 12 * llm_calls, cost,
                    0, latency, tool_calls, 0, 0, turns, turn_cost)


ROWS = [row("agent:a", 3, "0.100001", 10.0, 1, "0.300000", 2), row("agent:b", 1, "0.200002", 50.0, 3, "0.100000"),
        row("agent:c", tool_calls=5)]


def test_totals_add_counts_and_cost_exactly_and_weight_the_averages() -> None:
    totals = totals_of(ROWS)
    assert totals.key == "total"
    assert (totals.llm_calls, totals.llm_failures, totals.prompt_tokens, totals.total_tokens) == (4, 2, 40, 48)
    assert (totals.tool_calls, totals.agent_turns) == (7, 4)
    assert totals.cost_usd == "0.300003"  # 0.1 + 0.2 in binary floating point would not be
    assert totals.avg_llm_latency_ms == 20.0  # (3 * 10 + 1 * 50) / 4
    assert totals.avg_turn_cost_usd == "0.150000"  # (1 * 0.3 + 3 * 0.1) / 4


def test_totals_of_nothing_are_zero_with_no_averages() -> None:
    totals = totals_of([])
    assert (totals.llm_calls, totals.cost_usd, totals.avg_llm_latency_ms, totals.avg_turn_cost_usd) == \
        (0, "0.000000", None, None)


def test_the_table_ends_with_a_totals_row_under_a_rule() -> None:
    lines = render_usage_table("agent", date(2026, 11, 1), date(2026, 11, 30), ROWS, totals_of(ROWS),
                               ", microdao microdao:7").splitlines()
    assert lines[0] == "usage by agent, 2026-11-01 .. 2026-11-30, microdao microdao:7"
    assert lines[1].split()[:3] == ["agent", "llm", "calls"]
    assert set(lines[2].replace(" ", "")) == {"-"} and lines[-2] == lines[2]
    assert [line.split()[0] for line in lines[3:6]] == ["agent:a", "agent:b", "agent:c"]
    assert lines[-1].split()[:2] == ["total", "4"] and "0.300003" in lines[-1].split()
    assert len({len(line) for line in lines[1:]}) == 1  # every column aligned


def test_an_empty_period_says_so_instead_of_a_totals_row() -> None:
    empty = render_usage_table("day", date(2026, 11, 1), date(2026, 11, 2), [], totals_of([]))
    assert empty.splitlines()[-1] == "(no usage in this period)" and "total" not in empty


def test_csv_has_a_header_one_line_per_group_and_a_marked_totals_line() -> None:
    text = render_usage_csv("agent", ROWS, totals_of(ROWS))
    records = list(csv.DictReader(io.StringIO(text)))
    assert [(r["row"], r["agent"]) for r in records] == [("group", "agent:a"), ("group", "agent:b"),
                                                         ("group", "agent:c"), ("total", "")]
    groups, [total] = records[:-1], records[-1:]
    assert sum(Decimal(r["cost_usd"]) for r in groups) == Decimal(total["cost_usd"])
    assert sum(int(r["llm_calls"]) for r in groups) == int(total["llm_calls"]) == 4
    assert groups[2]["avg_llm_latency_ms"] == "" and groups[2]["avg_turn_cost_usd"] == ""


def test_csv_quotes_a_key_with_a_comma() -> None:
    text = render_usage_csv("model", [row("gpt -> openai/a,b", 1)], totals_of([row("gpt -> openai/a,b", 1)]))
    assert next(csv.reader(io.StringIO(text.splitlines()[1])))[1] == "gpt -> openai/a,b"


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    return parser.parse_args(["usage", *argv])


def test_the_cli_takes_agent_and_microdao_filters_and_one_output_form() -> None:
    args = parse("--agent", "agent:a", "--microdao", "microdao:7", "--csv")
    assert (args.agent, args.microdao, args.csv, args.json) == ("agent:a", "microdao:7", True, False)


@pytest.mark.parametrize("argv", [["--agent", "agent a"], ["--microdao", ""], ["--json", "--csv"],
                                  ["--agent", "x" * 129]], ids=["space", "empty", "both-forms", "too-long"])
def test_the_cli_refuses_a_malformed_filter_or_two_output_forms(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse(*argv)
    assert exit_.value.code == 2
