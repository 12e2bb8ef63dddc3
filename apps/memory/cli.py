"""`daarion memory worker | reindex | status` (also runnable alone: `python -m apps.memory.cli ...`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import Any

import msgspec

from apps.memory.container import MemoryContainer, open_memory
from apps.memory.progress import ProgressBar
from apps.memory.settings import load_memory_settings
from domain.memory.queue import BatchReport
from infra.memory.pg_pool import open_memory_pool
from infra.memory.pg_sql import retry_conflicts
from infra.memory.pg_status import MemoryStatus, memory_status

log = logging.getLogger("daarion.memory")


def register(subparsers: Any) -> None:
    memory = subparsers.add_parser("memory", help="memory orchestrator: indexing workers, reindex, status")
    actions = memory.add_subparsers(dest="memory_command", required=True)

    worker = actions.add_parser("worker", help="run an indexing worker process (SIGTERM or Ctrl-C stops it)")
    worker.add_argument("--batch-items", type=int, help="override indexing.batch_items")
    worker.add_argument("--lease-seconds", type=float, help="override indexing.lease_seconds")
    worker.add_argument("--verbose", action="store_true", help="log the id of every item indexed")
    worker.set_defaults(handler=lambda args: _run(_worker(args)))

    reindex = actions.add_parser(
        "reindex", help="embed every memory with the configured model, with a progress bar",
        description="Queues every item lacking a vector of the configured embedder (all items with --force) and "
                    "works the queue until it is empty. New vectors are written beside those of other models, so a "
                    "running service keeps answering queries throughout. Switch the service to the new model "
                    "afterwards, then run reindex once more for anything it stored meanwhile.",
    )
    reindex.add_argument("--force", action="store_true", help="re-embed items that already have vectors of the model")
    reindex.add_argument("--drop-other-models", action="store_true",
                         help="when done, delete vectors of every other model (do this after the switch)")
    reindex.set_defaults(handler=lambda args: _run(_reindex(args)))

    status = actions.add_parser("status", help="items, vectors per model, the indexing queue and its dead letters")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=lambda args: _run(_status(args)))


def _run(work: Any) -> int:
    from apps.cli import prepare_database  # migrates the embedded database, as `daarion serve` does

    prepare_database()
    return int(asyncio.run(work))


async def _worker(args: argparse.Namespace) -> int:
    settings = load_memory_settings()
    overrides = {key: value for key, value in (("batch_items", args.batch_items),
                                               ("lease_seconds", args.lease_seconds)) if value is not None}
    policy = msgspec.structs.replace(settings.indexing, **overrides)
    if args.verbose:
        logging.getLogger("domain.memory.indexing").setLevel(logging.DEBUG)
    async with open_memory(settings) as runtime:
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        worker = runtime.worker(policy)
        log.info("memory worker %s started: model %s, batches of %d, lease %.0f s", worker.worker_id,
                 runtime.embedder.model, policy.batch_items, policy.lease_seconds)
        await worker.run(stop)
    return 0


async def _reindex(args: argparse.Namespace) -> int:
    async with open_memory(load_memory_settings()) as runtime:
        model = runtime.embedder.model
        queued = await runtime.queue.enqueue_all(model, args.force)
        total = await _pending(runtime)
        print(f"reindex with {model} ({runtime.embedder.dimensions} dimensions): {queued} items queued, "
              f"{total} to embed", file=sys.stderr)
        bar = ProgressBar(total, sys.stderr, "reindex ")
        finished = 0

        def advance(report: BatchReport) -> None:
            nonlocal finished
            finished += report.indexed + report.dead
            bar.update(finished)

        worker = runtime.worker(on_batch=advance)
        while pending := await _pending(runtime):
            bar.update(total - pending)  # counts what other workers did too
            if not await worker.drain():  # the rest is held by other workers or waiting out a backoff
                await asyncio.sleep(runtime.settings.indexing.poll_seconds)
        bar.update(total)
        bar.close()
        if args.drop_other_models:
            status = await retry_conflicts(  # a worker may still be completing jobs of an old model
                "dropping other models' vectors",
                lambda: runtime.pool.execute("DELETE FROM memory_embeddings WHERE model <> $1", model))
            print(f"dropped {status.split()[-1]} vectors of other models", file=sys.stderr)
        dead = sum(entry.dead for entry in await runtime.queue.stats() if entry.model == model)
        if dead:
            print(f"{dead} items are dead-lettered; see `daarion memory status`", file=sys.stderr)
        return 1 if dead else 0


async def _pending(runtime: MemoryContainer) -> int:
    return sum(entry.pending for entry in await runtime.queue.stats() if entry.model == runtime.embedder.model)


async def _status(args: argparse.Namespace) -> int:
    from infra.platform.db import database_url

    settings = load_memory_settings()
    pool = await open_memory_pool(database_url(), size=2, ef_search=settings.search.hnsw_ef_search)
    try:
        status = await memory_status(pool)
    finally:
        await pool.close()
    print(msgspec.json.encode(status).decode() if args.json else _render(status))
    return 0


def _render(status: MemoryStatus) -> str:
    items = ", ".join(f"{tier} {count}" for tier, count in status.items.items()) or "none"
    lines = [f"items: {items} ({status.chunks} chunks)", "vectors:"]
    lines += [f"  {model}: {count}" for model, count in status.vectors.items()] or ["  none"]
    lines.append("indexing queue (pending / in flight / dead / oldest pending):")
    lines += [f"  {q.model}: {q.pending} / {q.in_flight} / {q.dead} / {q.oldest_pending_age_seconds:.1f} s"
              for q in status.queue] or ["  empty"]
    if status.dead_letters:
        lines.append("dead letters (latest first):")
        lines += [f"  job {d.job_id} item {d.item_id} ({d.model}, {d.attempts} attempts): {d.error}"
                  for d in status.dead_letters]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apps.memory.cli")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["memory", *(sys.argv[1:] if argv is None else argv)])
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
