"""A streamed response ends when its client goes away: an async generator
is cancelled (its ``finally`` runs), a sync generator is closed at its
yield on its own thread, teardown runs; ``request.is_disconnected()`` asks
without losing any of the body."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest

from flaskish import (
    Flask,
    Response,
    request,
    stream_template_string,
    stream_with_context,
)


def open_stream(port: int, path: str) -> socket.socket:
    """A client that starts reading a streamed response (its headers and a
    first chunk), left open for the caller to close."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    received = b""
    while b"\r\n\r\n" not in received or len(received.partition(b"\r\n\r\n")[2]) < 3:
        received += sock.recv(4096)
    return sock


class Seen:
    """Events from the app's generators and hooks, with when they happened."""

    def __init__(self) -> None:
        self.events: dict[str, tuple[float, Any]] = {}
        self.arrived = threading.Condition()

    def note(self, name: str, value: Any = None) -> None:
        with self.arrived:
            self.events[name] = (time.monotonic(), value)
            self.arrived.notify_all()

    def wait(self, name: str, timeout: float = 5) -> tuple[float, Any]:
        with self.arrived:
            assert self.arrived.wait_for(lambda: name in self.events, timeout), (name, self.events)
            return self.events[name]


@pytest.fixture
def seen() -> Seen:
    return Seen()


def endless_app(seen: Seen) -> Flask:
    app = Flask(__name__, static_folder=None)

    @app.before_request
    def note_thread() -> None:
        seen.note(f"thread {request.path}", threading.get_ident())

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        seen.note(f"teardown {request.path}")

    @app.route("/async")
    async def async_stream() -> Any:
        async def events() -> AsyncIterator[str]:
            try:
                while True:
                    yield "tick\n"
                    await anyio.sleep(0.05)
            finally:
                seen.note("async finally")

        return events()

    @app.route("/waiting")
    async def waiting() -> Any:
        async def events() -> AsyncIterator[str]:
            try:
                yield "first\n"
                await anyio.sleep(3600)  # an SSE stream between events
                yield "never"
            finally:
                seen.note("waiting finally")

        return events()

    @app.route("/sync")
    def sync_stream() -> Any:
        def events() -> Iterator[str]:
            try:
                while True:
                    yield "tick\n"
                    time.sleep(0.05)
            except GeneratorExit:
                seen.note("sync closed", threading.get_ident())
                raise

        return Response(events())

    @app.route("/with-context")
    def with_context() -> Any:
        @stream_with_context
        def events() -> Iterator[str]:
            try:
                while True:
                    yield f"{request.path}\n"
                    time.sleep(0.05)
            finally:
                seen.note("with-context finally")

        return Response(events())

    @app.route("/template")
    def template() -> Any:
        def items() -> Iterator[int]:
            try:
                n = 0
                while True:
                    yield n
                    n += 1
                    time.sleep(0.05)
            finally:
                seen.note("template finally")

        return Response(
            stream_template_string("{% for i in items %}{{ i }}\n{% endfor %}", items=items())
        )

    return app


@pytest.mark.parametrize(
    ("path", "event"),
    [
        ("/async", "async finally"),
        ("/waiting", "waiting finally"),
        ("/sync", "sync closed"),
        ("/with-context", "with-context finally"),
        ("/template", "template finally"),
    ],
)
def test_a_stream_ends_within_a_second_of_its_client_leaving(
    live_server: Any, seen: Seen, path: str, event: str
) -> None:
    with live_server(endless_app(seen)) as server:
        client = open_stream(server.port, path)
        left = time.monotonic()
        client.close()
        ended, _ = seen.wait(event)
        seen.wait(f"teardown {path}")
    assert ended - left < 1


def test_a_sync_generator_is_closed_on_the_requests_own_thread(
    live_server: Any, seen: Seen
) -> None:
    with live_server(endless_app(seen)) as server:
        open_stream(server.port, "/sync").close()
        _, closed_on = seen.wait("sync closed")
        _, ran_on = seen.wait("thread /sync")
    assert closed_on == ran_on


@pytest.mark.parametrize("kind", ["def", "async def"])
def test_is_disconnected_answers_for_a_loop_that_does_not_yield(
    live_server: Any, seen: Seen, kind: str
) -> None:
    app = Flask(__name__, static_folder=None)

    if kind == "def":

        @app.route("/work")
        def work() -> Any:
            def events() -> Iterator[str]:
                yield "started\n"
                while not request.is_disconnected():
                    time.sleep(0.02)
                seen.note("noticed")

            return Response(stream_with_context(events()))
    else:
        # (An async generator needs no check: it is cancelled. An async view
        # doing long work before it answers does.)

        @app.route("/work")
        async def work() -> Any:
            seen.note("working")
            while not await request.is_disconnected():
                await anyio.sleep(0.02)
            seen.note("noticed")
            return ""

    with live_server(app) as server:
        if kind == "def":
            client = open_stream(server.port, "/work")
        else:
            client = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            client.sendall(b"GET /work HTTP/1.1\r\nHost: localhost\r\n\r\n")
            seen.wait("working")
        time.sleep(0.1)
        assert "noticed" not in seen.events  # still there: no false alarm
        left = time.monotonic()
        client.close()
        noticed, _ = seen.wait("noticed")
    assert noticed - left < 1


@pytest.mark.parametrize("kind", ["def", "async def"])
def test_is_disconnected_keeps_the_body_for_the_view(kind: str) -> None:
    app = Flask(__name__, static_folder=None)

    if kind == "def":

        @app.post("/echo")
        def echo() -> str:
            assert request.is_disconnected() is False
            return request.get_data(as_text=True)
    else:

        @app.post("/echo")
        async def echo() -> str:
            assert await request.is_disconnected() is False
            return str(await request.get_data(as_text=True))

    assert app.test_client().post("/echo", data="the whole body").text == "the whole body"


def test_is_disconnected_without_await_in_async_code_says_what_to_write() -> None:
    app = Flask(__name__, static_folder=None)
    app.config["PROPAGATE_EXCEPTIONS"] = True

    @app.route("/")
    async def index() -> str:
        if request.is_disconnected():
            return "gone"  # pragma: no cover - the check raises
        return "here"

    with pytest.raises(RuntimeError, match=r"await request\.is_disconnected\(\)"):
        app.test_client().get("/")


def test_a_response_sent_as_an_asgi_app_stops_when_the_client_leaves() -> None:
    """``await response(scope, receive, send)`` (ASGI middleware) watches
    its own channel."""
    sent: list[bytes] = []
    closed = anyio.Event()
    left = anyio.Event()

    async def receive() -> dict[str, Any]:
        await left.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            sent.append(message["body"])
            if len(sent) == 3:
                left.set()

    async def events() -> AsyncIterator[str]:
        try:
            while True:
                yield "x"
                await anyio.sleep(0.01)
        finally:
            closed.set()

    async def main() -> None:
        with anyio.fail_after(5):
            await Response(events())({"type": "http", "method": "GET"}, receive, send)
            await closed.wait()

    anyio.run(main)
    assert 3 <= len(sent) <= 4


def test_an_async_generators_error_is_raised_as_itself() -> None:
    app = Flask(__name__)
    app.config["PROPAGATE_EXCEPTIONS"] = True

    @app.get("/")
    def index() -> Any:
        async def chunks() -> AsyncIterator[str]:
            yield "first"
            raise LookupError("the feed went away")

        return chunks()

    with pytest.raises(LookupError, match="the feed went away"):
        app.test_client().get("/")
