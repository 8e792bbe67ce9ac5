"""Broadcast fan-out over loopback: one publisher, *subscribers* websocket
connections relaying one channel (``app.broadcast``), on the Redis backend
with two uvicorn workers, against the memory backend in one process.

The publisher POSTs *messages* messages, one after another, each carrying
its ``time.monotonic()``; every subscriber records when each arrives. It
reports deliveries per second (messages x subscribers, over the time from
the first publish to the last delivery) and the p50/p99 latency from
publish to receive. ``python -m benchmarks.fanout [--smoke]``; it needs
``redis-server`` (Debian's package) on the PATH.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["FanoutResult", "fanout"]

ROOT = Path(__file__).resolve().parent.parent
WAIT = 30.0


@dataclass
class FanoutResult:
    backend: str
    workers: int
    subscribers: int
    messages: int
    deliveries: int
    deliveries_per_second: float
    p50_ms: float
    p99_ms: float


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


@contextmanager
def _redis() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("the fan-out benchmark needs redis-server: apt-get install redis-server")
    port = _port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait(port, process)
        yield f"redis://127.0.0.1:{port}"
    finally:
        process.kill()
        process.wait()


@contextmanager
def _served(url: str, workers: int, queue: int, python: str) -> Iterator[int]:
    port = _port()
    env = {
        **os.environ,
        "FLASK_BROADCAST_URL": url,
        "FLASK_BROADCAST_QUEUE_SIZE": str(queue),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "benchmarks" / "apps"), str(ROOT)]),
    }
    process = subprocess.Popen(
        [
            python,
            "-m",
            "uvicorn",
            "fanout_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--backlog",
            "4096",
        ],
        env=env,
    )
    try:
        _wait(port, process)
        time.sleep(0.5 * workers)  # every worker up, not only the first
        yield port
    finally:
        process.terminate()
        process.wait(WAIT)


async def _run(port: int, subscribers: int, messages: int) -> tuple[int, list[float], float]:
    import httpx2 as httpx
    import websockets

    latencies: list[float] = []
    last = [0.0]

    async def subscriber(ws: websockets.ClientConnection) -> None:
        for _ in range(messages):
            sent = float(await ws.recv())
            now = time.monotonic()
            latencies.append(now - sent)
            last[0] = max(last[0], now)

    sockets = []
    opening = asyncio.Semaphore(100)

    async def connect() -> websockets.ClientConnection:
        async with opening:
            ws = await websockets.connect(
                f"ws://127.0.0.1:{port}/sub", max_queue=None, ping_interval=None
            )
            assert await ws.recv() == "ready"
            return ws

    sockets = await asyncio.gather(*(connect() for _ in range(subscribers)))
    readers = [asyncio.create_task(subscriber(ws)) for ws in sockets]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        started = time.monotonic()
        for _ in range(messages):
            response = await client.post("/pub", content=repr(time.monotonic()))
            response.raise_for_status()
        await asyncio.wait_for(asyncio.gather(*readers), WAIT)
    for ws in sockets:
        await ws.close()
    return len(latencies), latencies, last[0] - started


def fanout(
    backend: str, subscribers: int, messages: int, python: str = sys.executable
) -> FanoutResult:
    """One run: ``backend`` is ``"redis"`` (two workers) or ``"memory"`` (one)."""
    workers = 2 if backend == "redis" else 1
    queue = messages + 10  # nothing dropped: every delivery is timed

    def measure(url: str) -> FanoutResult:
        with _served(url, workers, queue, python) as port:
            delivered, latencies, seconds = asyncio.run(_run(port, subscribers, messages))
        latencies.sort()
        return FanoutResult(
            backend,
            workers,
            subscribers,
            messages,
            delivered,
            delivered / seconds,
            latencies[len(latencies) // 2] * 1000,
            latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        )

    if backend == "redis":
        with _redis() as url:
            return measure(url)
    return measure("memory://")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="10 subscribers, 5 messages")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()
    subscribers, messages = (10, 5) if args.smoke else (args.subscribers, args.messages)
    results = [fanout(name, subscribers, messages) for name in ("memory", "redis")]
    for result in results:
        print(json.dumps(asdict(result)))
    memory, redis = results
    ratio = redis.deliveries_per_second / memory.deliveries_per_second
    print(
        f"fan-out, {subscribers} subscribers x {messages} messages: redis (2 workers) "
        f"{redis.deliveries_per_second:,.0f} deliveries/s, p99 {redis.p99_ms:.1f} ms; "
        f"memory (1 process) {memory.deliveries_per_second:,.0f}/s, p99 {memory.p99_ms:.1f} "
        f"ms; ratio redis/memory {ratio:.2f}"
    )


if __name__ == "__main__":
    main()
