"""The test client takes Flask's arguments (Werkzeug's ``EnvironBuilder``'s,
a builder, a WSGI environ), follows redirects as Werkzeug's client does, and
gives Werkzeug-style responses, in sync and async tests alike."""

from __future__ import annotations

import importlib.metadata
import io
import logging
import sys
from typing import Any

import pytest
import werkzeug.test
from werkzeug.datastructures import ContentSecurityPolicy

from flaskish import Flask, Request, Response, g, redirect, request
from flaskish.testing import ClientRedirectError, EnvironBuilder, FlaskClient, TestResponse

WERKZEUG_UA = f"Werkzeug/{importlib.metadata.version('werkzeug')}"


@pytest.fixture
def seen_app(app: Flask) -> Flask:
    """``/seen`` (any method) answers what the request carried."""

    @app.route("/seen", methods=["GET", "POST", "PUT", "OPTIONS", "TRACE"])
    def seen() -> Any:
        auth = request.authorization
        return {
            "method": request.method,
            "url": request.url,
            "remote_addr": request.remote_addr,
            "user_agent": request.user_agent.string,
            "data": request.get_data(as_text=True),
            "content_type": request.content_type,
            "args": request.args.to_dict(flat=False),
            "remote_user": request.environ.get("REMOTE_USER"),
            "multithread": request.environ.get("wsgi.multithread"),
            "auth": auth and [auth.username, auth.password],
            "cookie": request.headers.get("Cookie"),
        }

    return app


@pytest.fixture
def seen(seen_app: Flask) -> FlaskClient:
    return seen_app.test_client()


# -- Flask's arguments ---------------------------------------------------------------------


def test_open_with_a_method_keyword(seen: FlaskClient) -> None:
    assert seen.open("/seen", method="OPTIONS").json["method"] == "OPTIONS"
    assert seen.trace("/seen").json["method"] == "TRACE"


def test_the_default_environ_base_gives_flasks_address_and_user_agent(seen: FlaskClient) -> None:
    """Flask: "``app.test_client()`` includes preset default environment,
    which can be set after instantiation of the ``app.test_client()`` object
    in ``client.environ_base``." """
    body = seen.get("/seen").json
    assert (body["remote_addr"], body["user_agent"]) == ("127.0.0.1", WERKZEUG_UA)
    seen.environ_base["REMOTE_ADDR"] = "192.168.0.22"
    seen.environ_base["HTTP_USER_AGENT"] = "Foo"
    body = seen.get("/seen").json
    assert (body["remote_addr"], body["user_agent"]) == ("192.168.0.22", "Foo")


def test_environ_base_and_environ_overrides_reach_the_request(seen: FlaskClient) -> None:
    body = seen.get(
        "/seen",
        environ_base={"REMOTE_USER": "ada", "REMOTE_ADDR": "10.0.0.1"},
        environ_overrides={"wsgi.url_scheme": "https"},
    ).json
    assert body["remote_user"] == "ada"
    assert body["remote_addr"] == "10.0.0.1"
    assert body["url"] == "https://localhost/seen"


def test_open_an_environ_builder_uses_the_clients_environ_base(
    seen_app: Flask, seen: FlaskClient
) -> None:
    """Flask's ``test_client_open_environ``: a builder, then its environ."""
    builder = EnvironBuilder(seen_app, path="/seen", method="PUT", data="body")
    try:
        body = seen.open(builder).json
        assert (body["method"], body["data"], body["remote_addr"]) == ("PUT", "body", "127.0.0.1")
        environ = builder.get_environ()
    finally:
        builder.close()
    seen.environ_base["REMOTE_ADDR"] = "127.0.0.2"
    assert seen.open(environ).json["remote_addr"] == "127.0.0.2"


def test_open_a_partial_environ_fills_in_what_a_server_sets(seen: FlaskClient) -> None:
    body = seen.open(
        {"REQUEST_METHOD": "GET", "PATH_INFO": "/seen", "QUERY_STRING": "a=1", "REMOTE_USER": "ada"}
    ).json
    assert (body["url"], body["remote_user"]) == ("http://localhost/seen?a=1", "ada")


