"""Issue 14, hardening: cookies with hostile values, byte ranges Werkzeug
refuses, and request header limits (``MAX_REQUEST_HEADERS``,
``MAX_HEADER_SIZE``) that hold over a real uvicorn. Bad input gets a 4xx,
never a 500; a misuse gets an error naming the fix."""

from __future__ import annotations

import io
import socket
from pathlib import Path
from typing import Any

import pytest
from kinds import as_kind, both_kinds
from werkzeug.http import dump_cookie

from flaskish import (
    Flask,
    ProxyFix,
    Response,
    make_response,
    request,
    send_file,
    send_from_directory,
)
from flaskish.testing import FlaskClient

# -- helpers -----------------------------------------------------------------------


def raw_request(port: int, head: bytes) -> bytes:
    """Send *head* (a request without a body) on a fresh connection; the
    answer's head and whatever body came with it, until the server closes
    or a complete response is in."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            data += chunk
            head_end = data.find(b"\r\n\r\n")
            if head_end >= 0:
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in data[:head_end].lower().split(b"\r\n")
                        if line.startswith(b"content-length:")
                    ),
                    None,
                )
                if length is not None and len(data) >= head_end + 4 + length:
                    break
        return data


def get(path: bytes, *headers: bytes) -> bytes:
    return (
        b"GET "
        + path
        + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + b"".join(header + b"\r\n" for header in headers)
        + b"\r\n"
    )


def status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


# -- cookies: values are quoted, names that break the header are refused ------------


HOSTILE_VALUES = [
    "dark\r\nSet-Cookie: admin=1",
    "a\x00b\x01c\x1f\x7f",
    "tab\there",
    'quote" and \\ backslash; semicolon, comma',
    "non-ASCII: café ✓",
]


@both_kinds
@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_a_cookie_value_with_control_characters_is_quoted_and_read_back(
    app: Flask, client: FlaskClient, kind: str, value: str
) -> None:
    """As in Flask: a 200 whose Set-Cookie is exactly Werkzeug's dump_cookie
    (the value quoted, with octal escapes), one header, and the browser's
    copy reads back unchanged."""

    def set_it() -> Response:
        response = make_response("set")
        response.set_cookie("theme", value, samesite="Lax", httponly=True)
        return response

    def read_it() -> str:
        return request.cookies["theme"]

    app.route("/set")(as_kind(kind, set_it))
    app.route("/read")(as_kind(kind, read_it))
    response = client.get("/set")
    assert response.status_code == 200
    # Werkzeug 3.1 leaves \x1a-\x1f raw (a header no server sends): escaped too.
    expected = dump_cookie("theme", value, samesite="Lax", httponly=True).replace("\x1f", "\\037")
    assert response.headers.getlist("Set-Cookie") == [expected]
    assert response.headers["Set-Cookie"].isprintable()
    assert client.get("/read").text == value


def test_a_quoted_cookie_value_crosses_a_real_uvicorn(app: Flask, live_server: Any) -> None:
    @app.route("/")
    def index() -> Response:
        response = make_response("ok")
        response.set_cookie("theme", "dark\r\nSet-Cookie: admin=1")
        return response

    with live_server(app) as server:
        answer = raw_request(server.port, get(b"/"))
    assert status(answer) == 200
    assert b'set-cookie: theme="dark\\015\\012Set-Cookie: admin=1"; Path=/\r\n' in answer
    assert answer.count(b"set-cookie:") == 1


@pytest.mark.parametrize(
    "name", ["the\nme", "the\r\nme", "a\x01", "a\x7f", "tab\tname", "a;b", "a=b", ""]
)
@pytest.mark.parametrize("call", ["set_cookie", "delete_cookie"])
def test_a_cookie_name_that_breaks_the_header_is_refused_naming_it(name: str, call: str) -> None:
    """Werkzeug sends these (a broken header, or another cookie than the
    one asked for) or fails only when the response is sent."""
    response = Response("x")
    with pytest.raises(ValueError) as error:
        getattr(response, call)(name, *(("v",) if call == "set_cookie" else ()))
    message = str(error.value)
    assert f"The cookie name {name!r} cannot be sent" in message
    assert "set_cookie('prefs', value)" in message
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("domain", "example.com\r\nX-Evil: 1"),
        ("domain", "example.com; Secure"),
        ("expires", "Thu, 01 Jan 2099\r\n"),
    ],
)
def test_a_cookie_domain_or_expires_that_breaks_the_header_is_refused(
    argument: str, value: str
) -> None:
    with pytest.raises(ValueError, match=rf"The {argument}= of the cookie 'a' .* Pass "):
        Response("x").set_cookie("a", "v", **{argument: value})


def test_a_refused_cookie_name_in_a_view_is_a_500_with_the_message_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = Flask("cookie_misuse")

    @app.route("/")
    def index() -> Response:
        response = make_response("x")
        response.set_cookie("user\r\nid", "1")
        return response

    assert app.test_client().get("/").status_code == 500
    assert "The cookie name 'user\\r\\nid' cannot be sent" in caplog.text


def test_delete_cookie_keeps_werkzeugs_header_with_samesite_and_partitioned() -> None:
    response = Response("x")
    response.delete_cookie(
        "theme", path="/app", domain="example.com", samesite="Strict", partitioned=True
    )
    assert response.headers["Set-Cookie"] == dump_cookie(
        "theme",
        expires=0,
        max_age=0,
        path="/app",
        domain="example.com",
        samesite="Strict",
        partitioned=True,
    )
    assert "Partitioned" in response.headers["Set-Cookie"]
    assert "Secure" in response.headers["Set-Cookie"]  # partitioned implies it
    with pytest.raises(ValueError, match="SameSite must be"):
        Response("x").set_cookie("theme", "v", samesite="sometimes")


# -- ranges: what Werkzeug refuses is a 416 ------------------------------------------

DIGITS = b"0123456789"

#: Every Range Werkzeug's make_conditional answers with 416 on a 10-byte file.
REFUSED_RANGES = [
    "bytes=-0",  # a zero-length suffix
    "bytes=5-2",  # an end before its start
    "bytes=999999-",  # a start past the end
    "bytes=10-",
    "bytes=-20",  # a suffix longer than the file (Werkzeug's range_for_length)
    "bytes=abc",
    "bytes=",
    "bytes=0-1,3-4",  # several ranges
    "bytes=0-1, 50-60",
    "items=0-1",  # another unit
    "0-3",
    "",
]


@pytest.fixture
def files_app(tmp_path: Path) -> Flask:
    """``/static/digits.txt``, ``/static/empty.txt`` and views sending the
    digits with send_file (a path, a file object) and send_from_directory,
    each as a def and as an async def view."""
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "digits.txt").write_bytes(DIGITS)
    (tmp_path / "static" / "empty.txt").write_bytes(b"")
    app = Flask("ranges", root_path=str(tmp_path))
    app.config["TESTING"] = True
    app.opened = []  # type: ignore[attr-defined]

    def by_path() -> Any:
        return send_file("static/digits.txt")

    def by_file() -> Any:
        file = io.BytesIO(DIGITS)
        app.opened.append(file)  # type: ignore[attr-defined]
        return send_file(file, mimetype="text/plain")

    def from_directory() -> Any:
        return send_from_directory("static", "digits.txt")

    for kind in ("def", "async def"):
        prefix = "/async" if kind == "async def" else ""
        for func in (by_path, by_file, from_directory):
            app.add_url_rule(
                f"{prefix}/{func.__name__}", f"{prefix}{func.__name__}", as_kind(kind, func)
            )
    return app


FILE_URLS = [
    "/static/digits.txt",
    "/by_path",
    "/by_file",
    "/from_directory",
    "/async/by_path",
    "/async/by_file",
    "/async/from_directory",
]


@pytest.mark.parametrize("url", FILE_URLS)
@pytest.mark.parametrize("header", REFUSED_RANGES)
def test_a_range_werkzeug_refuses_is_a_416_with_the_size(
    files_app: Flask, url: str, header: str
) -> None:
    response = files_app.test_client().get(url, headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == "bytes */10"
    assert DIGITS not in response.data
    assert all(file.closed for file in files_app.opened)  # type: ignore[attr-defined]


@pytest.mark.parametrize("url", FILE_URLS)
def test_a_satisfiable_range_is_still_a_206(files_app: Flask, url: str) -> None:
    response = files_app.test_client().get(url, headers={"Range": "bytes=2-4"})
    assert (response.status_code, response.data) == (206, b"234")
    assert response.headers["Content-Range"] == "bytes 2-4/10"


@pytest.mark.parametrize("url", ["/static/digits.txt", "/async/by_path"])
def test_a_stale_if_range_sends_the_whole_file_whatever_the_range(
    files_app: Flask, url: str
) -> None:
    """If-Range with another ETag means 'send it all': the Range, good or
    bad, is not looked at (Werkzeug: the range is not processable)."""
    client = files_app.test_client()
    for header in ("bytes=0-1", "bytes=-0", "bytes=abc"):
        response = client.get(url, headers={"Range": header, "If-Range": '"stale"'})
        assert (response.status_code, response.data) == (200, DIGITS), header
    etag = client.get(url).headers["ETag"]
    current = client.get(url, headers={"Range": "bytes=-0", "If-Range": etag})
    assert current.status_code == 416


def test_a_range_on_an_empty_file_is_ignored_as_in_werkzeug(files_app: Flask) -> None:
    client = files_app.test_client()
    for header in ("bytes=0-1", "bytes=-0"):
        response = client.get("/static/empty.txt", headers={"Range": header})
        assert (response.status_code, response.data) == (200, b""), header


def test_a_416_goes_through_the_apps_error_handler(files_app: Flask) -> None:
    """Werkzeug raises RequestedRangeNotSatisfiable, so Flask's
    errorhandler(416) answers; here too."""

    @files_app.errorhandler(416)
    def not_satisfiable(error: Any) -> tuple[str, int, dict[str, str]]:
        return "no such bytes", 416, {"Content-Range": f"bytes */{error.length}"}

    response = files_app.test_client().get("/async/by_path", headers={"Range": "bytes=-0"})
    assert (response.status_code, response.text) == (416, "no such bytes")
    assert response.headers["Content-Range"] == "bytes */10"


def test_a_matching_if_none_match_is_a_304_before_the_range_is_read(files_app: Flask) -> None:
    """RFC 9110's order (Werkzeug looks at the range first and would say 416)."""
    client = files_app.test_client()
    etag = client.get("/static/digits.txt").headers["ETag"]
    response = client.get(
        "/static/digits.txt", headers={"Range": "bytes=-0", "If-None-Match": etag}
    )
    assert response.status_code == 304


