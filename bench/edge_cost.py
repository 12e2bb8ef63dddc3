"""What the edge (apps/common/edge.py) costs per request: the proxy's chat body type behind a bare Litestar app,
and behind the edge (EdgeApp + EdgeRequest), called in-process through ASGI in alternating rounds, so only the
edge differs. CPU microseconds per request, best of the rounds, for bodies a proxy sees.

    python bench/edge_cost.py
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from litestar import Litestar, post
from litestar.params import JSONBody

from apps.common.edge import DEFAULT_BODY_BYTES, LARGE_BODY_BYTES, EdgeApp, EdgeRequest
from apps.llm_proxy.schemas import ProxyRequest

ROUNDS = 5
# The edge must stay a small share of the proxy's ~700 us of CPU per request: 10 us, and 5 us per KB beyond 2 KB.
TARGET_ADDED_US, TARGET_ADDED_US_PER_KB = 10.0, 5.0


@post("/internal/llm/proxy", status_code=200, sync_to_thread=False, request_max_body_size=LARGE_BODY_BYTES)
def chat(data: JSONBody[ProxyRequest]) -> dict[str, int]:
    return {"messages": len(data.messages)}


def bodies() -> dict[str, bytes]:
    tool = {"type": "function", "function": {"name": "get_weather", "description": "The weather in a city.",
            "parameters": {"type": "object", "required": ["city"], "properties": {
                "city": {"type": "string"}, "units": {"type": "string", "enum": ["c", "f"]}}}}}
    system = {"role": "system", "content": "You are Sofia.\nRemembered:\n" + "- a fact worth keeping\n" * 60}
    turns = [{"role": "user" if n % 2 else "assistant", "content": f"turn {n}\nwith two lines"} for n in range(10)]
    shapes = {
        "one short message": {"model": "gpt", "messages": [{"role": "user", "content": "hello, how are you?"}]},
        "agent turn, 10 tools": {"model": "gpt", "messages": [system, *turns], "tools": [tool] * 10},
        "100 KB document in a message": {"model": "gpt", "messages": [
            {"role": "user", "content": "Summarise:\n" + "a line of a long document\n" * 4000}]},
    }
    return {name: json.dumps(shape).encode() for name, shape in shapes.items()}


async def cpu_us(app: Any, body: bytes, calls: int) -> float:
    scope = {"type": "http", "http_version": "1.1", "method": "POST", "scheme": "http", "root_path": "",
             "path": "/internal/llm/proxy", "raw_path": b"/internal/llm/proxy", "query_string": b"",
             "server": ("127.0.0.1", 7007), "client": ("127.0.0.1", 50000),
             "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                         (b"content-length", str(len(body)).encode())]}
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    started = time.process_time()
    for _ in range(calls):
        await app(dict(scope), receive, send)
    elapsed = time.process_time() - started
    assert set(statuses) == {200}, statuses[:3]
    return elapsed / calls * 1e6


async def main() -> int:
    bare = Litestar([chat], openapi_config=None)
    edge = EdgeApp([chat], request_class=EdgeRequest, request_max_body_size=DEFAULT_BODY_BYTES, openapi_config=None)
    failed = False
    print(f"{'body':<30} {'bytes':>7} {'bare us':>8} {'edge us':>8} {'added':>7}")
    for name, body in bodies().items():
        calls = max(200, 2_000_000 // len(body))
        best = {"bare": float("inf"), "edge": float("inf")}
        for _ in range(ROUNDS):
            best["bare"] = min(best["bare"], await cpu_us(bare, body, calls))
            best["edge"] = min(best["edge"], await cpu_us(edge, body, calls))
        added = best["edge"] - best["bare"]
        budget = TARGET_ADDED_US + TARGET_ADDED_US_PER_KB * max(len(body) / 1024 - 2, 0)
        failed |= added > budget
        print(f"{name:<30} {len(body):>7} {best['bare']:>8.1f} {best['edge']:>8.1f} {added:>+7.1f}"
              f"{'  OVER ' + f'{budget:.0f} us' if added > budget else ''}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
