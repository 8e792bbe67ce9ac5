"""Websocket load against one server on 127.0.0.1: echo round trips, and
many idle connections.

wrk speaks no websocket, so the websocket scenarios have a client of their
own, in a process of its own (``python -m benchmarks.websocket_load ...``,
pinned to the CPU wrk would use), which prints a JSON summary:

* ``echo``: *connections* connections, each sending a text message and
  waiting for it to come back, again and again for *seconds* (after every
  connection's handshake): round trips per second, p50/p99 latency of one
  round trip, and the client's own CPU time over the timed window (near
  one CPU second per second, the client and not the server would be the
  limit: the harness then runs more client processes).
* ``idle``: *connections* connections opened (at most 200 handshakes at a
  time: the listen backlog is 2048) and held; the client says ``open N``
  and waits for the harness (which samples the server's memory), then, on
  ``check``, sends one message on every connection and expects every echo,
  so all of them were open and served at once; on ``close`` it closes them.

Each connection is an ``asyncio.Protocol`` around websockets' sans-IO
``ClientProtocol`` (the handshake checked, frames masked and parsed, pings
answered): no reader task and no stream per connection, so one client
process drives far more round trips than the websockets asyncio client (a
task and its queues per connection) would. uvloop when installed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["EchoResult", "IdleResult", "echo_load", "idle_load"]

ROOT = Path(__file__).resolve().parent.parent
#: The echo latency histogram's resolution: 10 µs buckets.
BUCKETS_PER_SECOND = 100_000
#: Handshakes in flight at once while the idle connections are opened.
OPENING = 200


@dataclass
class EchoResult:
    """One echo run (the sum of its client processes)."""

    connections: int
    round_trips: int
    seconds: float
    round_trips_per_second: float
    p50_ms: float
    p99_ms: float
    #: What went wrong -> how often (a wrong echo, a connection lost...).
    errors: dict[str, int]
    client_processes: int = 1
    #: The client processes' CPU seconds per second of the timed window
    #: (they share one CPU: near 1, the client was the limit).
    client_cpu_share: float | None = None
    #: The server's CPU seconds per second of the timed window (near 1: it
    #: was the limit, as it should be).
    server_cpu_share: float | None = None
    #: The server's CPU time per round trip (user + system), in µs.
    server_cpu_us: float | None = None


@dataclass
class IdleResult:
    """One idle run: *connections* opened and held against one server."""

    connections: int
    #: Connections whose handshake succeeded, all open at the same time.
    opened: int
    #: Of those, how many echoed the one message sent once all were open.
    answered: int
    errors: dict[str, int]
    open_seconds: float
    #: Server VmRSS in MB: before the clients connect, with every connection
    #: open and idle, after the one message each, and after they closed.
    rss_before_mb: float | None = None
    rss_idle_mb: float | None = None
    rss_checked_mb: float | None = None
    rss_closed_mb: float | None = None
    threads_idle: int | None = None
    fd_limit: int | None = None

    @property
    def kb_per_connection(self) -> float | None:
        """Server RSS added per open idle connection, in KB."""
        if self.rss_before_mb is None or self.rss_idle_mb is None or not self.opened:
            return None
        return (self.rss_idle_mb - self.rss_before_mb) * 1024 / self.opened


# -- the client (its own process) -------------------------------------------


class _Connection(asyncio.Protocol):
    """One websocket connection: the handshake, then text messages out and
    the frames that come back handed to ``on_message``."""

    def __init__(self, url: str) -> None:
        from websockets.client import ClientProtocol
        from websockets.uri import parse_uri

        self.protocol = ClientProtocol(parse_uri(url))
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.on_message: Callable[[str | bytes], None] = lambda data: None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass
        self.protocol.send_request(self.protocol.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        from websockets.frames import Frame, Opcode
        from websockets.http11 import Response

        protocol = self.protocol
        protocol.receive_data(data)
        for event in protocol.events_received():
            if isinstance(event, Response):
                if protocol.handshake_exc is not None:
                    self._fail(protocol.handshake_exc)
                elif not self.opened.done():
                    self.opened.set_result(None)
            elif not isinstance(event, Frame):
                continue
            elif event.opcode is Opcode.TEXT:
                self.on_message(bytes(event.data).decode())
            elif event.opcode is Opcode.BINARY:
                self.on_message(bytes(event.data))
        self._flush()  # pongs, the answer to a close
        if protocol.close_code is not None or protocol.handshake_exc is not None:
            self._fail(ConnectionError(f"closed by the server ({protocol.close_code})"))

    def send(self, text: str) -> None:
        self.protocol.send_text(text.encode())
        self._flush()

    def close(self) -> None:
        from websockets.protocol import State

        if self.transport is not None and not self.transport.is_closing():
            if self.protocol.state is State.OPEN:
                self.protocol.send_close(1000)
                self._flush()
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(exc or ConnectionError("the connection was closed"))
        if not self.closed.done():
            self.closed.set_result(None)

    def _flush(self) -> None:
        chunks = self.protocol.data_to_send()
        if chunks and self.transport is not None:
            data = b"".join(chunks)
            if data:
                self.transport.write(data)

    def _fail(self, error: BaseException) -> None:
        if not self.opened.done():
            self.opened.set_exception(error)
        self.on_message = _ignore


def _ignore(data: str | bytes) -> None:
    """What a closed connection does with a late message."""


async def _open(url: str, host: str, port: int) -> _Connection:
    loop = asyncio.get_running_loop()
    _, connection = await loop.create_connection(lambda: _Connection(url), host, port)
    await asyncio.wait_for(connection.opened, 30)
    return connection


async def _open_many(url: str, count: int) -> tuple[list[_Connection], dict[str, int]]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    gate = asyncio.Semaphore(OPENING)
    errors: dict[str, int] = {}

    async def one() -> _Connection | None:
        async with gate:
            try:
                return await _open(url, host, port)
            except (OSError, TimeoutError, ConnectionError) as error:
                name = type(error).__name__
                errors[name] = errors.get(name, 0) + 1
                return None

    opened = await asyncio.gather(*(one() for _ in range(count)))
    return [c for c in opened if c is not None], errors


async def _stdin() -> asyncio.StreamReader:
    """The harness's commands, one a line."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


