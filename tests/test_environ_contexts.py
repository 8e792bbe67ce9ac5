"""Request contexts from a WSGI environ (``app.request_context(environ)``)
and ``test_request_context`` built with Flask's ``EnvironBuilder``
arguments; a malformed environ is a ``BadRequest``."""

from __future__ import annotations

import io
from typing import Any

import pytest
from werkzeug.exceptions import BadRequest

from flaskish import Flask, request
from flaskish.testing import EnvironBuilder, FlaskClient


def test_request_context_accepts_a_wsgi_environ(app: Flask) -> None:
    """Flask: ``request_context(environ)`` takes "a WSGI environment"."""
    builder = EnvironBuilder(
        app,
        "/items?page=2",
        method="POST",
        data={"name": "ada"},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    with app.request_context(environ):
        assert (request.method, request.path, request.args["page"]) == ("POST", "/items", "2")
        assert request.form["name"] == "ada"
        assert request.remote_addr == "10.1.2.3"
        assert request.url == "http://localhost/items?page=2"


def test_request_context_accepts_a_minimal_environ(app: Flask) -> None:
    environ = {
        "REQUEST_METHOD": "PUT",
        "PATH_INFO": "/x",
        "SCRIPT_NAME": "/app",
        "SERVER_NAME": "example.com",
        "SERVER_PORT": "8080",
        "HTTP_X_TOKEN": "t",
        "CONTENT_LENGTH": "5",
        "wsgi.input": io.BytesIO(b"hello, and more"),
    }
    with app.request_context(environ):
        assert (request.method, request.path, request.script_root) == ("PUT", "/x", "/app")
        assert request.headers["X-Token"] == "t"
        assert request.get_data() == b"hello"  # CONTENT_LENGTH bytes, as Werkzeug reads


@pytest.mark.anyio
async def test_async_with_a_request_context_from_an_environ(app: Flask) -> None:
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": "7",
        "wsgi.input": io.BytesIO(b'{"a":1}'),
    }
    async with app.request_context(environ):
        assert await request.get_json() == {"a": 1}


def test_the_url_of_an_environ_context_is_matched(app: Flask) -> None:
    @app.route("/user/<name>")
    def user(name: str) -> str:  # pragma: no cover - only matched
        return name

    with app.request_context({"REQUEST_METHOD": "GET", "PATH_INFO": "/user/ada"}):
        assert (request.endpoint, request.view_args) == ("user", {"name": "ada"})


def test_environ_keys_a_scope_has_no_place_for_stay_in_request_environ(app: Flask) -> None:
    environ = {"REQUEST_METHOD": "GET", "REMOTE_USER": "ada", "myapp.tenant": "acme"}
    with app.request_context(environ):
        assert request.environ["REMOTE_USER"] == "ada"
        assert request.environ["myapp.tenant"] == "acme"
        assert request.environ["asgi.scope"] is request.scope


class Unreadable:
    pass


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"PATH_INFO": "/"}, "no REQUEST_METHOD"),
        ({"REQUEST_METHOD": 1}, "no REQUEST_METHOD"),
        ({"REQUEST_METHOD": "GET", "HTTP_X_TOKEN": 1}, "HTTP_X_TOKEN is int"),
        ({"REQUEST_METHOD": "GET", "PATH_INFO": b"/"}, "PATH_INFO is bytes"),
        ({"REQUEST_METHOD": "GET", "PATH_INFO": "/\u2603"}, "not latin-1"),
        ({"REQUEST_METHOD": "GET", "SERVER_PORT": "http"}, "SERVER_PORT is 'http'"),
        ({"REQUEST_METHOD": "GET", "CONTENT_LENGTH": "-1"}, "CONTENT_LENGTH"),
        ({"REQUEST_METHOD": "GET", "wsgi.input": Unreadable()}, "wsgi.input has no read"),
        ({"REQUEST_METHOD": "GET", 3: "x"}, "not a str"),
    ],
    ids=[
        "no method",
        "method not str",
        "header not str",
        "path bytes",
        "not latin-1",
        "port",
        "length",
        "input",
        "key",
    ],
)
def test_a_malformed_environ_is_a_bad_request(
    app: Flask, environ: dict[Any, Any], message: str
) -> None:
    with pytest.raises(BadRequest, match=message):
        app.request_context(environ)


def test_a_wsgi_input_that_gives_text_is_a_bad_request_when_read(app: Flask) -> None:
    environ = {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": "2", "wsgi.input": io.StringIO("ab")}
    with app.request_context(environ), pytest.raises(BadRequest, match="not bytes"):
        request.get_data()


def test_test_request_context_takes_environ_base_and_environ_overrides(app: Flask) -> None:
    """Flask: ``test_request_context`` "Takes the same arguments as
    Werkzeug's EnvironBuilder, with some defaults from the application." """
    with app.test_request_context(
        "/p",
        environ_base={"REMOTE_USER": "ada", "REMOTE_ADDR": "10.0.0.9"},
        environ_overrides={"wsgi.url_scheme": "https", "HTTP_HOST": "shop.test"},
    ):
        assert request.environ["REMOTE_USER"] == "ada"
        assert request.remote_addr == "10.0.0.9"
        assert request.url == "https://shop.test/p"


def test_test_request_context_takes_the_config_defaults(app: Flask) -> None:
    """Flask's ``test_environ_defaults_from_config``."""
    app.config.update(SERVER_NAME="example.com:1234", APPLICATION_ROOT="/foo")
    assert app.test_request_context().request.url == "http://example.com:1234/foo/"
    with app.test_request_context(url_scheme="https"):
        assert request.url == "https://example.com:1234/foo/"


def test_test_request_context_takes_input_stream_and_auth(app: Flask) -> None:
    with app.test_request_context(
        "/",
        method="POST",
        input_stream=io.BytesIO(b"raw"),
        content_type="text/plain",
        auth=("ada", "pw"),
    ):
        assert request.get_data() == b"raw"
        assert request.authorization is not None
        assert (request.authorization.username, request.authorization.password) == ("ada", "pw")


def test_keys_added_by_wsgi_middleware_reach_request_environ(
    app: Flask, client: FlaskClient
) -> None:
    @app.route("/orig")
    def orig() -> Any:
        return {"user": request.environ["REMOTE_USER"], "mine": request.environ["my.key"]}

    inner = app.wsgi_app

    def middleware(environ: dict[str, Any], start_response: Any) -> Any:
        environ.update({"REMOTE_USER": "ann", "my.key": [1, 2]})
        return inner(environ, start_response)

    app.wsgi_app = middleware  # type: ignore[method-assign]
    assert client.get("/orig").json == {"user": "ann", "mine": [1, 2]}
