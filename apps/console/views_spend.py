"""The Spend page: LLM cost and tokens per day as a chart, split by agent, microDAO, model or provider, with
each key's totals and a CSV of exactly the points shown."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from apps.console.charts import COLOURS, day_range, stacked_days
from apps.console.html import e, money, select, table
from domain.ledger.spend import SPLITS, SpendPoint, totals

PERIODS = (30, 90)
METRICS = ("cost", "tokens")


def spend_body(points: list[SpendPoint], split: str, days: int, metric: str, since: date, until: date,
               complete: bool) -> str:
    by_key = totals(points)
    ranked = sorted(by_key.values(), key=lambda t: (-t.cost_usd, -(t.prompt_tokens + t.completion_tokens), t.key))
    shown = [t.key for t in ranked[:len(COLOURS) - 1]]
    series: dict[str, dict[date, float]] = {key: {} for key in shown}
    for p in points:
        key = p.key if p.key in series else "other"
        value = float(p.cost_usd) if metric == "cost" else float(p.prompt_tokens + p.completion_tokens)
        bucket = series.setdefault(key, {})
        bucket[p.day] = bucket.get(p.day, 0.0) + value
    chart = stacked_days(day_range(since, until), series, "USD" if metric == "cost" else "tokens")
    rows = [[e(t.key), str(t.llm_calls), str(t.prompt_tokens), str(t.completion_tokens),
             str(t.prompt_tokens + t.completion_tokens), money(t.cost_usd)] for t in ranked]
    calls = sum(t.llm_calls for t in ranked)
    prompt = sum(t.prompt_tokens for t in ranked)
    completion = sum(t.completion_tokens for t in ranked)
    total = ["Total", str(calls), str(prompt), str(completion), str(prompt + completion),
             money(sum((t.cost_usd for t in ranked), Decimal(0)))]
    stale = "" if complete else '<p class="warn">The projection is still catching up with the ledger.</p>'
    form = (f'<form class="filters" method="get" action="/spend">'
            f'{select("days", [str(p) for p in PERIODS], str(days), blank=None)}'
            f'{select("split", SPLITS, split, blank=None)}{select("metric", METRICS, metric, blank=None)}'
            f'<button type="submit">Show</button>'
            f'<a href="/spend.csv?days={days}&amp;split={e(split)}" download>CSV of what is shown</a></form>')
    return (f'<div class="card">{form}</div>{stale}'
            f'<div class="card"><h2>{"Cost (USD)" if metric == "cost" else "Tokens"} per day, {e(since)} to '
            f'{e(until)}, by {e(split)}</h2>{chart}</div>'
            f'<div class="card"><h2>Totals by {e(split)}</h2>'
            + table([split, "LLM calls", "prompt tokens", "completion tokens", "total tokens", "cost (USD)"], rows,
                    numeric=range(1, 6), table_id="spend-totals", total=total) + "</div>")


def spend_csv(points: list[SpendPoint], split: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["day", split, "llm_calls", "prompt_tokens", "completion_tokens", "cost_usd"])
    for p in points:
        writer.writerow([p.day.isoformat(), p.key, p.llm_calls, p.prompt_tokens, p.completion_tokens,
                         money(p.cost_usd)])
    return out.getvalue()
