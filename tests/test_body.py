"""The request body in def and async def views: lazy loading, awaitable
access, streams, uploads, limits, bad input and disconnects."""

from __future__ import annotations

import gc
import io
import json
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import httpx2 as httpx
import pytest

from flaskish import Flask, request
from flaskish.testing import FlaskClient

KINDS = ["def", "async def"]


async def asgi_call(
    app: Flask,
    method: str = "POST",
    path: str = "/",
    headers: list[tuple[bytes, bytes]] | None = None,
    chunks: list[bytes] | None = None,
    disconnect: bool = False,
) -> tuple[int, bytes, int]:
    """Call the app directly with a body in *chunks* (then a disconnect if
    asked). Returns the status, the body and how many times the app called
    receive."""
    pending = list(chunks or [])
    calls = 0
    status = 0
    body: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if pending:
            chunk = pending.pop(0)
            more = bool(pending) or disconnect
            return {"type": "http.request", "body": chunk, "more_body": more}
        if disconnect:
            return {"type": "http.disconnect"}
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        else:
            body.append(message.get("body", b""))

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
        "headers": [(b"host", b"localhost"), *(headers or [])],
        "client": ("127.0.0.1", 5000),
        "server": ("localhost", 80),
    }
    await app(scope, receive, send)
    return status, b"".join(body), calls


def form_view(app: Flask, kind: str, attribute: str) -> None:
    """Register ``/`` returning ``request.<attribute>`` as JSON-able text."""
    if kind == "def":

        @app.post("/")
        def view() -> Any:
            value = getattr(request, attribute)
            return repr(value.to_dict(flat=False) if hasattr(value, "to_dict") else value)

    else:

        @app.post("/")
        async def view() -> Any:
            value = await getattr(request, attribute)
            return repr(value.to_dict(flat=False) if hasattr(value, "to_dict") else value)


# -- def and async def access ---------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_form_in_def_and_async_views(app: Flask, client: FlaskClient, kind: str) -> None:
    form_view(app, kind, "form")
    response = client.post("/", data={"a": "1", "b": ["2", "3"]})
    assert response.text == repr({"a": ["1"], "b": ["2", "3"]})


@pytest.mark.parametrize("kind", KINDS)
def test_values_combine_args_and_form(app: Flask, client: FlaskClient, kind: str) -> None:
    form_view(app, kind, "values")
    response = client.post("/", query_string={"q": "x"}, data={"a": "1"})
    assert response.text == repr({"q": ["x"], "a": ["1"]})


@pytest.mark.parametrize("kind", KINDS)
def test_json_in_def_and_async_views(app: Flask, client: FlaskClient, kind: str) -> None:
    form_view(app, kind, "json")
    assert client.post("/", json={"x": [1, 2]}).text == repr({"x": [1, 2]})


@pytest.mark.parametrize("kind", KINDS)
def test_raw_data_in_def_and_async_views(app: Flask, client: FlaskClient, kind: str) -> None:
    form_view(app, kind, "data")
    response = client.post("/", data=b"\x00raw\xff", content_type="application/octet-stream")
    assert response.text == repr(b"\x00raw\xff")


def test_get_data_as_text_and_get_json_options(app: Flask, client: FlaskClient) -> None:
    @app.post("/sync")
    def sync_view() -> Any:
        return {"text": request.get_data(as_text=True), "json": request.get_json(force=True)}

    @app.post("/async")
    async def async_view() -> Any:
        return {
            "text": await request.get_data(as_text=True),
            "json": await request.get_json(force=True),
        }

    for path in ("/sync", "/async"):
        response = client.post(path, data='{"a": 1}', content_type="text/plain")
        assert response.json == {"text": '{"a": 1}', "json": {"a": 1}}


def test_loaded_values_can_be_used_plainly_and_awaited_again(
    app: Flask, client: FlaskClient
) -> None:
    """Once an async view awaited the body, plain access works, and awaiting
    again still works."""

    @app.post("/")
    async def view() -> Any:
        form = await request.form
        again = await request.form
        assert again is form
        data = await request.get_data()
        return {
            "plain": request.form["a"],
            "files": len(await request.files),
            "data": request.get_data().decode(),
            "again": (await request.get_data()).decode(),
            "same": data == request.data,
        }

    response = client.post("/", data={"a": "1"})
    assert response.json == {"plain": "1", "files": 0, "data": "a=1", "again": "a=1", "same": True}