def test_open_a_werkzeug_request(seen: FlaskClient) -> None:
    wsgi_request = werkzeug.test.EnvironBuilder("/seen", method="POST", data="x").get_request()
    assert seen.open(wsgi_request).json["data"] == "x"


def test_a_builder_with_more_arguments_is_a_type_error(seen_app: Flask, seen: FlaskClient) -> None:
    builder = EnvironBuilder(seen_app, "/seen")
    assert seen.get(builder).json["method"] == "GET"  # the builder's own method
    with pytest.raises(TypeError, match="method"):
        seen.post(builder)  # Flask would send a GET, ignoring method="POST"
    with pytest.raises(TypeError, match="headers"):
        seen.open({"REQUEST_METHOD": "GET"}, headers={"X": "1"})


def test_a_keyword_the_client_does_not_take_is_a_type_error_naming_it(seen: FlaskClient) -> None:
    with pytest.raises(TypeError, match="'colour'"):
        seen.get("/seen", colour="blue")


def test_base_url_comes_from_the_config(seen_app: Flask) -> None:
    """Flask: ``base_url`` "If not given, built from PREFERRED_URL_SCHEME,
    ``subdomain``, SERVER_NAME, and APPLICATION_ROOT." """
    seen_app.config.update(
        SERVER_NAME="example.com:1234", APPLICATION_ROOT="/foo", PREFERRED_URL_SCHEME="https"
    )
    client = seen_app.test_client()
    assert client.get("/seen").json["url"] == "https://example.com:1234/foo/seen"
    assert client.get("/seen", url_scheme="http").json["url"] == (
        "http://example.com:1234/foo/seen"
    )
    assert client.get("/seen", subdomain="api").json["url"] == (
        "https://api.example.com:1234/foo/seen"
    )
    assert client.get("/seen", base_url="http://other.test").json["url"] == (
        "http://other.test/seen"
    )
    with pytest.raises(ValueError, match="subdomain"):
        client.get("/seen", base_url="http://other.test", subdomain="api")


def test_environ_builder_serializes_json_with_the_app(app: Flask) -> None:
    """Flask: "EnvironBuilder.json_dumps() takes settings from the app." """
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    builder = EnvironBuilder(app, json="\u20ac")
    assert builder.input_stream is not None
    assert builder.input_stream.read().decode("utf8") == '"\u20ac"'


def test_environ_builder_get_request_is_the_apps_request(app: Flask) -> None:
    builder = EnvironBuilder(app, "/a?b=1", method="POST", data={"f": "v"})
    made = builder.get_request()
    assert isinstance(made, Request)
    assert (made.path, made.args["b"], made.form["f"]) == ("/a", "1", "v")


def test_input_stream_content_length_and_mimetype(seen: FlaskClient) -> None:
    stream = io.BytesIO(b"streamed body")
    response = seen.post("/seen", input_stream=stream, mimetype="text/plain")
    assert (response.json["data"], response.json["content_type"]) == (
        "streamed body",
        "text/plain; charset=utf-8",
    )
    assert not stream.closed
    response.close()
    assert stream.closed  # Werkzeug: closing the response closes the request's input


def test_auth_errors_stream_and_multithread(seen_app: Flask) -> None:
    errors = io.StringIO()

    @seen_app.route("/errors")
    def errors_view() -> str:
        return str(request.environ["wsgi.errors"] is errors)

    client = seen_app.test_client()
    body = client.get("/seen", auth=("ada", "secret")).json
    assert body["auth"] == ["ada", "secret"]
    assert body["multithread"] is False  # Werkzeug's default
    assert client.get("/seen", multithread=True).json["multithread"] is True
    assert client.get("/errors", errors_stream=errors).text == "True"


def test_the_files_sent_in_data_are_closed_as_flask_closes_them(seen: FlaskClient) -> None:
    upload = io.BytesIO(b"contents")
    seen.post("/seen", data={"f": (upload, "f.txt")})
    assert upload.closed


