"""How fast the console's Spend page renders with 1,000,000 ledger events in the projection.

The console runs as `daarion serve console` (its own process, real HTTP); a client signs in through the form
and times page loads. First on an empty projection (the baseline, with /healthz for the bare HTTP cost), then
after seeding the projection with what 1,000,000 ledger events leave in it: one ledger_calls row each and
their per-day rollup in usage_daily (90 days, 50 agents in 10 microDAOs, 5 models on 3 providers; 90 % LLM
calls, 10 % tool calls). Seeding writes those tables with bulk SQL (INSERT ... SELECT over generate_series),
not through the ledger: the pages read only the projection, and replaying a million events through
eventsourcing would take the bench ~40 minutes on two cores without changing what is read.

    python bench/console_spend.py              # 20 requests per page and figure
    python bench/console_spend.py --events 200000 --requests 10
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.proxy_overhead import ROOT, wait_ready
from infra.platform import db, migrations

TARGET_MS = 300.0
PAGES = {"spend 30 days by agent": "/spend?days=30&split=agent", "spend 90 days by agent": "/spend?days=90&split=agent",
         "spend 90 days by model": "/spend?days=90&split=model", "spend CSV 90 days by model":
         "/spend.csv?days=90&split=model", "calls (newest 100)": "/calls", "tools": "/tools"}

_SEED_CALLS = """
INSERT INTO ledger_calls (microdao_id, position, request_id, at, kind, agent_id, subject, provider, model, status,
    error_type, latency_ms, cost_usd, prompt_tokens, completion_tokens)
SELECT 'microdao:' || (g %% 50 %% 10), g, 'req_' || md5(g::text),
       date_trunc('day', now()) - ((g %% 90) || ' days')::interval + ((g %% 86400) || ' seconds')::interval,
       CASE WHEN g %% 10 = 0 THEN 'tool' ELSE 'llm' END, 'agent:' || (g %% 50),
       CASE WHEN g %% 10 = 0 THEN 'tool.' || (g %% 7) ELSE 'model-' || (g %% 5) END,
       CASE WHEN g %% 10 = 0 THEN '' ELSE 'provider-' || (g %% 5 %% 3) END,
       CASE WHEN g %% 10 = 0 THEN '' ELSE 'physical-' || (g %% 5) END,
       CASE WHEN g %% 10 = 0 THEN (CASE WHEN g %% 97 = 0 THEN 'denied' ELSE 'succeeded' END)
            ELSE (CASE WHEN g %% 101 = 0 THEN 'failed' ELSE 'completed' END) END,
       NULL, 50 + g %% 900, CASE WHEN g %% 10 = 0 THEN NULL ELSE (100 + g %% 900) * 0.0000004 END,
       CASE WHEN g %% 10 = 0 THEN 0 ELSE 100 + g %% 900 END, CASE WHEN g %% 10 = 0 THEN 0 ELSE 20 + g %% 200 END
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g
"""

# What the usage projector would have folded the same events into (domain.ledger.projections.usage_of).
_ROLLUP = """
INSERT INTO usage_daily (day, kind, agent_id, microdao_id, subject, provider, physical_model, calls, failures,
    cancelled, prompt_tokens, completion_tokens, cost_usd, unpriced_calls, latency_ms_sum, bytes)
SELECT at::date, kind, agent_id, microdao_id, subject, provider, model, count(*),
       count(*) FILTER (WHERE status NOT IN ('completed', 'succeeded')), 0, sum(prompt_tokens),
       sum(completion_tokens), coalesce(sum(cost_usd), 0), 0, sum(latency_ms), 0
FROM ledger_calls GROUP BY 1, 2, 3, 4, 5, 6, 7
"""


def bench_database() -> str:
    os.environ.setdefault("DAARION_DATA_DIR", str(ROOT / ".daarion" / "bench-pgdata"))
    server = db.database_url()
    name = f"console_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(server)
    url = urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))
    migrations.upgrade(url)
    return url


def drop(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    parts = urlsplit(url)
    with psycopg.connect(urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, "")),
                         autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(url: str, events: int) -> float:
    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as connection:
        for first in range(1, events + 1, 250_000):
            connection.execute(_SEED_CALLS, {"first": first, "last": min(first + 249_999, events)})
        connection.execute(_ROLLUP)
        connection.execute("INSERT INTO usage_projection_tracking (application_name, notification_id) "
                           "VALUES ('usage_daily', %s) ON CONFLICT (application_name) DO UPDATE "
                           "SET notification_id = EXCLUDED.notification_id", (events,))
        connection.execute("ANALYZE ledger_calls")
        connection.execute("ANALYZE usage_daily")
    return time.monotonic() - started


def signed_in(base: str, key: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    form = client.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    assert token, "no CSRF token on the sign-in form"
    answer = client.post("/login", data={"csrf": token.group(1), "key": key})
    assert answer.status_code == 303 and answer.headers["location"] == "/spend", answer.text[:300]
    return client


def median_ms(client: httpx.Client, path: str, requests: int) -> float:
    times = []
    for n in range(requests + 1):  # the first one warms up
        started = time.perf_counter()
        answer = client.get(path)
        elapsed = (time.perf_counter() - started) * 1000
        assert answer.status_code == 200, f"{path}: {answer.status_code}"  # a 303 would mean signed out
        if n:
            times.append(elapsed)
    return statistics.median(times)


def operator_key(url: str) -> str:
    import asyncio

    from apps.llm_proxy.local_identity import identity_admin
    from domain.identity.scopes import OPERATOR_SCOPES

    async def issue() -> str:
        async with identity_admin(url) as admin:
            return (await admin.issue_key(None, OPERATOR_SCOPES, "bench", name="bench")).key

    return asyncio.run(issue())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    url = bench_database()
    port = 17911
    env: dict[str, Any] = {**os.environ, "DATABASE_URL": url, "DAARION_CONSOLE_SECRET": uuid.uuid4().hex * 2}
    console = subprocess.Popen([sys.executable, "-m", "apps.cli", "serve", "console", "--port", str(port),
                                "--log-level", "warning"], env=env, cwd=ROOT)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(f"{base}/readyz")
        client = signed_in(base, operator_key(url))
        health = median_ms(client, "/healthz", args.requests)
        empty = {name: median_ms(client, path, args.requests) for name, path in PAGES.items()}
        seconds = seed(url, args.events)
        print(f"seeded {args.events:,} ledger events into the projection in {seconds:.1f} s "
              f"(bulk SQL into ledger_calls and its usage_daily rollup)")
        full = {name: median_ms(client, path, args.requests) for name, path in PAGES.items()}
    finally:
        console.terminate()
        console.wait(30)
        drop(url)
    print(f"median of {args.requests} requests over HTTP, one console process; /healthz {health:.1f} ms")
    print(f"{'page':<28}{'empty ms':>10}{'seeded ms':>11}{'ratio':>8}")
    for name in PAGES:
        print(f"{name:<28}{empty[name]:>10.1f}{full[name]:>11.1f}{full[name] / empty[name]:>8.2f}")
    worst = max(full[name] for name in PAGES if name.startswith("spend") and "CSV" not in name)
    print(f"spend page with {args.events:,} events: worst median {worst:.1f} ms (target <= {TARGET_MS:.0f} ms) -> "
          f"{'MET' if worst <= TARGET_MS else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