def test_a_sync_hook_loads_the_body_for_an_async_view(app: Flask, client: FlaskClient) -> None:
    @app.before_request
    def load() -> None:
        assert request.get_json()["n"] == 1

    @app.post("/")
    async def view() -> Any:
        return {"plain": request.json["n"], "awaited": (await request.get_json())["n"]}

    assert client.post("/", json={"n": 1}).json == {"plain": 1, "awaited": 1}


@pytest.mark.parametrize("value", [3, "text", None, True, 1.5])
def test_json_scalars_can_be_awaited_after_loading(
    app: Flask, client: FlaskClient, value: Any
) -> None:
    @app.before_request
    def load() -> None:
        request.get_json()

    @app.post("/")
    async def view() -> Any:
        return {"value": await request.get_json()}

    assert client.post("/", data=json.dumps(value), content_type="application/json").json == {
        "value": value
    }


@pytest.mark.parametrize(
    ("expression", "hint"),
    [
        (lambda: request.form["a"], "form = await request.form"),
        (lambda: request.files.get("f"), "files = await request.files"),
        (lambda: request.values["a"], "values = await request.values"),
        (lambda: request.get_json()["a"], "data = await request.get_json()"),
        (lambda: request.json["a"], "data = await request.get_json()"),
        (lambda: request.data.decode(), "data = await request.get_data()"),
        (lambda: len(request.get_data()), "data = await request.get_data()"),
    ],
)
def test_plain_access_before_loading_in_an_async_view_says_what_to_write(
    app: Flask, client: FlaskClient, expression: Callable[[], Any], hint: str
) -> None:
    @app.post("/")
    async def view() -> Any:
        return str(expression())

    with pytest.raises(RuntimeError) as info:
        client.post("/", data='{"a": 1}', content_type="application/json")
    assert hint in str(info.value)
    assert "async view" in str(info.value)


def test_the_body_is_read_only_when_a_view_asks(app: Flask) -> None:
    @app.post("/untouched")
    def untouched() -> str:
        return "ok"

    @app.post("/touched")
    async def touched() -> Any:
        return {"form": (await request.form).to_dict()}

    headers = [(b"content-type", b"application/x-www-form-urlencoded")]
    status, _, calls = anyio.run(asgi_call, app, "POST", "/untouched", headers, [b"a=1"])
    assert (status, calls) == (200, 0)
    status, body, calls = anyio.run(asgi_call, app, "POST", "/touched", headers, [b"a=1"])
    assert (status, json.loads(body), calls) == (200, {"form": {"a": "1"}}, 1)


def test_the_body_is_read_once_and_get_data_after_form_returns_the_bytes(
    app: Flask,
) -> None:
    @app.post("/")
    def view() -> Any:
        return {
            "form": request.form.to_dict(),
            "data": request.get_data(as_text=True),
            "json": request.get_json(silent=True),
        }

    headers = [(b"content-type", b"application/x-www-form-urlencoded")]
    status, body, calls = anyio.run(asgi_call, app, "POST", "/", headers, [b"a=1&", b"b=2"])
    assert status == 200
    assert json.loads(body) == {"form": {"a": "1", "b": "2"}, "data": "a=1&b=2", "json": None}
    assert calls == 2


# -- streams ---------------------------------------------------------------------------


def test_stream_in_def_view_yields_chunks_without_buffering(app: Flask) -> None:
    @app.post("/")
    def view() -> Any:
        chunks = list(request.stream)
        return {
            "chunks": [c.decode() for c in chunks],
            "form": request.form.to_dict(),
            "data": request.get_data(as_text=True),
        }

    headers = [(b"content-type", b"application/x-www-form-urlencoded")]
    status, body, _ = anyio.run(asgi_call, app, "POST", "/", headers, [b"a=1", b"&b=2"])
    assert status == 200
    # Reading the stream first leaves form and data empty, as Flask documents.
    assert json.loads(body) == {"chunks": ["a=1", "&b=2"], "form": {}, "data": ""}