def test_query_string_values_of_none_are_left_out_from_a_builder(
    seen_app: Flask, seen: FlaskClient
) -> None:
    builder = EnvironBuilder(seen_app, "/seen", query_string={"a": None, "b": "1"})
    assert seen.open(builder).json["args"] == {"b": ["1"]}


def test_a_cookie_header_given_by_the_test_is_sent_with_the_jars_cookies(
    seen: FlaskClient,
) -> None:
    """Beyond Flask: Werkzeug's client drops a ``Cookie`` header the test gives
    when it keeps cookies; flaskish sends it, before the jar's cookies."""
    assert seen.get("/seen", headers={"Cookie": "a=1"}).json["cookie"] == "a=1"
    seen.set_cookie("jar", "2")
    assert seen.get("/seen", headers={"Cookie": "a=1"}).json["cookie"] == "a=1; jar=2"


def test_buffered_is_accepted(seen: FlaskClient) -> None:
    assert seen.get("/seen", buffered=True).json["method"] == "GET"


# -- redirects, as Werkzeug follows them ---------------------------------------------------


@pytest.fixture
def redirect_app(app: Flask) -> Flask:
    @app.route("/go/<int:code>", methods=["GET", "POST", "HEAD"])
    def go(code: int) -> Any:
        return redirect("/landed", code)

    @app.route("/landed", methods=["GET", "POST", "HEAD"])
    def landed() -> Any:
        return {
            "method": request.method,
            "form": request.form.to_dict(),
            "x": request.headers.get("X-Foo"),
        }

    @app.route("/loop")
    def loop() -> Any:
        return redirect("/loop")

    @app.route("/away")
    def away() -> Any:
        return redirect(request.args["to"])

    return app


@pytest.mark.parametrize(
    ("code", "keep"), [(301, False), (302, False), (303, False), (307, True), (308, True)]
)
def test_follow_redirects_keeps_the_body_only_for_307_and_308(
    redirect_app: Flask, code: int, keep: bool
) -> None:
    """Werkzeug: "Only 307 and 308 preserve all of the original request." """
    response = redirect_app.test_client().post(
        f"/go/{code}", data={"foo": "bar"}, headers={"X-Foo": "bar"}, follow_redirects=True
    )
    assert response.json == {
        "method": "POST" if keep else "GET",
        "form": {"foo": "bar"} if keep else {},
        "x": "bar",
    }
    assert [r.status_code for r in response.history] == [code]
    assert response.history[0].request.path == f"/go/{code}"
    assert response.request.path == "/landed"


def test_a_redirect_loop_raises_client_redirect_error(redirect_app: Flask) -> None:
    with pytest.raises(ClientRedirectError, match="Loop detected"):
        redirect_app.test_client().get("/loop", follow_redirects=True)


def test_external_and_subdomain_redirects(redirect_app: Flask) -> None:
    client = redirect_app.test_client()
    with pytest.raises(RuntimeError, match="external redirects"):
        client.get("/away?to=http://example.com/", follow_redirects=True)
    with pytest.raises(RuntimeError, match="subdomain redirects is not enabled"):
        client.get("/away?to=http://api.localhost/landed", follow_redirects=True)
    allowing = redirect_app.test_client(allow_subdomain_redirects=True)
    response = allowing.get("/away?to=http://api.localhost/landed", follow_redirects=True)
    assert response.request.host == "api.localhost"


def test_cookies_set_by_a_redirect_are_sent_on_to_its_target(app: Flask) -> None:
    @app.route("/in")
    def log_in() -> Any:
        response = redirect("/")
        response.set_cookie("auth", "in")
        return response

    @app.route("/")
    def index() -> str:
        return request.cookies.get("auth", "out")

    client = app.test_client()
    assert client.get("/in", follow_redirects=True).text == "in"


def test_with_client_keeps_the_context_of_the_final_request(redirect_app: Flask) -> None:
    with redirect_app.test_client() as client:
        client.post("/go/307", data={"foo": "bar"}, follow_redirects=True)
        assert (request.path, request.form["foo"]) == ("/landed", "bar")


# -- the response --------------------------------------------------------------------------


