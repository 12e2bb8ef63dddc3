"""How the usage ledger grows: events per LLM call, tool call, memory write and agent turn, and bytes per event.

The stack of bench/agent_turn.py (every service its own process on a fresh embedded Postgres, the stub LLM,
MiniLM indexing on) takes each kind of traffic in turn, as Sofia with her own key. After each phase, once
the ledger has stopped growing (entries are committed just after the response, indexing later), the bench
reads from the catalog what the phase added to `usageledger_events`: events by type, the payload (the
`state` column, as stored: `pg_column_size`), the whole row, and the growth of the table with its indexes
and TOAST (`pg_total_relation_size`). The baseline, in the same run, is the payload itself: the ratio says
what row headers and the two indexes cost on top of it. The turns all ask the same question and get the
same stub reply, so the memory of all but the first is deduplicated (no MemoryStored for those).

    python bench/ledger_growth.py            # 400 of each operation, 100 turns
    python bench/ledger_growth.py --quick    # 100 of each, 25 turns
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.agent_turn import ROOT, issue_sofia_key, start_stack, turn, url, write_configs
from infra.platform import db, migrations

DATA_DIR = ROOT / ".daarion" / "bench-ledger-growth-pgdata"

IDS = {"agent_id": "agent:sofia", "microdao_id": "microdao:7"}
PHASE_SQL = """
    SELECT split_part(topic, ':', 2) AS event, count(*), avg(pg_column_size(state)), avg(pg_column_size(e.*))
    FROM usageledger_events e WHERE notification_id > %s AND notification_id <= %s GROUP BY 1 ORDER BY 1
"""


def ledger_state(database: str) -> tuple[int, int]:
    with psycopg.connect(database) as connection:
        row = connection.execute("SELECT coalesce(max(notification_id), 0), "
                                 "pg_total_relation_size('usageledger_events') FROM usageledger_events").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def settled(database: str, quiet_s: float = 2.0, timeout_s: float = 300.0) -> tuple[int, int]:
    """The ledger's last position and size once no entry has arrived for `quiet_s` (indexing finishes later
    than the writes it follows)."""
    deadline = time.monotonic() + timeout_s
    last, since = ledger_state(database), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = ledger_state(database)
        if now[0] != last[0]:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return now
    raise SystemExit("the ledger kept growing; is something else writing to this database?")


def measure(database: str, label: str, count: int, operation: Callable[[int], None]) -> dict[str, Any]:
    start, size_before = settled(database)
    for index in range(count):
        operation(index)
    end, size_after = settled(database)
    with psycopg.connect(database) as connection:
        kinds = connection.execute(PHASE_SQL, (start, end)).fetchall()
    events = sum(row[1] for row in kinds)
    return {"label": label, "count": count, "events": events, "kinds": kinds,
            "payload": sum(row[1] * float(row[2]) for row in kinds) / events,
            "row": sum(row[1] * float(row[3]) for row in kinds) / events,
            "growth": (size_after - size_before) / events}


def traffic(client: httpx.Client) -> dict[str, Callable[[int], None]]:
    def llm(index: int) -> None:
        client.post(f"{url('llm-proxy')}/internal/llm/proxy", json={
            "model": "bench", "messages": [{"role": "user", "content": f"what changed in project {index}?"}],
            "metadata": IDS}).raise_for_status()

    def tool(index: int) -> None:
        client.post(f"{url('toolcore')}/internal/tools/call",
                    json={**IDS, "tool_id": "projects.list", "args": {}}).raise_for_status()

    def memory(index: int) -> None:
        client.post(f"{url('memory')}/internal/agent-memory/store", json={
            **IDS, "channel_id": f"bench:growth-{index % 10}",
            "content": {"user_message": f"question number {index}", "agent_reply": f"answer number {index}"}},
        ).raise_for_status()

    def agent_turn(index: int) -> None:
        turn(client, f"bench:growth-turn-{index % 10}")  # 3 LLM calls, 2 tool calls, a memory write

    return {"LLM call": llm, "tool call": tool, "memory write": memory, "agent turn": agent_turn}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    each = 100 if args.quick else 400
    # An empty ledger, so the figures hold only this bench's events. Not a temporary folder: the embedded
    # server's last user (this process) releases it at exit, after a `with` block would have removed it.
    shutil.rmtree(DATA_DIR, ignore_errors=True)
    os.environ["DAARION_DATA_DIR"] = str(DATA_DIR)
    os.environ.pop("DATABASE_URL", None)
    database = db.database_url()
    migrations.upgrade(database)
    key = asyncio.run(issue_sofia_key(database))
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DATABASE_URL": database, **write_configs(Path(tmp))}
        children = []
        try:
            print("starting the stack (each service its own process, stub LLM):")
            children = start_stack(env)
            with httpx.Client(timeout=60, headers={"authorization": f"Bearer {key}"}) as client:
                results = [measure(database, label, each // 4 if label == "agent turn" else each, operation)
                           for label, operation in traffic(client).items()]
        finally:
            for child in reversed(children):
                child.terminate()
            for child in children:
                child.wait(30)
    report(results)
    return 0


def report(results: list[dict[str, Any]]) -> None:
    print(f"\n{'operation':<14}{'n':>5}{'events/op':>11}{'payload B':>11}{'row B':>8}{'table+idx B':>13}"
          f"{'vs payload':>12}   events")
    for r in results:
        kinds = ", ".join(f"{name} {count / r['count']:g}" for name, count, _, _ in r["kinds"])
        print(f"{r['label']:<14}{r['count']:>5}{r['events'] / r['count']:>11.2f}{r['payload']:>11.0f}{r['row']:>8.0f}"
              f"{r['growth']:>13.0f}{r['growth'] / r['payload']:>11.2f}x   {kinds}")
    events = sum(r["events"] for r in results)
    growth = sum(r["growth"] * r["events"] for r in results)
    payload = sum(r["payload"] * r["events"] for r in results)
    print(f"{'all phases':<14}{'':>5}{'':>11}{payload / events:>11.0f}{'':>8}{growth / events:>13.0f}"
          f"{growth / payload:>11.2f}x   {events} events (a phase's own growth moves in whole pages)")
    print("payload: the stored event (pg_column_size(state)); row: with its header and key columns; "
          "table+idx: pg_total_relation_size growth per event (heap, both indexes, TOAST)")


if __name__ == "__main__":
    sys.exit(main())
