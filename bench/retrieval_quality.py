"""Retrieval quality of the memory service on long multi-session conversations: today's pipeline and the
new one (and each switch alone, for the ablation) in the same run, over HTTP.

    git --git-dir=/path/to/REALTALK.git archive HEAD data | tar -x -C /tmp/realtalk   # or a checkout
    python bench/retrieval_quality.py --realtalk /tmp/realtalk/data            # 5 conversations
    python bench/retrieval_quality.py --realtalk /tmp/realtalk/data --conversations 10 --fill 10000

Every exchange is stored through POST /internal/agent-memory/store (one agent per conversation, its own key,
`occurred_at` from the chat), indexed with each pipeline's model, and every question asked through POST
/internal/agent-memory/query (query embedding included; latencies are the client's round trips). R@k: the
share of questions with a memory holding one of their evidence messages among the first k hits
(bench/retrieval_data.py says where the data comes from). Then the same after ANALYZE (the figures must
not move), and query latency with 10k memories in one agent, rerank on and off.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench.keys import bench_key
from bench.retrieval_data import Conversation, Question, realtalk, ukrainian
from bench.retrieval_load import MICRODAO, fill_agent, index_with, store_all
from bench.retrieval_services import (
    BM25,
    DATES,
    E5,
    LATE,
    LATENT_TERMS,
    NAMES,
    NEIGHBOURS,
    RRF10,
    STEMS,
    Pipeline,
    merged,
    serve,
)

# Each step of the new pipeline, in order (README, retrieval, has the figures). Measured before and dropped:
# the exact-cosine rerank (infra/memory/pg_exact_reranker.py; after "+dates" R@5 .743 -> .701), rerank weight 2,
# a 60-candidate rerank, the vector leg x2 or x3, pseudo-relevance feedback, indexing the two turns apart, the
# neighbouring exchanges as extra hits, neighbouring turns in the vector leg, the ms-marco cross-encoder
# (README, retrieval).
STEPS: list[tuple[str, dict[str, Any]]] = [("+e5", E5), ("+stems", STEMS), ("+bm25", BM25), ("+rrf k10", RRF10), ("+names", NAMES),
         ("+dates", DATES), ("+neighbours", NEIGHBOURS), ("+late rerank", LATE), ("+latent terms", LATENT_TERMS)]
PIPELINES = [Pipeline("today", {})] + [
    Pipeline("new" if index == len(STEPS) - 1 else name, merged(*(overlay for _, overlay in STEPS[: index + 1])))
    for index, (name, _) in enumerate(STEPS)]  # "new": every step, the last one too
NEW = PIPELINES[-1]
NO_RERANK = Pipeline("new, rerank off", merged(NEW.overlay, {"retrieval": {"rerank": {"enabled": False}}}))
KS = (1, 5, 10)


class Corpus:
    def __init__(self, conversation: Conversation, agent_id: str, key: str, holders: dict[str, set[str]]) -> None:
        self.conversation, self.agent_id, self.key, self.holders = conversation, agent_id, key, holders


async def ask(client: httpx.AsyncClient, key: str, question: Question, holders: dict[str, set[str]]) -> tuple[int, float]:
    """The rank (1-based; 0: not in the first 10) of the first hit holding evidence, and the round trip."""
    wanted = set().union(*(holders.get(evidence, set()) for evidence in question.evidence))
    started = time.perf_counter()
    response = await client.post("/internal/agent-memory/query", headers={"Authorization": f"Bearer {key}"},
                                 json={"query": question.text, "limit": 10, "tiers": ["mid"]})
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    ids = [hit["id"] for hit in response.json()["memories"]]
    return next((rank for rank, found in enumerate(ids, 1) if found in wanted), 0), elapsed


async def evaluate(urls: dict[str, str], corpora: list[Corpus]) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """Results by pipeline, then by question category; pipelines take turns on each question, so drift on a
    shared machine hits them alike."""
    results: dict[str, dict[str, list[tuple[int, float]]]] = {name: {} for name in urls}
    clients = {name: httpx.AsyncClient(base_url=url, timeout=60) for name, url in urls.items()}
    try:
        for corpus in corpora:
            for question in corpus.conversation.questions:
                for name, client in clients.items():
                    found = await ask(client, corpus.key, question, corpus.holders)
                    results[name].setdefault(question.category, []).append(found)
    finally:
        for client in clients.values():
            await client.aclose()
    return results


def report(title: str, results: dict[str, dict[str, list[tuple[int, float]]]], groups: dict[str, list[str]]) -> None:
    print(f"\n{title}")
    print(f"{'pipeline':<26}{'part':<16}{'n':>5}{'R@1':>7}{'R@5':>7}{'R@10':>7}{'p50 ms':>9}{'p99 ms':>9}")
    for name, by_category in results.items():
        for group, categories in groups.items():
            found = [item for category in categories for item in by_category.get(category, [])]
            if not found:
                continue
            recall = [sum(1 for rank, _ in found if 0 < rank <= k) / len(found) for k in KS]
            latencies = sorted(seconds * 1000 for _, seconds in found)
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
            print(f"{name:<26}{group:<16}{len(found):>5}" + "".join(f"{value:>7.3f}" for value in recall)
                  + f"{statistics.median(latencies):>9.1f}{p99:>9.1f}")


async def load(urls: dict[str, str], url: str, conversations: list[Conversation]) -> list[Corpus]:
    corpora = []
    for conversation in conversations:
        agent_id = f"agent:{conversation.name.lower()}"
        key = await bench_key(url, agent_id, MICRODAO)
        holders = await store_all(urls["today"], key, conversation)
        corpora.append(Corpus(conversation, agent_id, key, holders))
    return corpora


async def latency_at_scale(url: str, urls: dict[str, str], corpora: list[Corpus], total: int, rounds: int) -> None:
    import asyncpg

    agent_id = f"agent:fill-{total}"
    key = await bench_key(url, agent_id, MICRODAO)
    connection = await asyncpg.connect(url)
    sources = [str(row["id"]) for row in await connection.fetch(
        "SELECT id FROM memory_items WHERE agent_id = ANY($1::text[]) ORDER BY id",
        [corpus.agent_id for corpus in corpora])]
    await connection.close()
    await fill_agent(url, agent_id, sources, total)
    questions = [question for corpus in corpora for question in corpus.conversation.questions][:200]
    print(f"\nquery latency, {total} memories in one agent, {len(questions)} questions x {rounds} rounds "
          "(median of the rounds' p50 and p99; round trips over HTTP, query embedding included)")
    per_round: dict[str, list[tuple[float, float]]] = {name: [] for name in urls}
    clients = {name: httpx.AsyncClient(base_url=u, timeout=60) for name, u in urls.items()}
    for _ in range(rounds):
        times: dict[str, list[float]] = {name: [] for name in urls}
        for question in questions:
            for name, client in clients.items():
                times[name].append((await ask(client, key, question, {}))[1] * 1000)
        for name, values in times.items():
            values.sort()
            per_round[name].append((statistics.median(values), values[int(len(values) * 0.99)]))
    for client in clients.values():
        await client.aclose()
    for name, figures in per_round.items():
        print(f"{name:<26}p50 {statistics.median(f[0] for f in figures):7.1f} ms   "
              f"p99 {statistics.median(f[1] for f in figures):7.1f} ms")


async def run(args: argparse.Namespace) -> int:
    from infra.platform import db, migrations

    url = db.database_url()
    migrations.upgrade(url)
    conversations = realtalk(Path(args.realtalk))[: args.conversations] if args.realtalk else []
    distractors = conversations[0].exchanges if conversations else []
    bilingual = [ukrainian("en"), ukrainian("uk")]
    for part in bilingual:  # the same English chat in both agents' memory: only the answers' language differs
        part.exchanges = distractors + part.exchanges
    pipelines = [PIPELINES[0], NEW] if args.quick else PIPELINES
    print(f"retrieval bench: {len(conversations)} REALTALK conversations "
          f"({sum(len(c.exchanges) for c in conversations)} exchanges, {sum(len(c.questions) for c in conversations)} "
          f"questions), {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (shared machine: "
          "latencies are inflated by other work)")
    os.environ["DATABASE_URL"] = url  # the services in this process use the bench's database
    with serve([*pipelines, NO_RERANK]) as urls:
        started = time.monotonic()
        corpora = await load(urls, url, conversations + bilingual)
        print(f"stored through the API in {time.monotonic() - started:.0f} s")
        # e5 vectors, and beside them the late-interaction token vectors and the latent terms
        for overlay in ({}, merged(E5, LATE, LATENT_TERMS)):
            started = time.monotonic()
            indexed = await index_with(url, overlay)
            print(f"indexed {indexed} items with {overlay or 'MiniLM'} in {time.monotonic() - started:.0f} s")
        queried = {name: u for name, u in urls.items() if name != NO_RERANK.name}
        groups = {"realtalk": ["realtalk-1", "realtalk-2", "realtalk-3"], "multi-hop (1)": ["realtalk-1"],
                  "temporal (2)": ["realtalk-2"], "open (3)": ["realtalk-3"], "ua: English": ["ua-en"],
                  "ua: Ukrainian": ["ua-uk"], "ua: cross-ling": ["cross-lingual"]}
        report("before ANALYZE", await evaluate(queried, corpora), groups)
        import asyncpg

        connection = await asyncpg.connect(url)
        await connection.execute("ANALYZE memory_items; ANALYZE memory_chunks; ANALYZE memory_embeddings")
        await connection.close()
        report("after ANALYZE (must equal the figures above)", await evaluate(queried, corpora),
               {"realtalk": groups["realtalk"], "ua: Ukrainian": ["ua-uk"]})
        if args.fill and conversations:
            chosen = {name: urls[name] for name in ("today", "new", NO_RERANK.name)}
            await latency_at_scale(url, chosen, corpora[: len(conversations)], args.fill, args.rounds)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--realtalk", help="directory with REALTALK's Chat_*.json (its data/ folder)")
    parser.add_argument("--conversations", type=int, default=5)
    parser.add_argument("--fill", type=int, default=10_000, help="memories of the latency agent (0: skip)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="today's and the new pipeline only (no ablation)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if os.environ.get("DATABASE_URL"):
        return asyncio.run(run(args))
    # Removed at exit after the embedded server's own exit handler (atexit runs handlers last-in, first-out).
    data_dir = tempfile.mkdtemp(prefix="daarion-retrieval-")
    atexit.register(shutil.rmtree, data_dir, True)
    os.environ["DAARION_DATA_DIR"] = data_dir
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
