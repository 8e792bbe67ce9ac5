"""``app.wsgi_app``: WSGI middleware written for Flask wraps a flaskish app
unchanged, and what it changes in the environ reaches the request; the app
is also a WSGI callable for WSGI tools. (Werkzeug's ``ProxyFix`` is refused
there: ``tests/test_proxy_fix.py``.)"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import anyio
import httpx2 as httpx
import pytest
from kinds import as_kind, both_kinds
from werkzeug.test import Client

from flaskish import Flask, request, url_for
from flaskish.testing import FlaskClient
from flaskish.wsgi import environ_from_scope, scope_from_environ

FORWARDED = {
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Host": "shop.example",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Prefix": "/store",
}


def forwarding(inner: Any) -> Any:
    """WSGI middleware of the kind Flask apps write: it sets the client,
    host, scheme and script name from ``X-Forwarded-*`` (trusting them all)."""

    def middleware(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        for header, key in (
            ("FOR", "REMOTE_ADDR"),
            ("HOST", "HTTP_HOST"),
            ("PROTO", "wsgi.url_scheme"),
            ("PREFIX", "SCRIPT_NAME"),
        ):
            if f"HTTP_X_FORWARDED_{header}" in environ:
                environ[key] = environ[f"HTTP_X_FORWARDED_{header}"]
        return inner(environ, start_response)  # type: ignore[no-any-return]

    return middleware


def passing(inner: Any) -> Any:
    """WSGI middleware that changes nothing."""
    return lambda environ, start_response: inner(environ, start_response)


def where(app: Flask, kind: str) -> None:
    def view() -> dict[str, Any]:
        return {
            "host": request.host,
            "remote": request.remote_addr,
            "scheme": request.scheme,
            "root": request.root_path,
            "url": url_for("view", _external=True),
        }

    app.route("/where")(as_kind(kind, view))


@both_kinds
def test_wsgi_middleware_sets_host_client_scheme_and_prefix(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    where(app, kind)
    app.wsgi_app = forwarding(app.wsgi_app)  # type: ignore[method-assign]
    assert client.get("/where", headers=FORWARDED).json == {
        "host": "shop.example",
        "remote": "203.0.113.7",
        "scheme": "https",
        "root": "/store",
        "url": "https://shop.example/store/where",
    }


def test_without_middleware_the_forwarded_headers_are_not_trusted(
    app: Flask, client: FlaskClient
) -> None:
    where(app, "def")
    body = client.get("/where", headers=FORWARDED).json
    assert (body["host"], body["remote"], body["scheme"]) == ("localhost", "127.0.0.1", "http")


@both_kinds
def test_the_body_passes_through_the_middleware(app: Flask, client: FlaskClient, kind: str) -> None:
    def view() -> dict[str, Any]:
        return {"json": request.get_json(), "length": request.content_length}

    if kind == "async def":

        async def view() -> dict[str, Any]:  # type: ignore[misc]
            return {"json": await request.get_json(), "length": request.content_length}

    app.route("/echo", methods=["POST"])(view)
    app.wsgi_app = passing(app.wsgi_app)  # type: ignore[method-assign]
    response = client.post("/echo", json={"a": [1, 2]})
    assert response.json == {"json": {"a": [1, 2]}, "length": len(b'{"a": [1, 2]}')}


def test_middleware_that_changes_the_response_is_honoured(app: Flask, client: FlaskClient) -> None:
    app.route("/")(lambda: "body")
    inner = app.wsgi_app

    def add_header(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, ("X-Middleware", "seen")], exc_info)

        return inner(environ, start)

    app.wsgi_app = add_header  # type: ignore[method-assign]
    response = client.get("/")
    assert (response.text, response.headers["X-Middleware"]) == ("body", "seen")


def test_a_subclass_wsgi_app_method_wraps_the_app() -> None:
    class App(Flask):
        def wsgi_app(self, environ: dict[str, Any], start_response: Any) -> Any:  # type: ignore[override]
            environ["HTTP_X_FROM_SUBCLASS"] = "yes"
            return super().wsgi_app(environ, start_response)

    app = App(__name__)
    app.route("/")(lambda: request.headers["X-From-Subclass"])
    assert app.test_client().get("/").text == "yes"


def test_an_error_in_a_view_propagates_through_the_middleware_when_testing(
    app: Flask, client: FlaskClient
) -> None:
    def broken() -> str:
        raise LookupError("from the view")

    app.route("/")(broken)
    app.wsgi_app = passing(app.wsgi_app)  # type: ignore[method-assign]
    with pytest.raises(LookupError, match="from the view"):
        client.get("/")


def test_the_app_is_a_wsgi_callable_for_wsgi_tools(app: Flask) -> None:
    """Outside any event loop (Werkzeug's own test client), ``wsgi_app``
    runs the app and returns its response."""
    app.route("/hello/<name>")(lambda name: f"hello {name}")
    response = Client(app.wsgi_app).get("/hello/ada")
    assert (response.status_code, response.get_data(as_text=True)) == (200, "hello ada")


def test_wsgi_middleware_over_a_real_server(app: Flask, live_server: Any) -> None:
    where(app, "async def")
    app.wsgi_app = forwarding(app.wsgi_app)  # type: ignore[method-assign]
    with live_server(app) as server:
        body = httpx.get(f"http://127.0.0.1:{server.port}/where", headers=FORWARDED).json()
    assert (body["host"], body["scheme"]) == ("shop.example", "https")


def test_environ_and_scope_round_trip() -> None:
    scope = {
        "type": "http",
        "method": "POST",
        "scheme": "https",
        "path": "/app/caf\u00e9",
        "root_path": "/app",
        "query_string": b"q=1",
        "http_version": "1.1",
        "headers": [
            (b"host", b"example.com"),
            (b"content-type", b"text/plain"),
            (b"x-a", b"1"),
            (b"x-a", b"2"),
        ],
        "server": ("example.com", 443),
        "client": ("10.0.0.1", 5555),
    }
    environ = environ_from_scope(scope)
    assert environ["PATH_INFO"] == "/caf\u00e9".encode().decode("latin-1")
    assert (environ["SCRIPT_NAME"], environ["HTTP_X_A"], environ["CONTENT_TYPE"]) == (
        "/app",
        "1,2",
        "text/plain",
    )
    back = scope_from_environ(environ)
    assert (back["path"], back["root_path"]) == ("/app/caf\u00e9", "/app")
    assert back["query_string"] == b"q=1"
    assert (b"host", b"example.com") in back["headers"]
    assert back["client"] == ("10.0.0.1", 5555) and back["server"] == ("example.com", 443)


def test_middleware_that_never_calls_start_response_is_a_runtime_error(
    app: Flask, client: FlaskClient
) -> None:
    app.route("/")(lambda: "body")

    def forgetful(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        return [b"a body without a status"]

    app.wsgi_app = forgetful  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="never called start_response"):
        client.get("/")


def test_the_close_method_of_the_middlewares_result_is_called(
    app: Flask, client: FlaskClient
) -> None:
    """PEP 3333: the server calls ``close()`` on what the WSGI callable
    returned once it has its body (middleware releases resources there)."""
    app.route("/")(lambda: "body")
    inner = app.wsgi_app
    events: list[str] = []

    class ClosingResult:
        def __init__(self, body: Iterable[bytes]) -> None:
            self.body = body

        def __iter__(self) -> Any:
            events.append("iterated")
            return iter(self.body)

        def close(self) -> None:
            events.append("closed")

    def middleware(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        return ClosingResult(inner(environ, start_response))

    app.wsgi_app = middleware  # type: ignore[method-assign]
    assert client.get("/").text == "body"
    assert events == ["iterated", "closed"]


@both_kinds
def test_head_through_middleware_sends_the_headers_of_get_without_the_body(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    def index() -> str:
        return "some body"

    app.route("/")(as_kind(kind, index))
    app.wsgi_app = passing(app.wsgi_app)  # type: ignore[method-assign]
    get = client.get("/")
    head = client.head("/")
    assert (head.status_code, head.data) == (200, b"")
    assert head.headers["Content-Length"] == get.headers["Content-Length"] == "9"
    assert head.headers["Content-Type"] == get.headers["Content-Type"]


def test_a_client_that_leaves_before_the_body_arrives_gets_nothing(app: Flask) -> None:
    """The ASGI server reports ``http.disconnect`` while the body is being
    read: the middleware never runs, nothing is sent, nothing is raised."""
    calls: list[str] = []
    app.route("/", methods=["POST"])(lambda: calls.append("view") or "body")
    inner = app.wsgi_app

    def middleware(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        calls.append("middleware")  # pragma: no cover - must not run
        return inner(environ, start_response)  # pragma: no cover

    app.wsgi_app = middleware  # type: ignore[method-assign]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"localhost"), (b"content-length", b"5")],
        "server": ("localhost", 80),
        "client": ("127.0.0.1", 50000),
    }
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)  # pragma: no cover - must not be called

    anyio.run(app, scope, receive, send)
    assert (sent, calls) == ([], [])


def test_a_header_sent_empty_reaches_the_view_through_the_middleware(
    app: Flask, client: FlaskClient
) -> None:
    """As in Flask, ``X-Empty:`` is a header with the value ``""``; the
    empty ``CONTENT_TYPE`` a WSGI server sets for a request without one is
    not a header."""

    @app.route("/")
    def view() -> str:
        return repr((request.headers.get("X-Empty"), request.headers.get("Content-Type")))

    app.wsgi_app = passing(app.wsgi_app)  # type: ignore[method-assign]
    assert client.get("/", headers={"X-Empty": ""}).text == "('', None)"
    wsgi_tool = Client(app.wsgi_app).get(
        "/", headers={"X-Empty": ""}, environ_overrides={"CONTENT_TYPE": ""}
    )
    assert wsgi_tool.get_data(as_text=True) == "('', None)"


def test_the_wsgi_callable_names_the_asgi_app_it_runs(app: Flask) -> None:
    async def asgi_middleware(scope: Any, receive: Any, send: Any) -> None:
        raise NotImplementedError  # pragma: no cover - never called

    assert repr(app.wsgi_app) == f"<flaskish WSGIApp around {app.asgi_app!r}>"
    app.asgi_app = asgi_middleware
    assert repr(app.wsgi_app) == f"<flaskish WSGIApp around {asgi_middleware!r}>"
