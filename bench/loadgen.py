"""A small, fast HTTP/1.1 load generator (keep-alive connections over raw asyncio streams).

Python HTTP clients cost more CPU per request than the servers measured here, so this one speaks just
enough HTTP/1.1 (content-length and chunked bodies) to keep the load generator out of the figures.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from urllib.parse import urlsplit

import msgspec


class Result(msgspec.Struct):
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    headers = head.lower()
    if b"transfer-encoding: chunked" in headers:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                return status
    start = headers.index(b"content-length:") + 15
    length = int(headers[start:headers.index(b"\r\n", start)])
    await reader.readexactly(length)
    return status


async def run_load(url: str, body: bytes, concurrency: int, seconds: float, warmup: float = 0.5,
                   headers: dict[str, str] | None = None) -> Result:
    parts = urlsplit(url)
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    request = (f"POST {parts.path} HTTP/1.1\r\nhost: {parts.netloc}\r\ncontent-type: application/json\r\n"
               f"content-length: {len(body)}\r\n{extra}\r\n").encode() + body
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + seconds

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            while True:
                sent = time.perf_counter()
                if sent >= stop_at:
                    return
                writer.write(request)
                status = await _read_response(reader)
                done = time.perf_counter()
                if sent >= measure_from:
                    latencies.append(done - sent)
                    errors += status != 200
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    latencies.sort()
    if not latencies:
        return Result(0, errors, seconds, float("nan"), float("nan"))
    return Result(
        requests=len(latencies), errors=errors, seconds=seconds,
        p50_ms=statistics.median(latencies) * 1000,
        p99_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    )