def test_stream_read_with_sizes_in_def_view(app: Flask) -> None:
    @app.post("/")
    def view() -> Any:
        return {"head": request.stream.read(2).decode(), "rest": request.stream.read().decode()}

    _, body, _ = anyio.run(asgi_call, app, "POST", "/", [], [b"abc", b"def"])
    assert json.loads(body) == {"head": "ab", "rest": "cdef"}


def test_stream_in_async_view(app: Flask) -> None:
    @app.post("/")
    async def view() -> Any:
        return {"chunks": [chunk.decode() async for chunk in request.stream]}

    _, body, _ = anyio.run(asgi_call, app, "POST", "/", [], [b"x", b"y", b"z"])
    assert json.loads(body) == {"chunks": ["x", "y", "z"]}


def test_stream_read_synchronously_in_an_async_view_says_what_to_write(
    app: Flask, client: FlaskClient
) -> None:
    @app.post("/")
    async def view() -> Any:
        return request.stream.read()

    with pytest.raises(RuntimeError, match=r"async for chunk in request\.stream"):
        client.post("/", data=b"x")


def test_stream_after_get_data_gives_the_cached_bytes(app: Flask, client: FlaskClient) -> None:
    @app.post("/")
    async def view() -> Any:
        await request.get_data()
        return await request.stream.aread()

    assert client.post("/", data=b"cached").data == b"cached"


# -- uploads ---------------------------------------------------------------------------


