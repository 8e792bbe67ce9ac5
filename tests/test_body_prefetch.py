"""BODY_PREFETCH_BYTES: a small declared body is read on the event loop
before a def request's hand-off, so a def view reads it without a second
loop-thread round trip; everything else about the body is as before."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
import httpx2 as httpx
import pytest

import flaskish.body
from flaskish import Flask, concurrency, request
from flaskish.testing import FlaskClient

FORM = (b"content-type", b"application/x-www-form-urlencoded")
JSON = (b"content-type", b"application/json")
PREFETCH = [65536, 0]  # the default, and off: every outcome must be the same


def length(size: int) -> tuple[bytes, bytes]:
    return (b"content-length", str(size).encode())


class Channel:
    """A raw ASGI call: the body in *chunks*, then a disconnect: before the
    body's end (*disconnect*), or after it (*leave*); else nothing more
    (receive waits, as a server's does while the client is there). Counts
    the app's receive calls."""

    def __init__(self, chunks: list[bytes], disconnect: bool = False, leave: bool = False) -> None:
        self.pending = list(chunks)
        self.disconnect = disconnect or leave
        self.mid_body = disconnect
        self.leaves_at: float | None = None
        self.calls = 0
        self.status = 0
        self.body = b""

    async def receive(self) -> dict[str, Any]:
        self.calls += 1
        if self.pending:
            chunk = self.pending.pop(0)
            more = bool(self.pending) or self.mid_body
            return {"type": "http.request", "body": chunk, "more_body": more}
        if self.disconnect:
            if not self.mid_body:
                # The client reads the response for 50 ms, then leaves.
                if self.leaves_at is None:
                    self.leaves_at = anyio.current_time() + 0.05
                if anyio.current_time() < self.leaves_at:
                    await anyio.sleep_until(self.leaves_at)
            return {"type": "http.disconnect"}
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        else:
            self.body += message.get("body", b"")


def call(
    app: Flask,
    path: str,
    headers: list[tuple[bytes, bytes]],
    chunks: list[bytes],
    disconnect: bool = False,
    leave: bool = False,
    method: str = "POST",
) -> Channel:
    channel = Channel(chunks, disconnect, leave)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("localhost", 80),
    }

    async def run() -> None:
        with anyio.fail_after(10):
            await app(scope, channel.receive, channel.send)

    anyio.run(run)
    return channel


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The body reads that called back into the event loop from a thread."""
    seen: list[str] = []
    real = flaskish.body.run_in_loop

    def counting(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(func, "__name__", repr(func)))
        return real(func, *args, **kwargs)

    monkeypatch.setattr(flaskish.body, "run_in_loop", counting)
    return seen


# -- a def view finds the body in memory -------------------------------------------------


def test_a_def_view_reads_a_small_form_without_calling_back_into_the_loop(
    client: FlaskClient, app: Flask, hops: list[str]
) -> None:
    @app.post("/")
    def view() -> Any:
        return {
            "form": request.form.to_dict(),
            "values": request.values.to_dict(),
            "data": request.get_data(as_text=True),
        }

    response = client.post("/?q=1", data={"name": "flaskish", "count": "3"})
    assert response.json == {
        "form": {"name": "flaskish", "count": "3"},
        "values": {"q": "1", "name": "flaskish", "count": "3"},
        "data": "name=flaskish&count=3",
    }
    assert hops == []


def test_json_data_and_get_data_as_text_in_a_def_view(
    client: FlaskClient, app: Flask, hops: list[str]
) -> None:
    @app.post("/json")
    def as_json() -> Any:
        return {"json": request.json, "again": request.get_json()}

    @app.post("/data")
    def as_data() -> Any:
        return {"data": request.data.decode(), "text": request.get_data(as_text=True)}

    assert client.post("/json", json={"a": [1, 2]}).json == {
        "json": {"a": [1, 2]},
        "again": {"a": [1, 2]},
    }
    assert client.post("/data", data=b"raw bytes").json == {
        "data": "raw bytes",
        "text": "raw bytes",
    }
    assert client.post("/json", data=b"{bad", content_type="application/json").status_code == 400
    assert hops == []


def test_a_small_upload_in_a_def_view(
    client: FlaskClient, app: Flask, hops: list[str], tmp_path: Path
) -> None:
    @app.post("/")
    def view() -> Any:
        upload = request.files["f"]
        upload.save(tmp_path / "saved.txt")
        return {"name": upload.filename, "title": request.form["title"]}

    response = client.post("/", data={"title": "t", "f": (io.BytesIO(b"hello"), "a.txt")})
    assert response.json == {"name": "a.txt", "title": "t"}
    assert (tmp_path / "saved.txt").read_bytes() == b"hello"
    assert hops == []


def test_the_stream_of_a_small_body_in_a_def_view(
    client: FlaskClient, app: Flask, hops: list[str]
) -> None:
    @app.post("/iterate")
    def iterate() -> Any:
        return {
            "chunks": [chunk.decode() for chunk in request.stream],
            "data": request.get_data(as_text=True),
        }  # empty once streamed, as in Flask

    @app.post("/read")
    def read() -> Any:
        stream = request.stream
        return {
            "head": stream.read(2).decode(),
            "rest": stream.read().decode(),
            "end": stream.read().decode(),
        }

    assert client.post("/iterate", data=b"abcdef").json == {"chunks": ["abcdef"], "data": ""}
    assert client.post("/read", data=b"abcdef").json == {"head": "ab", "rest": "cdef", "end": ""}
    assert hops == []


def test_an_async_view_after_a_def_hook_iterates_the_prefetched_stream(app: Flask) -> None:
    """A def before_request makes the request a def one: its body is read
    before the hand-off, and the async view still iterates the stream."""

    @app.before_request
    def hook() -> None:
        pass

    @app.post("/")
    async def view() -> Any:
        return {"chunks": [chunk.decode() async for chunk in request.stream]}

    channel = call(app, "/", [length(6)], [b"abc", b"def"])
    assert (channel.status, json.loads(channel.body)) == (200, {"chunks": ["abc", "def"]})
    assert channel.calls == 2


def test_the_second_hand_off_of_a_def_view_reading_its_form_is_gone(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One hand-off to the request's thread, and none back to the loop
    until the response: counted where the request's sync stretch starts on
    its thread and at anyio's calls back to the loop."""
    handoffs: list[str] = []
    run, from_thread = concurrency._ThreadRun.run, anyio.from_thread.run

    def counting_run(thread_run: Any) -> Any:
        handoffs.append("to thread")
        return run(thread_run)

    def counting_from_thread(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        handoffs.append("to loop")
        return from_thread(func, *args, **kwargs)

    monkeypatch.setattr(concurrency._ThreadRun, "run", counting_run)
    monkeypatch.setattr(anyio.from_thread, "run", counting_from_thread)

    @app.post("/")
    def view() -> str:
        return f"{request.form['name']} {request.form['count']}"

    body = b"name=flaskish&count=3"
    channel = call(app, "/", [FORM, length(len(body))], [body])
    assert (channel.status, channel.body, handoffs) == (200, b"flaskish 3", ["to thread"])

    app.config["BODY_PREFETCH_BYTES"] = 0
    handoffs.clear()
    channel = call(app, "/", [FORM, length(len(body))], [body])
    assert (channel.status, channel.body) == (200, b"flaskish 3")
    assert handoffs == ["to thread", "to loop"]


def test_a_body_in_several_messages_is_read_to_its_end(app: Flask, hops: list[str]) -> None:
    @app.post("/")
    def view() -> Any:
        return request.form.to_dict()

    channel = call(app, "/", [FORM, length(11)], [b"a=1&", b"b=2", b"&c=3"])
    assert (channel.status, json.loads(channel.body)) == (200, {"a": "1", "b": "2", "c": "3"})
    assert (channel.calls, hops) == (3, [])


# -- what stays lazy ---------------------------------------------------------------------


def untouched_views(app: Flask) -> None:
    @app.post("/def")
    def sync_view() -> str:
        return "ok"

    @app.post("/async")
    async def async_view() -> str:
        return "ok"


def test_only_a_small_declared_body_of_a_def_request_is_read_before_the_view(app: Flask) -> None:
    """Views that never read the body: the channel shows what was read."""
    untouched_views(app)
    small, big = b"x" * 1000, b"x" * (64 * 1024 + 1)
    assert call(app, "/def", [length(len(small))], [small]).calls == 1  # prefetched
    assert call(app, "/def", [length(len(big))], [big]).calls == 0  # over the limit
    assert call(app, "/def", [], [small]).calls == 0  # chunked: no declared length
    assert call(app, "/async", [length(len(small))], [small]).calls == 0  # async request
    expect = [length(len(small)), (b"expect", b"100-continue")]
    assert call(app, "/def", expect, [small]).calls == 0  # the app decides on 100 Continue
    assert call(app, "/missing", [length(len(small))], [small]).status == 404


def test_a_large_upload_a_def_view_never_reads_is_never_buffered(app: Flask) -> None:
    """1 MiB declared, sent in 64 KiB messages: the loop reads none of it."""
    untouched_views(app)
    chunks = [b"x" * 65536] * 16
    channel = call(app, "/def", [length(1024 * 1024)], chunks)
    assert (channel.status, channel.calls) == (200, 0)


def test_body_prefetch_bytes_sets_the_limit_and_zero_turns_it_off(app: Flask) -> None:
    untouched_views(app)
    body = b"x" * 100
    app.config["BODY_PREFETCH_BYTES"] = 100
    assert call(app, "/def", [length(100)], [body]).calls == 1
    app.config["BODY_PREFETCH_BYTES"] = 99
    assert call(app, "/def", [length(100)], [body]).calls == 0
    app.config["BODY_PREFETCH_BYTES"] = 0
    assert call(app, "/def", [length(0)], [b""]).calls == 0


@pytest.mark.parametrize("value", [-1, "64k", 1.5, True, None])
def test_a_bad_body_prefetch_bytes_is_refused_with_the_line_to_write(
    app: Flask, client: FlaskClient, value: Any
) -> None:
    app.config["BODY_PREFETCH_BYTES"] = value
    untouched_views(app)
    message = "BODY_PREFETCH_BYTES must be a whole number of bytes"
    with pytest.raises(ValueError, match=message) as info:
        client.post("/def", data=b"x")
    assert "app.config['BODY_PREFETCH_BYTES'] = 65536" in str(info.value)
    with pytest.raises(ValueError, match=message), app.test_client():
        pass  # serving (the lifespan startup) refuses it before any request


def test_a_def_view_that_replaces_an_async_one_is_looked_at_again(app: Flask) -> None:
    untouched_views(app)
    assert call(app, "/async", [length(1)], [b"x"]).calls == 0
    app.view_functions["async_view"] = lambda: "now def"
    channel = call(app, "/async", [length(1)], [b"x"])
    assert (channel.body, channel.calls) == (b"now def", 1)


def test_a_multipart_body_too_big_to_parse_in_memory_is_parsed_on_the_loop(
    app: Flask, hops: list[str]
) -> None:
    """With BODY_PREFETCH_BYTES raised past Starlette's in-memory spool, an
    upload that spools to disk still works (parsed through the loop)."""
    app.config["BODY_PREFETCH_BYTES"] = 4 * 1024 * 1024

    @app.post("/")
    def view() -> Any:
        return {"size": len(request.files["f"].read())}

    data = b"z" * (2 * 1024 * 1024)
    response = app.test_client().post("/", data={"f": (io.BytesIO(data), "big.bin")})
    assert response.json == {"size": len(data)}
    assert hops == ["_load_files"]


# -- limits and errors, exactly as without prefetching -----------------------------------


def reading_views(app: Flask) -> list[str]:
    """Views that read the body; returns what teardown saw, per request."""
    outcomes: list[str] = []

    @app.teardown_request
    def record(exc: BaseException | None) -> None:
        outcomes.append(type(exc).__name__ if exc else "none")

    @app.post("/data")
    def data() -> Any:
        return request.get_data()

    @app.post("/form")
    def form() -> Any:
        return request.form.to_dict()

    @app.post("/disconnected")
    def disconnected() -> Any:
        return {"disconnected": request.is_disconnected()}

    return outcomes


@pytest.mark.parametrize("prefetch", PREFETCH)
def test_a_declared_length_over_max_content_length_is_a_413_unread(
    app: Flask, prefetch: int
) -> None:
    app.config.update(MAX_CONTENT_LENGTH=10, BODY_PREFETCH_BYTES=prefetch)
    reading_views(app)
    handled: list[int] = []

    @app.errorhandler(413)
    def too_large(e: Any) -> Any:
        handled.append(413)
        return "too large", 413

    channel = call(app, "/data", [length(11)], [b"x" * 11])
    assert (channel.status, channel.body, channel.calls, handled) == (413, b"too large", 0, [413])


@pytest.mark.parametrize("prefetch", PREFETCH)
def test_a_chunked_body_growing_past_max_content_length_is_cut_off(
    app: Flask, prefetch: int
) -> None:
    app.config.update(MAX_CONTENT_LENGTH=10, BODY_PREFETCH_BYTES=prefetch)
    reading_views(app)
    channel = call(app, "/data", [], [b"x" * 6] * 4)
    assert (channel.status, channel.calls) == (413, 2)


@pytest.mark.parametrize("prefetch", PREFETCH)
def test_a_client_sending_more_than_it_declared(app: Flask, prefetch: int) -> None:
    """The reader reads what comes (as before); prefetching stops past the
    declared length and leaves the rest on the channel for it."""
    app.config["BODY_PREFETCH_BYTES"] = prefetch
    reading_views(app)
    channel = call(app, "/data", [length(3)], [b"abcdef", b"ghi"])
    assert (channel.status, channel.body, channel.calls) == (200, b"abcdefghi", 2)
    app.config["MAX_CONTENT_LENGTH"] = 8
    channel = call(app, "/data", [length(3)], [b"abcdef", b"ghi"])
    assert (channel.status, channel.calls) == (413, 2)


@pytest.mark.parametrize("prefetch", PREFETCH)
def test_max_content_length_lowered_by_a_hook_still_applies(app: Flask, prefetch: int) -> None:
    app.config["BODY_PREFETCH_BYTES"] = prefetch
    reading_views(app)

    @app.before_request
    def lower() -> None:
        request.max_content_length = 3

    assert call(app, "/data", [length(4)], [b"1234"]).status == 413


@pytest.mark.parametrize("prefetch", PREFETCH)
def test_a_client_disconnecting_mid_body(app: Flask, prefetch: int) -> None:
    """The view reading the body gets ClientDisconnected (a 400), as
    before; is_disconnected() says so."""
    app.config.update(PROPAGATE_EXCEPTIONS=False, BODY_PREFETCH_BYTES=prefetch)
    outcomes = reading_views(app)
    channel = call(app, "/form", [FORM, length(100)], [b"a=1"], disconnect=True)
    assert (channel.status, outcomes) == (400, ["none"])
    channel = call(app, "/disconnected", [length(100)], [b"a=1"], disconnect=True)
    # Without prefetching the first check takes the body message (kept for
    # the reader) and sees the disconnect at the next; prefetching has
    # already seen it.
    expected = {"disconnected": prefetch > 0}
    assert (channel.status, json.loads(channel.body)) == (200, expected)
    channel = call(app, "/disconnected", [length(3)], [b"a=1"])
    assert json.loads(channel.body) == {"disconnected": False}


@pytest.mark.parametrize("prefetch", PREFETCH)
def test_a_streamed_response_after_a_prefetched_body_ends_when_the_client_leaves(
    app: Flask, prefetch: int
) -> None:
    app.config["BODY_PREFETCH_BYTES"] = prefetch
    closed = threading.Event()

    @app.post("/")
    def view() -> Any:
        name = request.form["name"]

        def forever() -> Iterator[str]:
            try:
                while True:
                    yield name
            finally:
                closed.set()

        return forever()

    channel = call(app, "/", [FORM, length(6)], [b"name=x"], leave=True)
    assert channel.status == 200
    assert channel.body.startswith(b"x")
    assert closed.is_set()


# -- over a real server ------------------------------------------------------------------


def test_a_form_posted_to_a_def_view_over_a_real_uvicorn(
    app: Flask, live_server: Any, hops: list[str]
) -> None:
    @app.post("/form")
    def form() -> str:
        return f"{request.form['name']} {request.form['count']}"

    @app.post("/upload")
    def upload() -> Any:
        return {"size": len(request.files["f"].read()), "data": len(request.get_data())}

    with live_server(app) as server, httpx.Client(base_url=server.url) as http:
        for _ in range(3):
            assert http.post("/form", data={"name": "flaskish", "count": "3"}).text == "flaskish 3"
        assert hops == []
        big = b"z" * (200 * 1024)  # over BODY_PREFETCH_BYTES: read lazily, as before
        response = http.post("/upload", files={"f": ("big.bin", big)})
        assert response.json()["size"] == len(big)
        assert hops == ["_load_files"]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([(b"content-length", b"12")], 12),
        ([(b"Content-Length", b"12")], 12),  # a server that kept the case
        ([], None),
        ([(b"content-length", b"12"), (b"transfer-encoding", b"gzip, chunked")], None),
        ([(b"content-length", b"-3")], 0),  # invalid: 0, as Werkzeug says
        ([(b"content-length", b"1_000")], 0),
    ],
)
def test_content_length_and_mimetype_are_read_from_the_raw_headers_as_werkzeug_reads_them(
    headers: list[tuple[bytes, bytes]], expected: int | None
) -> None:
    from flaskish.request import Request

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(b"content-type", b"Application/JSON; charset=utf-8"), *headers],
    }
    req = Request(scope)
    assert req.content_length == expected
    assert (req.mimetype, req.mimetype_params, req.is_json) == (
        "application/json",
        {"charset": "utf-8"},
        True,
    )
    assert "headers" not in req.__dict__  # not built for these
