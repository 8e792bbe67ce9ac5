"""The migrated app's load: logged-in users sending a mix of page GETs, JSON
GETs and CSRF-protected form POSTs (``benchmarks/migrated/``).

wrk sends one request over and over; this load needs a session per
connection (a cookie that changes as the user logs in and as messages are
flashed and shown) and a CSRF token read from the page before each POST.
So it has a client of its own, in a process of its own (``python -m
benchmarks.migrated_load URL ...``, pinned to the CPU wrk would use), on
uvloop: each connection (HTTP/1.1, kept alive) logs in once (``GET
/login`` for the form's token, ``POST /login``), reads the page once, then
sends :data:`benchmarks.migrated.MIX` over and over for the timed window:
``GET /`` (the Jinja page; its form's token is kept for the next POST),
``GET /api/notes`` (JSON) and ``POST /notes`` with the token, answered by
a 302 that is counted, not followed (its ``Set-Cookie`` carries the flashed
message the next page shows). Every answer is checked (status and a piece
of the body); a wrong one counts as an error.

Around the timed window the client resets and then reads the app's own
clock (``/__timing``: the time between the first ``before_request`` and
the last ``after_request`` hook of each request), and reads the server's
CPU time from ``/proc`` (``--server-pid``). It prints one JSON line.
``--smoke`` sends each request type once on one connection, with stricter
checks (a POST without the token is refused; the flashed message shows).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from .migrated import MIX, PASSWORD, USERS, csrf_token_in

__all__ = ["MixResult", "mix_load", "mix_smoke"]

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class MixResult:
    """One round of the mix against one server."""

    connections: int
    seconds: float
    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    #: Per request type (page, json, post): count, p50 and p99 in ms.
    kinds: dict[str, dict[str, float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    #: Server user + system CPU per request over the timed window, µs.
    server_cpu_us: float | None = None
    client_cpu_share: float | None = None
    #: The app's own clock over the timed window (``Timings.snapshot``):
    #: ``count``, ``wall_us`` and ``cpu_us`` (each p50 / p99 / mean, or ``None``).
    inside: dict[str, Any] = field(default_factory=dict)


class Failure(Exception):
    """An answer that is not the one expected."""


class _Connection:
    """One keep-alive HTTP/1.1 connection with its session cookie."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str
    ) -> None:
        self.reader, self.writer, self.host = reader, writer, host
        self.cookie: str | None = None
        self.token: str | None = None

    @classmethod
    async def open(cls, host: str, port: int) -> _Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, f"{host}:{port}")

    async def send(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}", "User-Agent: flaskish-bench"]
        if self.cookie:
            lines.append(f"Cookie: session={self.cookie}")
        body = urlencode(form).encode() if form is not None else b""
        if form is not None:
            lines += [
                "Content-Type: application/x-www-form-urlencoded",
                f"Content-Length: {len(body)}",
            ]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in header_lines:
            if not line:
                continue
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie" and value.startswith("session="):
                cookie = value[len("session=") :].split(";", 1)[0]
                self.cookie = cookie.strip('"') or None
            headers[name] = value
        if "content-length" in headers:
            data = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            data = await self._chunked()
        else:
            data = b""
        return status, headers, data

    async def _chunked(self) -> bytes:
        chunks = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await self.reader.readexactly(size + 2)
            if not size:
                return b"".join(chunks)
            chunks.append(chunk[:-2])

    def close(self) -> None:
        self.writer.close()

    # -- the user's requests, each checked ---------------------------------

    async def login(self, user: str) -> None:
        status, _, page = await self.send("GET", "/login")
        token = csrf_token_in(page)
        if status != 200 or token is None:
            raise Failure(f"GET /login: {status}, token {token!r}")
        status, headers, _ = await self.send(
            "POST", "/login", {"csrf_token": token, "name": user, "password": PASSWORD}
        )
        if status != 302 or not headers.get("location", "").endswith("/") or not self.cookie:
            raise Failure(f"POST /login: {status} to {headers.get('location')!r}")
        await self.page(user, expect=b"Welcome, " + user.encode())

    async def page(self, user: str, expect: bytes | None = None) -> None:
        status, _, page = await self.send("GET", "/")
        self.token = csrf_token_in(page)
        if (
            status != 200
            or f"notes of {user} (".encode() not in page
            or self.token is None
            or (expect is not None and expect not in page)
        ):
            raise Failure(f"GET /: {status} {page[:200]!r}")

    async def json(self, user: str) -> None:
        status, _, data = await self.send("GET", "/api/notes")
        try:
            answer = json.loads(data) if status == 200 else None
        except ValueError:
            answer = None
        if not answer or answer.get("user") != user or not answer.get("notes"):
            raise Failure(f"GET /api/notes: {status} {data[:200]!r}")

    async def post(self, number: int) -> None:
        status, headers, _ = await self.send(
            "POST",
            "/notes",
            {
                "csrf_token": self.token or "",
                "title": f"Note {number}",
                "body": "Written during the benchmark.",
            },
        )
        if status != 302 or not headers.get("location", "").endswith("/"):
            raise Failure(f"POST /notes: {status} to {headers.get('location')!r}")


def _percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


def _cpu(pid: int | None) -> float | None:
    from .loopback import server_cpu_seconds

    return server_cpu_seconds(pid) if pid else None


