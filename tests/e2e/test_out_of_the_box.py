"""The out-of-the-box flow, as a person runs it on a fresh machine: `daarion up`, then `daarion chat
agent:sofia "..."` from another shell, with no manual step in between (no key to create, copy or export).

It runs the real commands as processes on the stack's own ports (7006-7011) with a fresh home, so the
embedded database, the keys file and everything else are made from nothing.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import REPO, wait_until

PORTS = (7006, 7007, 7008, 7009, 7010, 7011)


def _free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture(scope="module")
def fresh_home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = Path(tmp_path_factory.mktemp("home"))
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("DAARION_") and key not in ("DATABASE_URL",)}
    return {**env, "HOME": str(home), "XDG_DATA_HOME": str(home / ".local" / "share")}


@pytest.fixture(scope="module")
def stack_up(fresh_home: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    busy = [port for port in PORTS if not _free(port)]
    if busy:
        pytest.fail(f"ports {busy} are taken; `daarion up` needs 7006-7011")
    log = Path(tmp_path_factory.mktemp("up")) / "up.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "apps.cli", "up"], env=fresh_home, cwd=REPO,
                                   stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: b"stack is up" in log.read_bytes() or process.poll() is not None, timeout=600,
                       interval=0.5)
            assert process.poll() is None, log.read_text()
            yield log.read_text().splitlines()
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)


def test_up_prints_the_new_keys_once_and_keeps_them_readable_only_by_their_owner(
    stack_up: list[str], fresh_home: dict[str, str],
) -> None:
    keys_file = Path(fresh_home["XDG_DATA_HOME"]) / "daarion" / "keys.json"
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    printed = "\n".join(stack_up)
    assert "admin" in printed and "agent:sofia" in printed and "dk_" in printed


def test_chat_with_sofia_works_with_no_manual_step(stack_up: list[str], fresh_home: dict[str, str]) -> None:
    chat = subprocess.run([sys.executable, "-m", "apps.cli", "chat", "agent:sofia", "Привіт, Софіє!"],
                          env=fresh_home, cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    assert chat.returncode == 0, chat.stdout + chat.stderr
    assert chat.stdout.strip()
    assert "401" not in chat.stdout and "unauthenticated" not in chat.stdout


def test_the_console_is_up_and_the_printed_admin_key_signs_in_with_a_secret_made_for_this_install(
    stack_up: list[str], fresh_home: dict[str, str],
) -> None:
    data = Path(fresh_home["XDG_DATA_HOME"]) / "daarion"
    secret = data / "console_secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and secret.read_text().strip() not in "\n".join(stack_up)
    admin = json.loads((data / "keys.json").read_text())["admin"]
    with httpx.Client(base_url="http://127.0.0.1:7011", timeout=30) as client:
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
        assert token is not None
        signed_in = client.post("/login", data={"csrf": token.group(1), "key": admin})
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/spend"
        spend = client.get("/spend")
        assert spend.status_code == 200 and "Totals by agent" in spend.text
