"""In-process measurement: call the ASGI app (the WSGI app for Flask)
directly with a prepared request, many times, and report the median
microseconds per request over several repetitions.

All apps are built first and their ASGI lifespans started on one event
loop (uvloop when installed, as under uvicorn). Then, scenario by scenario,
the frameworks take turns: repetition 1 of each, repetition 2 of each...,
so a burst of load from elsewhere on the machine hits them alike. The
process is pinned to one CPU, like the servers over HTTP. Scenarios with a
``concurrency`` keep that many requests in flight (tasks on the loop; for
Flask, a pool of 40 threads like gunicorn's gthread worker) and report wall
time divided by requests, i.e. the inverse of throughput.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from .scenarios import Scenario

__all__ = [
    "Answer",
    "AsgiCaller",
    "HttpRequest",
    "WsgiCaller",
    "calibrate",
    "event_loop_factory",
    "median_us",
    "run_batch",
]

#: Flask's in-process thread pool for concurrent scenarios (gunicorn --threads).
WSGI_THREADS = 40


@dataclass
class HttpRequest:
    """The request a scenario sends, with the cookie it was primed with."""

    method: str
    path: str
    query: str
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def for_scenario(cls, scenario: Scenario, cookie: str | None = None) -> HttpRequest:
        path, _, query = scenario.path.partition("?")
        headers = [("host", "localhost"), ("user-agent", "flaskish-bench")]
        if scenario.body:
            headers.append(("content-length", str(len(scenario.body))))
        if scenario.content_type:
            headers.append(("content-type", scenario.content_type))
        if cookie:
            headers.append(("cookie", cookie))
        return cls(scenario.method, path, query, scenario.body, headers)


@dataclass
class Answer:
    """What the app answered, and how often it called ``receive``."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    receive_calls: int = 0

    def cookie(self) -> str | None:
        """The ``name=value`` of the first ``Set-Cookie``, if any."""
        for name, value in self.headers:
            if name.lower() == "set-cookie":
                return value.partition(";")[0]
        return None


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop's loop when installed (what uvicorn serves with), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    return uvloop.new_event_loop  # type: ignore[no-any-return]


class AsgiCaller:
    """Calls an ASGI app in-process. Use inside ``async with caller.running():``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    @asynccontextmanager
    async def running(self) -> AsyncIterator[AsgiCaller]:
        """Run the app's lifespan around the calls (if it speaks lifespan)."""
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        task = asyncio.ensure_future(self.app(scope, inbox.get, outbox.put))
        await inbox.put({"type": "lifespan.startup"})
        started = await _first(outbox.get(), task)
        if started is not None and started["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"lifespan startup failed: {started!r}")
        try:
            yield self
        finally:
            if started is not None:
                await inbox.put({"type": "lifespan.shutdown"})
                await _first(outbox.get(), task)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def scope(self, request: HttpRequest) -> dict[str, Any]:
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": "http",
            "path": request.path,
            "raw_path": request.path.encode(),
            "query_string": request.query.encode(),
            "root_path": "",
            "headers": [(k.encode(), v.encode("latin-1")) for k, v in request.headers],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }

    async def call(self, request: HttpRequest) -> Answer:
        """One request; the body arrives in one ``http.request`` message, after
        which ``receive`` waits (as a server's does) until cancelled."""
        body = request.body
        status = 0
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        calls = 0

        async def receive() -> dict[str, Any]:
            nonlocal calls
            calls += 1
            if calls == 1:
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.get("headers", [])
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(self.scope(request), receive, send)
        return Answer(
            status,
            [(k.decode(), v.decode("latin-1")) for k, v in headers],
            b"".join(chunks),
            calls,
        )

    def batch(
        self,
        request: HttpRequest,
        concurrency: int | None,
        yield_every: int | None = None,
    ) -> Callable[[int], Awaitable[None]]:
        """A coroutine function making *n* requests, *concurrency* at a time;
        with *yield_every*, handing the event loop over after every that many."""
        app, base = self.app, self.scope(request)

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": request.body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            pass

        async def sequential(n: int) -> None:
            for _ in range(n):
                scope = {**base, "headers": list(base["headers"]), "state": {}}
                await app(scope, _once(receive), send)

        async def yielding(n: int) -> None:
            assert yield_every
            for done in range(0, n, yield_every):
                await sequential(min(yield_every, n - done))
                await asyncio.sleep(0)

        if yield_every:
            if concurrency:
                raise ValueError("yield_every is for sequential batches")
            return yielding

        if not concurrency:
            return sequential

        async def concurrent(n: int) -> None:
            per_task, extra = divmod(n, concurrency)
            await asyncio.gather(*(sequential(per_task + (i < extra)) for i in range(concurrency)))

        return concurrent


