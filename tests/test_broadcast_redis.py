"""app.broadcast on Redis, for real: a ``redis-server`` on 127.0.0.1 (a
free port) and uvicorn subprocesses sharing it, as two machines or two
workers would. It needs Debian's ``redis-server`` (``.ci/run`` installs
it): without it these tests fail, saying so; they are never skipped."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
import websockets

from tests.conftest import free_port

HERE = Path(__file__).resolve().parent
WAIT = 15.0


class RedisServer:
    """``redis-server`` on 127.0.0.1, no persistence; stop and start it again."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail(
                "The Redis broadcast tests need redis-server: `sudo apt-get install -y "
                "redis-server` (.ci/run installs it when run as root).",
                pytrace=False,
            )
        self.binary = binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Served:
    """The test app under uvicorn in a subprocess, its log in a file."""

    def __init__(self, redis_url: str, log: Path, *, workers: int = 1) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {
            **os.environ,
            "FLASK_BROADCAST_URL": redis_url,
            "PYTHONPATH": os.pathsep.join([str(HERE / "broadcast_apps"), str(HERE.parent)]),
        }
        with log.open("wb") as output:  # the child keeps its own copy
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "pubsub:app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--workers",
                    str(workers),
                    "--log-level",
                    "warning",
                ],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + WAIT
        while True:
            try:
                if httpx.get(self.url + "/connected", timeout=1).text == "yes":
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"the app did not start: {log.read_text()}")
            time.sleep(0.1)

    def publish(self, text: str) -> httpx.Response:
        return httpx.post(self.url + "/pub", content=text, timeout=WAIT)

    def ws(self, path: str = "/sub") -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(WAIT)
        except subprocess.TimeoutExpired:  # pragma: no cover
            self.process.kill()
            self.process.wait()


@pytest.fixture
def serve(
    redis_server: RedisServer,
    tmp_path: Path,
) -> Iterator[Callable[..., Served]]:
    started: list[Served] = []

    def start(workers: int = 1) -> Served:
        served = Served(redis_server.url, tmp_path / f"server{len(started)}.log", workers=workers)
        started.append(served)
        return served

    try:
        yield start
    finally:
        for served in started:
            served.stop()


def run(coro: object) -> object:
    return asyncio.run(asyncio.wait_for(coro, WAIT * 2))  # type: ignore[arg-type]


def test_a_message_published_on_one_server_reaches_a_subscriber_on_the_other(
    serve: Callable[..., Served],
) -> None:
    one, two = serve(), serve()

    async def scenario() -> None:
        async with (
            websockets.connect(one.ws()) as on_one,
            websockets.connect(two.ws("/sub-def")) as on_two,
        ):
            assert str(await on_one.recv()).startswith("ready")
            assert str(await on_two.recv()).startswith("ready")
            assert (await asyncio.to_thread(one.publish, "from one")).text == "sent"
            assert await on_two.recv() == await on_one.recv() == "from one"
            assert (await asyncio.to_thread(two.publish, "from two")).text == "sent"
            assert await on_one.recv() == await on_two.recv() == "from two"

    run(scenario())


def test_two_workers_of_one_server_share_the_channel(serve: Callable[..., Served]) -> None:
    served = serve(workers=2)

    async def scenario() -> None:
        sockets, pids = [], set()
        try:
            # Connections land on either worker (the second may still be
            # starting): open until both have some.
            deadline = time.monotonic() + WAIT
            while len(pids) < 2 and time.monotonic() < deadline:
                ws = await websockets.connect(served.ws())
                sockets.append(ws)
                pids.add(str(await ws.recv()).split()[1])
                await asyncio.sleep(0.05)
            assert len(pids) == 2, "every connection went to one worker"
            assert (await asyncio.to_thread(served.publish, "to all")).text == "sent"
            for ws in sockets:
                assert await ws.recv() == "to all"
        finally:
            for ws in sockets:
                await ws.close()

    run(scenario())


def test_redis_stopped_and_restarted_publishers_fail_subscribers_come_back(
    serve: Callable[..., Served],
    redis_server: RedisServer,
) -> None:
    one, two = serve(), serve()

    async def scenario() -> None:
        async with websockets.connect(two.ws()) as on_two:
            assert str(await on_two.recv()).startswith("ready")
            await asyncio.to_thread(redis_server.stop)
            down = await asyncio.to_thread(one.publish, "lost")
            assert down.status_code == 503
            assert "Redis at 127.0.0.1" in down.text and "cannot be reached" in down.text
            # The rest of the app goes on working meanwhile.
            assert (await asyncio.to_thread(httpx.get, one.url + "/connected")).text == "no"
            await asyncio.to_thread(redis_server.start)
            deadline = time.monotonic() + WAIT
            while (await asyncio.to_thread(httpx.get, two.url + "/connected")).text != "yes":
                assert time.monotonic() < deadline, "the subscriber did not reconnect"
                await asyncio.sleep(0.1)
            assert (await asyncio.to_thread(one.publish, "back")).text == "sent"
            assert await on_two.recv() == "back"  # the lost message never arrives

    run(scenario())
    log = two.log.read_text()
    assert log.count("lost the connection to Redis") == 1, log
    assert log.count("is back; resubscribed to 1 channel(s)") == 1, log