async def _echo(url: str, connections: int, seconds: float, message: str) -> None:
    commands = await _stdin()
    opened, errors = await _open_many(url, connections)
    _say({"ready": len(opened), "errors": errors})
    if (await commands.readline()).strip() != b"go" or errors:
        for connection in opened:
            connection.close()
        return
    latencies: list[float] = []
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    state = {"running": len(opened), "wrong": 0}
    clock = time.perf_counter

    def start(connection: _Connection, deadline: float) -> None:
        sent = [0.0]

        def on_message(data: str | bytes) -> None:
            now = clock()
            if data != message:
                state["wrong"] += 1
            latencies.append(now - sent[0])
            if now < deadline:
                sent[0] = clock()
                connection.send(message)
                return
            state["running"] -= 1
            if not state["running"] and not done.done():
                done.set_result(None)

        connection.on_message = on_message
        sent[0] = clock()
        connection.send(message)

    cpu_before, started = time.process_time(), clock()
    deadline = started + seconds
    for connection in opened:
        start(connection, deadline)
    lost = [connection.closed for connection in opened]
    await asyncio.wait([done, *lost], return_when=asyncio.FIRST_COMPLETED, timeout=seconds + 30)
    wall, cpu = clock() - started, time.process_time() - cpu_before
    for connection in opened:
        connection.close()
    histogram: dict[int, int] = {}
    for latency in latencies:
        bucket = int(latency * BUCKETS_PER_SECOND)
        histogram[bucket] = histogram.get(bucket, 0) + 1
    problems = {"wrong echo": state["wrong"], "lost": state["running"] if not done.done() else 0}
    _say(
        {
            "round_trips": len(latencies),
            "seconds": wall,
            "histogram": histogram,
            "errors": {what: n for what, n in problems.items() if n},
            "cpu_s": cpu,
        }
    )


async def _idle(url: str, connections: int, message: str) -> None:
    commands = await _stdin()
    started = time.perf_counter()
    opened, errors = await _open_many(url, connections)
    _say({"opened": len(opened), "errors": errors, "open_seconds": time.perf_counter() - started})
    while True:
        command = (await commands.readline()).decode().strip()
        if command == "check":
            answered = await _check(opened, message)
            _say({"answered": answered})
        else:  # "close", or the harness went away
            for connection in opened:
                connection.close()
            await asyncio.wait([c.closed for c in opened], timeout=30)
            _say({"closed": len(opened)})
            return


async def _check(opened: list[_Connection], message: str) -> int:
    """Send *message* on every connection at once; how many echoed it."""
    answers: list[asyncio.Future[bool]] = []
    for connection in opened:
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def on_message(data: str | bytes, answer: asyncio.Future[bool] = answer) -> None:
            if not answer.done():
                answer.set_result(data == message)

        connection.on_message = on_message
        connection.send(message)
        answers.append(answer)
    await asyncio.wait(answers, timeout=30)
    return sum(1 for a in answers if a.done() and not a.cancelled() and a.result())


def _say(line: dict[str, Any]) -> None:
    print(json.dumps(line), flush=True)


def main() -> None:
    from .streams import raise_fd_limit

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=["echo", "idle"])
    parser.add_argument("url", help="the websocket's URL, on 127.0.0.1")
    parser.add_argument("--connections", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=2.0, help="echo: how long")
    parser.add_argument("--message", required=True, help="the text message to echo")
    args = parser.parse_args()
    if not args.url.startswith("ws://127.0.0.1:"):
        parser.error("websockets are only opened to ws://127.0.0.1")
    raise_fd_limit()
    try:
        import uvloop
    except ImportError:
        run = asyncio.run
    else:
        run = uvloop.run
    if args.mode == "echo":
        run(_echo(args.url, args.connections, args.seconds, args.message))
    else:
        run(_idle(args.url, args.connections, args.message))


# -- the harness side ---------------------------------------------------------