def _once(receive: Callable[[], Awaitable[dict[str, Any]]]) -> Callable[[], Awaitable[Any]]:
    """``receive`` that gives the body once, then waits until cancelled."""
    done = False

    async def wrapped() -> dict[str, Any]:
        nonlocal done
        if done:
            await asyncio.Event().wait()
        done = True
        return await receive()

    return wrapped


async def _first(waiting: Awaitable[dict[str, Any]], task: asyncio.Future[Any]) -> Any:
    """The next lifespan message, or ``None`` if the app does not speak lifespan."""
    getter = asyncio.ensure_future(waiting)
    await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
    if getter.done():
        return getter.result()
    getter.cancel()
    return None


class WsgiCaller:
    """Calls a WSGI app in-process with a prepared environ."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def environ(self, request: HttpRequest) -> dict[str, Any]:
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": request.path,
            "QUERY_STRING": request.query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(request.body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in request.headers:
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[key] = value
            else:
                environ[f"HTTP_{key}"] = value
        return environ

    def call(self, request: HttpRequest) -> Answer:
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> Any:
            started[:] = [int(status.split()[0]), headers]
            return lambda data: None

        result: Iterable[bytes] = self.app(self.environ(request), start_response)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return Answer(started[0], started[1], body)

    def batch(self, request: HttpRequest, concurrency: int | None) -> Callable[[int], None]:
        """A function making *n* requests, *concurrency* at a time (at most
        :data:`WSGI_THREADS` threads)."""
        app, base, body = self.app, self.environ(request), request.body

        def start_response(status: str, headers: Any, exc: Any = None) -> Any:
            return None

        def one() -> None:
            result = app({**base, "wsgi.input": io.BytesIO(body)}, start_response)
            for _ in result:
                pass
            close = getattr(result, "close", None)
            if close is not None:
                close()

        def sequential(n: int) -> None:
            for _ in range(n):
                one()

        if not concurrency:
            return sequential

        def concurrent(n: int) -> None:
            with ThreadPoolExecutor(min(concurrency, WSGI_THREADS)) as pool:
                for future in [pool.submit(one) for _ in range(n)]:
                    future.result()

        return concurrent


async def run_batch(batch: Callable[[int], Any], n: int) -> float:
    """Seconds *batch* takes for *n* requests. *batch* is a coroutine
    function of the request count (ASGI), or a function (WSGI), which runs
    on a thread so the event loop is never blocked (one hop per batch)."""
    if inspect.iscoroutinefunction(batch):
        started = time.perf_counter()
        await batch(n)
        return time.perf_counter() - started

    def timed() -> float:
        started = time.perf_counter()
        batch(n)
        return time.perf_counter() - started

    return await asyncio.to_thread(timed)


async def calibrate(batch: Callable[[int], Any], *, rep_seconds: float, minimum: int) -> int:
    """Warm *batch* up (caches, thread pools, lazy indexes) and return how
    many requests last about *rep_seconds*."""
    await run_batch(batch, minimum)
    probe = max(minimum, 20)
    per_request = await run_batch(batch, probe) / probe
    return max(minimum, min(200_000, int(rep_seconds / max(per_request, 1e-7))))


def median_us(seconds: list[float], number: int) -> float:
    """The median of repetitions, in microseconds per request."""
    return statistics.median(seconds) / number * 1e6
