"""The chat across two servers (or workers) sharing a Redis: ada talks to
one uvicorn, bob to another, and they are in one room. It needs Debian's
``redis-server`` (``.ci/run`` installs it); without it the test fails,
saying so: it is never skipped."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
import websockets
from conftest import free_port

CHAT = Path(__file__).resolve().parent.parent
WAIT = 15.0


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


@pytest.fixture
def redis_url() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "This test needs redis-server: `sudo apt-get install -y redis-server` "
            "(.ci/run installs it when run as root).",
            pytrace=False,
        )
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, process)
        yield f"redis://127.0.0.1:{port}"
    finally:
        process.kill()
        process.wait()


@pytest.fixture
def two_servers(redis_url: str) -> Iterator[list[int]]:
    """The chat factory under two uvicorn processes sharing *redis_url*."""
    env = {**os.environ, "FLASK_BROADCAST_URL": redis_url, "FLASK_SECRET_KEY": "shared"}
    ports, processes = [free_port(), free_port()], []
    try:
        for port in ports:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--app-dir",
                    str(CHAT),
                    "--factory",
                    "chat:create_app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                ],
                env=env,
            )
            processes.append(process)
            _wait_for_port(port, process)
        yield ports
    finally:
        for process in processes:
            process.terminate()
            process.wait(WAIT)


def _cookie(port: int, name: str) -> str:
    response = httpx.post(f"http://127.0.0.1:{port}/login", data={"name": name}, timeout=WAIT)
    assert response.status_code == 302, response.text
    return f"session={response.cookies['session']}"


def test_ada_and_bob_on_two_servers_chat_in_one_room(two_servers: list[int]) -> None:
    one, two = two_servers
    ada_cookie, bob_cookie = _cookie(one, "ada"), _cookie(two, "bob")

    async def scenario() -> None:
        async def line(ws: websockets.ClientConnection) -> str:
            message = json.loads(await ws.recv())
            user, text = message["user"], message["text"]
            return str(text if user is None else f"{user}: {text}")

        async with websockets.connect(
            f"ws://127.0.0.1:{one}/ws", additional_headers={"Cookie": ada_cookie}
        ) as ada:
            assert await line(ada) == "ada joined"
            async with websockets.connect(
                f"ws://127.0.0.1:{two}/ws-sync", additional_headers={"Cookie": bob_cookie}
            ) as bob:
                assert await line(bob) == await line(ada) == "bob joined"
                await ada.send("hello bob")
                assert await line(bob) == await line(ada) == "ada: hello bob"
                await bob.send("hi ada")
                assert await line(ada) == await line(bob) == "bob: hi ada"
            assert await line(ada) == "bob left"

    asyncio.run(asyncio.wait_for(scenario(), WAIT * 2))