def test_response_make_conditional_raises_werkzeugs_416() -> None:
    from werkzeug.exceptions import RequestedRangeNotSatisfiable

    app = Flask("conditional")
    with app.test_request_context(headers={"Range": "bytes=-0"}):
        with pytest.raises(RequestedRangeNotSatisfiable) as error:
            Response(DIGITS).make_conditional(request, accept_ranges=True)
    assert error.value.length == 10


def test_a_refused_range_over_a_real_uvicorn(files_app: Flask, live_server: Any) -> None:
    with live_server(files_app) as server:
        refused = raw_request(server.port, get(b"/static/digits.txt", b"Range: bytes=-0"))
        ranged = raw_request(server.port, get(b"/async/by_file", b"Range: bytes=-3"))
    assert status(refused) == 416
    assert b"content-range: bytes */10\r\n" in refused.lower()
    assert status(ranged) == 206 and ranged.endswith(b"\r\n\r\n789")


# -- request header limits -----------------------------------------------------------


def scope_with(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1234),
        "server": ("127.0.0.1", 80),
    }


async def call_asgi(
    app: Any, headers: list[tuple[bytes, bytes]]
) -> tuple[int, dict[bytes, bytes], bytes]:
    """Call *app* with exactly these headers; its status, headers and body."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope_with(headers), receive, send)
    return (
        sent[0]["status"],
        dict(sent[0]["headers"]),
        b"".join(message.get("body", b"") for message in sent[1:]),
    )


@pytest.fixture
def limited_app() -> Flask:
    app = Flask("limits")
    app.seen = 0  # type: ignore[attr-defined]

    @app.before_request
    def count() -> None:
        app.seen += 1  # type: ignore[attr-defined]

    @app.route("/")
    def index() -> str:
        return "ok"

    return app


def test_the_default_limits_are_gunicorns(limited_app: Flask) -> None:
    assert limited_app.config["MAX_REQUEST_HEADERS"] == 100
    assert limited_app.config["MAX_HEADER_SIZE"] == 8190


@pytest.mark.anyio
async def test_more_headers_than_max_request_headers_is_a_431_the_app_never_sees(
    limited_app: Flask,
) -> None:
    hundred = [(b"x-%d" % i, b"v") for i in range(100)]
    assert (await call_asgi(limited_app, hundred))[0] == 200
    code, headers, body = await call_asgi(limited_app, [*hundred, (b"x-one-more", b"v")])
    assert code == 431
    assert headers[b"connection"] == b"close"
    assert b"The request has 101 header fields; this server accepts at most 100." in body
    assert limited_app.seen == 1  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_a_header_longer_than_max_header_size_is_a_431(limited_app: Flask) -> None:
    assert (await call_asgi(limited_app, [(b"cookie", b"a" * 8184)]))[0] == 200  # 6 + 8184
    code, _, body = await call_asgi(limited_app, [(b"cookie", b"a" * 8185)])
    assert code == 431
    assert b"The request header &#39;cookie&#39; is 8191 bytes long" in body
    assert limited_app.seen == 1  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_the_limits_follow_the_config_and_none_turns_them_off(limited_app: Flask) -> None:
    many = [(b"x-%d" % i, b"v" * 9000) for i in range(300)]
    assert (await call_asgi(limited_app, many))[0] == 431
    limited_app.config.update(MAX_REQUEST_HEADERS=None, MAX_HEADER_SIZE=None)
    assert (await call_asgi(limited_app, many))[0] == 200
    limited_app.config.update(MAX_REQUEST_HEADERS=2, MAX_HEADER_SIZE=10)
    assert (await call_asgi(limited_app, [(b"a", b"1"), (b"b", b"2")]))[0] == 200
    assert (await call_asgi(limited_app, [(b"a", b"1"), (b"b", b"2"), (b"c", b"3")]))[0] == 431
    assert (await call_asgi(limited_app, [(b"a", b"1234567890")]))[0] == 431


@pytest.mark.anyio
async def test_the_limits_hold_in_front_of_asgi_and_wsgi_middleware(limited_app: Flask) -> None:
    """The check is the app's ASGI entry: app.asgi_app and app.wsgi_app
    middleware come after it."""
    limited_app.asgi_app = ProxyFix(limited_app.asgi_app)
    too_many = [(b"x-%d" % i, b"v") for i in range(101)]
    assert (await call_asgi(limited_app, too_many))[0] == 431
    wsgi_app = limited_app.wsgi_app
    limited_app.wsgi_app = lambda environ, start: wsgi_app(environ, start)
    assert (await call_asgi(limited_app, too_many))[0] == 431
    assert limited_app.seen == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", [0, -1, 1.5, "100", True])
@pytest.mark.parametrize("key", ["MAX_REQUEST_HEADERS", "MAX_HEADER_SIZE"])
def test_a_bad_limit_is_refused_with_the_line_to_write(
    limited_app: Flask, key: str, value: Any
) -> None:
    limited_app.config[key] = value
    with pytest.raises(ValueError) as error:
        limited_app.header_limits.validate()
    assert str(error.value).startswith(
        f"{key} must be a whole number of at least 1, or None for no limit, not {value!r}."
    )
    assert f"Write app.config[{key!r}] =" in str(error.value)


def test_a_bad_limit_stops_the_server_before_it_serves(limited_app: Flask) -> None:
    """The check runs at lifespan startup (``with client:`` runs it, as
    uvicorn does), so a typo never gives 500s in production."""
    limited_app.config["MAX_HEADER_SIZE"] = "8k"
    with pytest.raises(ValueError, match="MAX_HEADER_SIZE must be a whole number"):
        with limited_app.test_client():
            pass


@pytest.mark.parametrize("http", ["httptools", "h11"])
def test_header_limits_over_a_real_uvicorn(limited_app: Flask, live_server: Any, http: str) -> None:
    """``uvicorn module:app`` (both of its HTTP parsers) accepts 10,000
    headers or a 100 KB value; the app answers 431 before a hook runs."""
    many = get(b"/", *(b"X-Header-%d: v" % i for i in range(10_000)))
    big = get(b"/", b"X-Big: " + b"a" * 100_000)
    with live_server(limited_app, http=http) as server:
        answers = [raw_request(server.port, head) for head in (many, big, get(b"/"))]
        behind_proxy = live_server(ProxyFix(limited_app, x_for=1))
    refused = {431} if http == "httptools" else {431, 400}
    # h11 stops buffering a request head at 16 KiB (uvicorn's
    # h11_max_incomplete_event_size) with a 400, when the head arrives in
    # pieces; a head that arrives whole gets to the app's 431.
    assert status(answers[0]) in refused and status(answers[1]) in refused
    assert status(answers[2]) == 200 and answers[2].endswith(b"\r\n\r\nok")
    if http == "httptools":
        assert b"connection: close\r\n" in answers[0].lower()
        assert b"10001 header fields" in answers[0]
    assert limited_app.seen == 1  # type: ignore[attr-defined]
    with behind_proxy as server:  # what `flaskish run --proxy-headers` serves
        assert status(raw_request(server.port, big)) in refused
    assert limited_app.seen == 1  # type: ignore[attr-defined]