def test_uploaded_file_attributes_read_and_save_in_a_def_view(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    @app.post("/")
    def view() -> Any:
        upload = request.files["doc"]
        upload.save(tmp_path / "saved.txt")
        target = io.BytesIO()
        upload.save(target)
        upload.seek(0)
        return {
            "filename": upload.filename,
            "name": upload.name,
            "content_type": upload.content_type,
            "mimetype": upload.mimetype,
            # Werkzeug's FileStorage.content_length is the part's own
            # Content-Length header, which clients do not send: 0.
            "length": upload.content_length,
            "read": upload.read().decode(),
            "copy": target.getvalue().decode(),
            "bool": bool(upload),
            "field": request.form["title"],
        }

    response = client.post(
        "/",
        data={
            "title": "report",
            "doc": (io.BytesIO(b"hello file"), "notes.txt", "text/plain"),
        },
    )
    assert response.json == {
        "filename": "notes.txt",
        "name": "doc",
        "content_type": "text/plain",
        "mimetype": "text/plain",
        "length": 0,
        "read": "hello file",
        "copy": "hello file",
        "bool": True,
        "field": "report",
    }
    assert (tmp_path / "saved.txt").read_bytes() == b"hello file"


def test_uploaded_file_read_and_save_are_awaitable_in_an_async_view(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    @app.post("/")
    async def view() -> Any:
        files = await request.files
        upload = files["doc"]
        await upload.save(str(tmp_path / "saved.bin"))
        upload.seek(0)
        return {"read": (await upload.read()).decode(), "count": len(files.getlist("doc"))}

    response = client.post(
        "/", data={"doc": [(io.BytesIO(b"one"), "1.txt"), (io.BytesIO(b"two"), "2.txt")]}
    )
    assert response.json == {"read": "one", "count": 2}
    assert (tmp_path / "saved.bin").read_bytes() == b"one"


def test_large_uploads_spool_to_disk_and_every_temp_file_is_closed_after_the_request(
    app: Flask, client: FlaskClient
) -> None:
    seen: list[Any] = []

    @app.post("/")
    def view() -> Any:
        upload = request.files["big"]
        seen.append(upload)
        return {
            "on_disk": bool(getattr(upload.stream, "_rolled", False)),
            "size": len(upload.read()),
        }

    data = b"x" * (2 * 1024 * 1024)
    response = client.post("/", data={"big": (io.BytesIO(data), "big.bin")})
    assert response.json == {"on_disk": True, "size": len(data)}
    assert seen[0].closed


@pytest.mark.parametrize("kind", KINDS)
def test_temp_files_are_closed_when_the_view_raises(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    seen: list[Any] = []
    app.config["PROPAGATE_EXCEPTIONS"] = False

    if kind == "def":

        @app.post("/")
        def view() -> Any:
            seen.append(request.files["f"])
            raise ValueError("boom")

    else:

        @app.post("/")
        async def view() -> Any:
            seen.append((await request.files)["f"])
            raise ValueError("boom")

    response = client.post("/", data={"f": (io.BytesIO(b"data"), "f.txt")})
    assert response.status_code == 500
    assert seen[0].closed


def test_an_upload_save_returns_an_awaitable_in_async_views(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    @app.post("/")
    async def view() -> Any:
        files = await request.files
        result = files["f"].save(tmp_path / "x")
        kind = type(result).__name__
        await result
        return kind

    assert client.post("/", data={"f": (io.BytesIO(b"d"), "f.txt")}).text == "MustAwait"
    assert (tmp_path / "x").read_bytes() == b"d"


# -- limits ----------------------------------------------------------------------------


def test_a_declared_content_length_over_the_limit_is_refused_before_reading(app: Flask) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 10

    @app.post("/")
    def view() -> Any:
        return request.get_data()

    headers = [(b"content-length", b"11")]
    status, body, calls = anyio.run(asgi_call, app, "POST", "/", headers, [b"x" * 11])
    assert (status, calls) == (413, 0)
    assert b"Request Entity Too Large" in body


def test_a_chunked_body_growing_past_the_limit_is_cut_off(app: Flask) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 10

    @app.post("/")
    async def view() -> Any:
        return await request.get_data()

    chunks = [b"x" * 6, b"x" * 6, b"x" * 6, b"x" * 6]
    status, _, calls = anyio.run(asgi_call, app, "POST", "/", [], chunks)
    assert status == 413
    assert calls == 2  # stopped at the chunk that crossed the limit


def test_max_content_length_can_be_set_per_request(app: Flask, client: FlaskClient) -> None:
    @app.before_request
    def limit() -> None:
        if request.path == "/small":
            request.max_content_length = 3

    @app.post("/small")
    @app.post("/big", endpoint="big")
    def view() -> Any:
        return request.get_data()

    assert client.post("/small", data=b"1234").status_code == 413
    assert client.post("/big", data=b"1234").data == b"1234"


@pytest.mark.parametrize("multipart", [False, True])
def test_form_memory_and_part_limits_give_413(
    app: Flask, client: FlaskClient, multipart: bool
) -> None:
    app.config.update(MAX_FORM_MEMORY_SIZE=100, MAX_FORM_PARTS=3)
    form_view(app, "def", "form")

    def extra() -> dict[str, Any]:
        # A new file each time: the client closes the files it sends, as Flask's does.
        return {"f": (io.BytesIO(b"file"), "f.txt")} if multipart else {}

    assert client.post("/", data={"a": "x" * 50, **extra()}).status_code == 200
    assert client.post("/", data={"a": "x" * 150, **extra()}).status_code == 413
    many = {f"k{i}": "v" for i in range(5)}
    assert client.post("/", data={**many, **extra()}).status_code == 413


# -- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (b"multipart/form-data", b"--x\r\n\r\n"),
        (b"multipart/form-data; boundary=x", b"garbage without any boundary"),
        (
            b"multipart/form-data; boundary=x",
            b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\ntruncat',
        ),
        (
            b"multipart/form-data; boundary=x",
            b"--x\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--x--\r\n",
        ),
    ],
)
@pytest.mark.parametrize("kind", KINDS)
def test_malformed_multipart_is_a_4xx_never_a_500(
    app: Flask, content_type: bytes, body: bytes, kind: str
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    form_view(app, kind, "form")
    headers = [(b"content-type", content_type)]
    status, _, _ = anyio.run(asgi_call, app, "POST", "/", headers, [body])
    assert status in (200, 400), status


def test_invalid_utf8_is_replaced_in_forms_and_kept_percent_encoded_in_query_strings(
    app: Flask, client: FlaskClient
) -> None:
    @app.post("/")
    def view() -> Any:
        return {"form": request.form.to_dict(), "args": request.args.to_dict()}

    response = client.post(
        "/?q=%ZZ%ff",
        data=b"a=%E9t%C3%A9&b=%&c=\xff\xfe&d=caf\xc3\xa9",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert response.json == {
        "form": {"a": "\ufffdt\u00e9", "b": "%", "c": "\ufffd\ufffd", "d": "caf\u00e9"},
        "args": {"q": "%ZZ%FF"},  # Werkzeug's args
    }


def test_json_errors(app: Flask, client: FlaskClient) -> None:
    @app.post("/strict")
    def strict() -> Any:
        return {"data": request.get_json()}

    @app.post("/silent")
    async def silent() -> Any:
        return {"data": await request.get_json(silent=True)}

    response = client.post("/strict", data=b"{}", content_type="text/plain")
    assert response.status_code == 415
    response = client.post("/strict", data=b"{bad", content_type="application/json")
    assert response.status_code == 400
    assert b"Failed to decode JSON object" not in response.data  # shown in debug mode only
    app.debug = True
    response = client.post("/strict", data=b"{bad", content_type="application/json")
    assert b"Failed to decode JSON object" in response.data
    app.debug = False
    assert client.post("/silent", data=b"{bad", content_type="application/json").json == {
        "data": None
    }
    assert client.post("/silent", data=b"{}", content_type="text/plain").json == {"data": None}


def test_a_missing_form_key_is_a_400_bad_request(app: Flask, client: FlaskClient) -> None:
    @app.post("/")
    async def view() -> Any:
        return (await request.form)["missing"]

    response = client.post("/", data={"other": "1"})
    assert response.status_code == 400


# -- disconnects -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_client_disconnecting_mid_upload_ends_the_request_cleanly(app: Flask, kind: str) -> None:
    """No 500, no temp file left open (a ResourceWarning would fail the
    test), no thread left behind."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    outcomes: list[str] = []

    @app.teardown_request
    def record(exc: BaseException | None) -> None:
        outcomes.append(type(exc).__name__ if exc else "none")

    form_view(app, kind, "files")
    boundary = b"XyZ"
    head = (
        b'--XyZ\r\nContent-Disposition: form-data; name="f"; filename="a.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n"
    )
    headers = [(b"content-type", b"multipart/form-data; boundary=" + boundary)]
    threads_before = threading.active_count()
    status, _, _ = anyio.run(
        asgi_call, app, "POST", "/", headers, [head, b"x" * (2 * 1024 * 1024)], True
    )
    gc.collect()
    assert status == 400
    assert outcomes == ["none"]
    assert threading.active_count() <= threads_before + 1  # anyio may keep one idle worker


# -- over a real server ----------------------------------------------------------------


def test_uploads_streams_and_limits_over_a_real_server(
    app: Flask, live_server: Any, tmp_path: Path
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 3 * 1024 * 1024

    @app.post("/upload")
    def upload() -> Any:
        f = request.files["f"]
        f.save(tmp_path / "up.bin")
        f.seek(0)
        return {"name": f.filename, "size": len(f.read()), "title": request.form["title"]}

    @app.post("/count")
    async def count() -> Any:
        total = 0
        chunks = 0
        async for chunk in request.stream:
            total += len(chunk)
            chunks += 1
        return {"total": total, "chunks": chunks}

    def generate() -> Any:
        for _ in range(20):
            yield b"y" * 10_000

    with live_server(app) as server, httpx.Client(base_url=server.url) as http:
        data = b"z" * (2 * 1024 * 1024)
        response = http.post(
            "/upload",
            data={"title": "t"},
            files={"f": ("big.bin", data, "application/octet-stream")},
        )
        assert response.json() == {"name": "big.bin", "size": len(data), "title": "t"}
        assert (tmp_path / "up.bin").read_bytes() == data

        response = http.post("/count", content=generate())
        assert response.json()["total"] == 200_000

        response = http.post("/count", content=b"x" * (4 * 1024 * 1024))
        assert response.status_code == 413

        # A client that sends half its declared body and hangs up.
        with socket.create_connection(("127.0.0.1", server.port)) as raw:
            raw.sendall(b"POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
            raw.sendall(b"a" * 1000)
        # The server is still healthy.
        response = http.post("/count", content=b"abc")
        assert response.json() == {"total": 3, "chunks": 1}
