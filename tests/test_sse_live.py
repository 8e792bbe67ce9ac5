"""Server-sent events over a real uvicorn on loopback: read by a real SSE
parser (``sseclient-py``, over an ``httpx2`` stream), pings on the wire
while a generator is blocked, and a client leaving ends the generator
within a second, ``def`` and ``async def``."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import httpx2
import pytest
import sseclient

from flaskish import EventStream, Flask, ServerSentEvent, last_event_id

kinds = pytest.mark.parametrize("kind", ["def", "async def"])


def events_for(start: int) -> list[Any]:
    return [
        ServerSentEvent("first line\nsecond line", event="update", id=str(start + 1)),
        {"data": "from a dict", "id": str(start + 2), "retry": 250},
        "plain text",
        {"comment": "only a comment: nothing is dispatched"},
        ServerSentEvent('{"n": 3}', event="json", id=str(start + 3)),
    ]


def make_app(kind: str, pause: float = 0, ping: float | None = None) -> Flask:
    app = Flask(__name__, static_folder=None)

    if kind == "def":

        @app.route("/events")
        def sync_view() -> Any:
            items = events_for(int(last_event_id() or 0))

            def generate() -> Iterator[Any]:
                for item in items:
                    yield item
                    time.sleep(pause)

            return EventStream(generate(), ping=ping)
    else:

        @app.route("/events")
        async def async_view() -> Any:
            items = events_for(int(last_event_id() or 0))

            async def generate() -> AsyncIterator[Any]:
                for item in items:
                    yield item
                    await anyio.sleep(pause)

            return EventStream(generate(), ping=ping)

    return app


@kinds
def test_a_real_sse_client_reads_every_field(live_server: Any, kind: str) -> None:
    with live_server(make_app(kind)) as server, httpx2.Client() as client:
        with client.stream(
            "GET", f"{server.url}/events", headers={"Last-Event-ID": "10"}
        ) as response:
            assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
            assert response.headers["cache-control"] == "no-cache"
            assert response.headers["x-accel-buffering"] == "no"
            assert "content-length" not in response.headers
            events = list(sseclient.SSEClient(response.iter_bytes()).events())
    assert [(e.event, e.id, e.data, e.retry) for e in events] == [
        ("update", "11", "first line\nsecond line", None),
        ("message", "12", "from a dict", "250"),
        ("message", None, "plain text", None),
        ("json", "13", '{"n": 3}', None),
    ]


@kinds
def test_pings_reach_the_client_while_the_generator_waits(live_server: Any, kind: str) -> None:
    with live_server(make_app(kind, pause=0.2, ping=0.05)) as server, httpx2.Client() as c:
        with c.stream("GET", f"{server.url}/events") as response:
            body = b"".join(response.iter_bytes())
    # Between every two events (and after the last, until the generator
    # returns) at least one ping.
    between = body.split(b"\n\n")
    assert body.count(b": ping\n\n") >= len(events_for(0))
    assert b": ping" not in between[0]


def open_stream(port: int, path: str) -> socket.socket:
    """A client that has read the headers and the first event, left open
    for the caller to close."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    received = b""
    while b"data: " not in received:
        received += sock.recv(4096)
    return sock


def stream_hosts() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "flaskish-stream-host"]


@kinds
def test_a_client_leaving_ends_the_generator_within_a_second(live_server: Any, kind: str) -> None:
    ended: dict[str, float | int] = {}
    done = threading.Event()
    app = Flask(__name__, static_folder=None)

    @app.before_request
    def note_thread() -> None:
        ended["request thread"] = threading.get_ident()

    if kind == "def":

        @app.route("/events")
        def sync_view() -> Any:
            def generate() -> Iterator[str]:
                try:
                    while True:
                        yield "tick"
                        time.sleep(0.05)  # pings go out meanwhile
                finally:
                    ended["at"], ended["thread"] = time.monotonic(), threading.get_ident()
                    done.set()

            return EventStream(generate(), ping=0.01)
    else:

        @app.route("/events")
        async def async_view() -> Any:
            async def generate() -> AsyncIterator[str]:
                try:
                    yield "tick"
                    await anyio.sleep(3600)  # only pings from here on
                finally:
                    ended["at"] = time.monotonic()
                    done.set()

            return EventStream(generate(), ping=0.01)

    with live_server(app) as server:
        client = open_stream(server.port, "/events")
        time.sleep(0.1)  # a few pings
        left = time.monotonic()
        client.close()
        assert done.wait(5)
        deadline = time.monotonic() + 2
        while stream_hosts() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert stream_hosts() == []  # no helper thread outlives its stream
    assert ended["at"] - left < 1
    if kind == "def":
        assert ended["thread"] == ended["request thread"]


def test_a_def_generator_blocked_past_the_disconnect_is_closed_at_its_next_yield(
    live_server: Any,
) -> None:
    """The relay stops at once; the generator, blocked in user code, is
    closed (GeneratorExit at its yield, on its thread) when it yields."""
    release = threading.Event()
    closed = threading.Event()
    yielded_after: list[bool] = []
    app = Flask(__name__, static_folder=None)

    @app.route("/events")
    def sync_view() -> Any:
        def generate() -> Iterator[str]:
            yield "first"
            release.wait(5)
            try:
                yield "after the client left"
                yielded_after.append(True)
            except GeneratorExit:
                closed.set()
                raise

        return EventStream(generate(), ping=0.01)

    with live_server(app) as server:
        client = open_stream(server.port, "/events")
        client.close()
        time.sleep(0.3)  # the server notices; the generator is still blocked
        release.set()
        assert closed.wait(5)
    assert yielded_after == []


def test_a_view_resumes_after_last_event_id_over_the_wire(live_server: Any) -> None:
    app = make_app("async def")
    with live_server(app) as server, httpx2.Client() as client:
        with client.stream("GET", f"{server.url}/events") as response:
            first = [e.id for e in sseclient.SSEClient(response.iter_bytes()).events()]
        with client.stream(
            "GET", f"{server.url}/events", headers={"Last-Event-ID": first[-1] or ""}
        ) as response:
            second = [e.id for e in sseclient.SSEClient(response.iter_bytes()).events()]
    assert first == ["1", "2", None, "3"]
    assert second == ["4", "5", None, "6"]