def test_werkzeug_response_attributes(app: Flask) -> None:
    @app.route("/headers", methods=["GET", "POST"])
    def headers() -> Any:
        response = Response("nope", 401, mimetype="text/plain")
        response.vary.add("Accept")
        response.cache_control.max_age = 60
        response.content_security_policy.default_src = "'self'"
        response.www_authenticate.type = "basic"
        response.www_authenticate["realm"] = "shop"
        return response

    response = app.test_client().get("/headers")
    assert response.mimetype == "text/plain"
    assert response.vary.as_set() == {"accept"}
    assert response.cache_control.max_age == 60
    assert isinstance(response.content_security_policy, ContentSecurityPolicy)
    assert response.content_security_policy.default_src == "'self'"
    assert (response.www_authenticate.type, response.www_authenticate["realm"]) == ("basic", "shop")
    assert (response.get_data(), response.text, response.json) == (b"nope", "nope", None)
    assert app.test_client().delete("/headers").allow.as_set() == {"get", "post", "head", "options"}


def test_the_response_request_is_the_request_the_app_got(seen: FlaskClient) -> None:
    """Werkzeug: ``TestResponse.request`` is "A request object with the
    environ used to make the request that resulted in this response." """
    seen.set_cookie("k", "v")
    response = seen.post("/seen?a=1", data={"f": "x"}, environ_base={"REMOTE_USER": "ada"})
    sent = response.request
    assert isinstance(sent, Request)
    assert (sent.method, sent.path, sent.args["a"], sent.cookies["k"]) == (
        "POST",
        "/seen",
        "1",
        "v",
    )
    assert sent.environ["REMOTE_USER"] == "ada"
    assert sent.form["f"] == "x"


def test_response_close_and_with(seen: FlaskClient) -> None:
    closed: list[bool] = []
    with seen.get("/seen") as response:
        response.call_on_close(lambda: closed.append(True))
        assert response.status_code == 200
    assert closed == [True]


def test_response_wrapper(app: Flask) -> None:
    class Mine(Response):
        def shout(self) -> str:
            return self.text.upper()

    app.route("/")(lambda: "hi")
    response = FlaskClient(app, response_wrapper=Mine).get("/")
    assert isinstance(response, Mine) and isinstance(response, TestResponse)
    assert response.shout() == "HI"
    with pytest.raises(TypeError, match="response_wrapper"):
        FlaskClient(app, response_wrapper=dict)  # type: ignore[arg-type]


# -- the same in an async test -------------------------------------------------------------


@pytest.mark.anyio
async def test_async_client_takes_builders_environs_and_environ_keywords(
    seen_app: Flask, redirect_app: Flask
) -> None:
    client = seen_app.test_client()
    builder = EnvironBuilder(seen_app, "/seen", method="PUT", data="b")
    try:
        assert (await client.open(builder)).json["data"] == "b"
    finally:
        builder.close()
    body = (await client.get("/seen", environ_base={"REMOTE_USER": "ada"})).json
    assert (body["remote_user"], body["user_agent"]) == ("ada", WERKZEUG_UA)
    response = await client.post("/go/308", data={"foo": "bar"}, follow_redirects=True)
    assert response.json["form"] == {"foo": "bar"}
    with pytest.raises(TypeError, match="'colour'"):
        client.get("/seen", colour="blue")


@pytest.mark.anyio
async def test_async_client_logs_nothing_per_request(
    redirect_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = redirect_app.test_client()
    assert (await client.get("/go/302", follow_redirects=True)).status_code == 200
    assert caplog.records == []


def test_the_environ_keeps_the_wsgi_errors_stream_by_default(seen_app: Flask) -> None:
    @seen_app.route("/stderr")
    def stderr() -> str:
        g.errors = request.environ["wsgi.errors"]
        return "ok"

    with seen_app.test_client() as client:
        client.get("/stderr")
        assert g.errors is sys.stderr


def test_a_request_whose_view_raised_leaves_nothing_registered(app: Flask) -> None:
    @app.route("/boom")
    def boom() -> str:
        raise LookupError("boom")

    client = app.test_client()
    with pytest.raises(LookupError):
        client.get("/boom")
    assert client._sent == {}