async def _load(
    url: str,
    connections: int,
    seconds: float,
    server_pid: int | None,
) -> dict[str, Any]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    opened = [await _Connection.open(host, port) for _ in range(connections)]
    await asyncio.gather(*(c.login(USERS[i % len(USERS)]) for i, c in enumerate(opened)))
    control = await _Connection.open(host, port)
    await control.send("GET", "/__timing?reset=1")
    latencies: dict[str, list[float]] = {kind: [] for kind in set(MIX)}
    errors: dict[str, int] = {}
    clock = time.perf_counter

    async def run(number: int, connection: _Connection) -> None:
        user = USERS[number % len(USERS)]
        step = number  # the connections start at different places of the mix
        while clock() < deadline:
            kind = MIX[step % len(MIX)]
            step += 1
            started = clock()
            try:
                if kind == "page":
                    await connection.page(user)
                elif kind == "json":
                    await connection.json(user)
                else:
                    await connection.post(step)
            except Failure as failure:
                errors[str(failure)[:60]] = errors.get(str(failure)[:60], 0) + 1
                continue
            except (OSError, asyncio.IncompleteReadError) as error:
                errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
                return
            latencies[kind].append(clock() - started)

    cpu_before, client_before = _cpu(server_pid), time.process_time()
    started = clock()
    deadline = started + seconds
    await asyncio.gather(*(run(i, c) for i, c in enumerate(opened)))
    wall = clock() - started
    cpu_after, client_cpu = _cpu(server_pid), time.process_time() - client_before
    _, _, inside = await control.send("GET", "/__timing")
    for connection in [*opened, control]:
        connection.close()
    every = sorted(x for values in latencies.values() for x in values)
    total = len(every)
    return {
        "connections": connections,
        "seconds": wall,
        "requests": total,
        "requests_per_second": total / wall,
        "p50_ms": _percentile(every, 0.5) * 1e3,
        "p99_ms": _percentile(every, 0.99) * 1e3,
        "kinds": {
            kind: {
                "count": len(values),
                "p50_ms": _percentile(sorted(values), 0.5) * 1e3,
                "p99_ms": _percentile(sorted(values), 0.99) * 1e3,
            }
            for kind, values in sorted(latencies.items())
        },
        "errors": errors,
        "server_cpu_us": (
            (cpu_after - cpu_before) / total * 1e6
            if cpu_before is not None and cpu_after is not None and total
            else None
        ),
        "client_cpu_share": client_cpu / wall,
        "inside": json.loads(inside),
    }


async def _smoke(url: str) -> dict[str, Any]:
    """Each request type once, on one connection, strictly checked."""
    parts = urlsplit(url)
    connection = await _Connection.open(parts.hostname or "127.0.0.1", parts.port or 80)
    user = USERS[0]
    try:
        await connection.login(user)
        await connection.json(user)
        token, connection.token = connection.token, "not the token"
        status, _, _ = await connection.send("POST", "/notes", {"title": "forged"})
        if status != 400:
            raise Failure(f"POST /notes without the CSRF token answered {status}, not 400")
        connection.token = token
        await connection.post(1)
        await connection.page(user, expect=b"Note saved.")
        await connection.json(user)
        _, _, inside = await connection.send("GET", "/__timing")
    finally:
        connection.close()
    counted = json.loads(inside)["count"]
    if counted < 7:
        raise Failure(f"/__timing counted {counted} requests of the 7 sent")
    return {
        "checked": [
            "login",
            "page",
            "json",
            "post refused without token",
            "post",
            "page with flashed message",
        ]
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("url", help="the server, http://127.0.0.1:PORT")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--server-pid", type=int, help="read its CPU time from /proc")
    parser.add_argument("--smoke", action="store_true", help="each request type once, checked")
    args = parser.parse_args()
    if not args.url.startswith("http://127.0.0.1:"):
        parser.error("the load only goes to http://127.0.0.1")
    try:
        import uvloop
    except ImportError:
        run = asyncio.run
    else:
        run = uvloop.run
    try:
        summary = run(
            _smoke(args.url)
            if args.smoke
            else _load(args.url, args.connections, args.seconds, args.server_pid)
        )
    except Failure as failure:
        sys.exit(f"migrated_load: {failure}")
    print(json.dumps(summary))


# -- the harness side ---------------------------------------------------------


def _client(
    server: Any, arguments: list[str], python: str, prefix: list[str] | None, timeout: float
) -> dict[str, Any]:
    command = [
        *(prefix or []),
        python,
        "-m",
        "benchmarks.migrated_load",
        server.base_url,
        *arguments,
    ]
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=timeout
    )
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def mix_load(
    server: Any,
    *,
    connections: int,
    seconds: float,
    python: str = sys.executable,
    prefix: list[str] | None = None,
) -> MixResult:
    """One round of the mix against *server* (a
    :class:`~benchmarks.loopback.Server`), the client under *prefix*
    (``taskset``)."""
    summary = _client(
        server,
        [
            "--connections",
            str(connections),
            "--seconds",
            str(seconds),
            "--server-pid",
            str(server.process.pid),
        ],
        python,
        prefix,
        timeout=seconds + 60,
    )
    return MixResult(**summary)


def mix_smoke(server: Any, *, python: str = sys.executable) -> list[str]:
    """Each request type once against *server*, checked; what was checked."""
    checked: list[str] = _client(server, ["--smoke"], python, None, timeout=60)["checked"]
    return checked


if __name__ == "__main__":
    main()