class _Client:
    """A client process, told what to do on its stdin; it answers a JSON
    line each time."""

    def __init__(self, python: str, prefix: list[str] | None, *args: str) -> None:
        self._errors = tempfile.TemporaryFile("w+")
        self.command = [*(prefix or []), python, "-m", "benchmarks.websocket_load", *args]
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            text=True,
        )

    def said(self) -> dict[str, Any]:
        """Its next answer."""
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(30)
            self._errors.seek(0)
            raise RuntimeError(
                f"{' '.join(self.command)} exited with "
                f"{self.process.returncode}:\n{self._errors.read()}"
            )
        return dict(json.loads(line))

    def tell(self, command: str) -> None:
        """Send it *command*."""
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def end(self) -> None:
        """Close its stdin (it closes its connections and exits) and wait for
        it to exit; kill it if it does not."""
        try:
            if self.process.stdin is not None:
                with suppress(BrokenPipeError):
                    self.process.stdin.close()
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        finally:
            if self.process.stdout is not None:
                self.process.stdout.close()
            self._errors.close()


def echo_load(
    server: Any,
    path: str,
    *,
    connections: int,
    seconds: float,
    message: str,
    processes: int = 1,
    python: str = sys.executable,
    prefix: list[str] | None = None,
) -> EchoResult:
    """Echo round trips on *connections* connections to *server* (a
    :class:`~benchmarks.loopback.Server`) for *seconds*, from *processes*
    client processes (the connections shared out) run under *prefix*: all
    connect, then all start at once."""
    from .loopback import server_cpu_seconds

    url = f"ws://127.0.0.1:{server.port}{path}"
    shares = [connections // processes + (i < connections % processes) for i in range(processes)]
    clients = [
        _Client(
            python,
            prefix,
            "echo",
            url,
            "--connections",
            str(share),
            "--seconds",
            str(seconds),
            "--message",
            message,
        )
        for share in shares
        if share
    ]
    try:
        ready = [client.said() for client in clients]
        failed: Counter[str] = Counter()
        for answer in ready:
            failed.update(answer["errors"])
        if failed:
            raise RuntimeError(f"{url}: connections failed to open: {dict(failed)}")
        cpu_before = server_cpu_seconds(server.process.pid)
        started = time.perf_counter()
        for client in clients:
            client.tell("go")
        runs = [client.said() for client in clients]
        wall = time.perf_counter() - started
        cpu_after = server_cpu_seconds(server.process.pid)
    finally:
        for client in clients:
            client.end()
    histogram: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    for run in runs:
        histogram.update({int(bucket): n for bucket, n in run["histogram"].items()})
        errors.update(run["errors"])
    trips = sum(run["round_trips"] for run in runs)
    server_cpu = (
        cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
    )
    return EchoResult(
        connections=connections,
        round_trips=trips,
        seconds=wall,
        round_trips_per_second=sum(
            run["round_trips"] / run["seconds"] for run in runs if run["seconds"]
        ),
        p50_ms=_quantile(histogram, 0.5),
        p99_ms=_quantile(histogram, 0.99),
        errors=dict(errors),
        client_processes=len(runs),
        client_cpu_share=sum(run["cpu_s"] for run in runs) / wall,
        server_cpu_share=None if server_cpu is None else server_cpu / wall,
        server_cpu_us=server_cpu / trips * 1e6 if trips and server_cpu is not None else None,
    )


def _quantile(histogram: Counter[int], q: float) -> float:
    """The *q* quantile of a latency histogram, in ms (a bucket's middle)."""
    total = sum(histogram.values())
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= q * total:
            return (bucket + 0.5) * 1000 / BUCKETS_PER_SECOND
    return 0.0


def idle_load(
    server: Any,
    path: str,
    *,
    connections: int,
    message: str,
    python: str = sys.executable,
    prefix: list[str] | None = None,
    settle: float = 1.0,
) -> IdleResult:
    """Open *connections* idle connections to *server* and hold them: its
    RSS before, with all of them open (after *settle* seconds), after one
    message each, and after they closed."""
    from .streams import _status, raise_fd_limit

    url = f"ws://127.0.0.1:{server.port}{path}"
    pid = server.process.pid
    fd_limit = raise_fd_limit()
    before = _status(pid)
    client = _Client(
        python, prefix, "idle", url, "--connections", str(connections), "--message", message
    )
    try:
        opened = client.said()
        time.sleep(settle)  # the server's last handshakes and tasks settle
        idle = _status(pid)
        client.tell("check")
        answered = client.said()["answered"]
        checked = _status(pid)
        client.tell("close")
        client.said()
    finally:
        client.end()
    time.sleep(settle)
    closed = _status(pid)
    return IdleResult(
        connections=connections,
        opened=opened["opened"],
        answered=answered,
        errors=opened["errors"],
        open_seconds=opened["open_seconds"],
        rss_before_mb=before[0] if before else None,
        rss_idle_mb=idle[0] if idle else None,
        rss_checked_mb=checked[0] if checked else None,
        rss_closed_mb=closed[0] if closed else None,
        threads_idle=idle[1] if idle else None,
        fd_limit=fd_limit,
    )


if __name__ == "__main__":
    main()
