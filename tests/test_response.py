"""``flaskish.Response`` as Flask users know it: the constructor, status,
headers, body, content type, JSON, cookies, ``call_on_close``, and how the
pipeline uses ``app.response_class`` and answers ``HEAD``."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any, TypeVar

import anyio
import pytest
from kinds import as_kind, both_kinds
from werkzeug.http import parse_cookie

from flaskish import Flask, Response, abort, jsonify, make_response, redirect
from flaskish.testing import FlaskClient

F = TypeVar("F", bound=Callable[..., Any])


# -- construction and status --------------------------------------------------------


def test_defaults_are_an_empty_200_html_page() -> None:
    response = Response()
    assert response.status_code == 200
    assert response.status == "200 OK"
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.mimetype == "text/html"
    assert response.data == b""


def test_the_constructor_takes_flask_arguments_by_keyword() -> None:
    response = Response(
        response="created", status=201, headers={"X-Id": "7"}, mimetype="text/plain"
    )
    assert response.status_code == 201
    assert response.headers["X-Id"] == "7"
    assert response.content_type == "text/plain; charset=utf-8"
    assert response.data == b"created"


@pytest.mark.parametrize(
    ("status", "code", "line"),
    [
        (404, 404, "404 NOT FOUND"),
        ("404", 404, "404 NOT FOUND"),
        ("404 NOT FOUND", 404, "404 NOT FOUND"),
        (HTTPStatus.CREATED, 201, "201 CREATED"),
        ("  418  ", 418, "418 I'M A TEAPOT"),
        (500, 500, "500 INTERNAL SERVER ERROR"),
    ],
)
def test_status_as_an_int_or_a_string(status: Any, code: int, line: str) -> None:
    response = Response(status=status)
    assert response.status_code == code
    assert response.status == line


def test_the_status_line_names_the_code() -> None:
    assert Response(status=404).status == "404 NOT FOUND"
    assert Response(status=201).status == "201 CREATED"
    assert Response(status=500).status == "500 INTERNAL SERVER ERROR"


def test_a_status_line_with_a_custom_reason_phrase_is_kept() -> None:
    assert Response(status="200 Everything fine").status == "200 Everything fine"


def test_setting_status_code_updates_the_status_line() -> None:
    response = Response()
    response.status_code = 404
    assert response.status == "404 NOT FOUND"
    response.status = "201 CREATED"
    assert response.status_code == 201
    response.status = 202
    assert response.status == "202 ACCEPTED"


def test_a_status_line_without_a_code_gets_code_0_as_in_werkzeug() -> None:
    response = Response(status="not a status")
    assert response.status_code == 0
    assert response.status == "0 not a status"


# -- headers ------------------------------------------------------------------------


def test_headers_are_mutable_and_case_insensitive() -> None:
    response = Response()
    response.headers["X-Count"] = 1  # type: ignore[assignment]
    assert response.headers["x-count"] == "1"
    response.headers["X-COUNT"] = "2"
    assert response.headers.getlist("X-Count") == ["2"]
    del response.headers["x-count"]
    assert "X-Count" not in response.headers


def test_headers_add_keeps_and_set_replaces() -> None:
    response = Response()
    response.headers.add("X-Tag", "a")
    response.headers.add("X-Tag", "b")
    assert response.headers.getlist("X-Tag") == ["a", "b"]
    assert response.headers["X-Tag"] == "a"
    response.headers.set("X-Tag", "c")
    assert response.headers.getlist("X-Tag") == ["c"]
    assert response.headers.getlist("X-None") == []


def test_headers_add_with_parameters() -> None:
    response = Response()
    response.headers.add("Content-Disposition", "attachment", filename="report.pdf")
    assert response.headers["Content-Disposition"] == "attachment; filename=report.pdf"


def test_headers_get_converts_with_type() -> None:
    response = Response(headers={"X-Number": "12", "X-Word": "twelve"})
    assert response.headers.get("X-Number", type=int) == 12
    assert response.headers.get("X-Word", -1, type=int) == -1
    assert response.headers.get("X-Missing", "default") == "default"
    assert response.headers.get("X-Missing") is None


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "a\r\nSet-Cookie: x=1"])
def test_a_header_value_with_a_newline_is_refused(value: str) -> None:
    response = Response()
    with pytest.raises(ValueError):
        response.headers["X-Bad"] = value
    with pytest.raises(ValueError):
        response.headers.add("X-Bad", value)
    with pytest.raises(ValueError):
        response.headers.set("X-Bad", value)
    with pytest.raises(ValueError):
        Response(headers={"X-Bad": value})
    assert "X-Bad" not in response.headers


def test_headers_from_a_list_of_pairs_keep_repeated_names() -> None:
    response = Response(headers=[("X-A", "1"), ("X-A", "2"), ("X-B", 3)])
    assert response.headers.getlist("X-A") == ["1", "2"]
    assert response.headers["X-B"] == "3"


# -- body ---------------------------------------------------------------------------


def test_data_and_get_data() -> None:
    response = Response("héllo")
    assert response.data == "héllo".encode()
    assert response.get_data() == "héllo".encode()
    assert response.get_data(as_text=True) == "héllo"
    assert response.text == "héllo"


def test_a_str_body_sets_the_content_length_in_bytes() -> None:
    response = Response("héllo")
    assert response.headers["Content-Length"] == "6"
    assert response.content_length == 6


def test_set_data_replaces_the_body_and_its_content_length() -> None:
    response = Response("short")
    response.set_data("a longer body")
    assert response.data == b"a longer body"
    assert response.content_length == len(b"a longer body")
    response.data = b"xy"
    assert response.get_data(as_text=True) == "xy"
    assert response.headers["Content-Length"] == "2"


def test_a_body_from_a_list_of_bytes() -> None:
    assert Response([b"a", b"b", b"c"]).data == b"abc"


def test_a_body_from_a_list_of_str_is_encoded() -> None:
    response = Response(["a", "é", b"c"])
    assert response.data == "aéc".encode()


def test_a_body_from_a_generator_is_streamed_and_readable() -> None:
    def generate() -> Iterator[str | bytes]:
        yield "one "
        yield b"two"

    response = Response(generate())
    assert response.is_streamed
    assert response.get_data() == b"one two"
    assert response.get_data(as_text=True) == "one two"


# -- content type -------------------------------------------------------------------


def test_mimetype_and_mimetype_params() -> None:
    response = Response(mimetype="text/plain")
    assert response.mimetype == "text/plain"
    assert response.content_type == "text/plain; charset=utf-8"
    assert response.mimetype_params == {"charset": "utf-8"}


@pytest.mark.parametrize(
    ("mimetype", "content_type"),
    [
        ("application/json", "application/json"),
        ("image/png", "image/png"),
        ("application/octet-stream", "application/octet-stream"),
        ("text/plain", "text/plain; charset=utf-8"),
        ("text/csv", "text/csv; charset=utf-8"),
        ("text/html", "text/html; charset=utf-8"),
        ("application/xml", "application/xml; charset=utf-8"),
        ("application/atom+xml", "application/atom+xml; charset=utf-8"),
    ],
)
def test_only_text_mimetypes_get_a_charset(mimetype: str, content_type: str) -> None:
    response = Response(mimetype=mimetype)
    assert response.content_type == content_type
    assert response.mimetype == mimetype


def test_content_type_is_used_as_given() -> None:
    response = Response(content_type="text/csv; charset=latin-1; header=present")
    assert response.content_type == "text/csv; charset=latin-1; header=present"
    assert response.mimetype == "text/csv"
    assert response.mimetype_params == {"charset": "latin-1", "header": "present"}


def test_a_content_type_header_is_kept() -> None:
    response = Response(headers={"Content-Type": "application/pdf"})
    assert response.content_type == "application/pdf"


def test_setting_the_mimetype_updates_the_content_type() -> None:
    response = Response()
    response.mimetype = "text/plain"
    assert response.content_type == "text/plain; charset=utf-8"
    response.mimetype = "application/json"
    assert response.content_type == "application/json"
    response.content_type = "image/gif"
    assert response.mimetype == "image/gif"
    assert response.mimetype_params == {}


# -- JSON ---------------------------------------------------------------------------


def test_get_json_and_json_of_a_json_response() -> None:
    response = Response('{"a": [1, 2]}', mimetype="application/json")
    assert response.is_json
    assert response.get_json() == {"a": [1, 2]}
    assert response.json == {"a": [1, 2]}


def test_is_json_for_structured_json_types() -> None:
    assert Response(mimetype="application/vnd.api+json").is_json
    assert Response(mimetype="application/problem+json").is_json
    assert not Response(mimetype="text/plain").is_json
    assert not Response().is_json


def test_get_json_of_a_non_json_response_is_none_unless_forced() -> None:
    response = Response('{"a": 1}', mimetype="text/plain")
    assert response.get_json() is None
    assert response.json is None
    assert response.get_json(force=True) == {"a": 1}


def test_get_json_of_invalid_json_raises_unless_silent() -> None:
    response = Response("{not json", mimetype="application/json")
    with pytest.raises(ValueError):
        response.get_json()
    assert response.get_json(silent=True) is None


# -- cookies ------------------------------------------------------------------------


def cookies(response: Response) -> list[str]:
    return response.headers.getlist("Set-Cookie")


def test_set_cookie_defaults_to_path_slash() -> None:
    response = Response()
    response.set_cookie("name", "value")
    assert cookies(response) == ["name=value; Path=/"]


def test_set_cookie_with_max_age_sets_expires_too() -> None:
    response = Response()
    response.set_cookie("name", "value", max_age=3600)
    [header] = cookies(response)
    parts = header.split("; ")
    assert parts[0] == "name=value"
    assert parts[1].startswith("Expires=") and parts[1].endswith(" GMT")
    assert parts[2:] == ["Max-Age=3600", "Path=/"]


def test_set_cookie_with_a_timedelta_max_age() -> None:
    response = Response()
    response.set_cookie("name", "value", max_age=timedelta(days=1))
    assert "Max-Age=86400" in cookies(response)[0].split("; ")


def test_set_cookie_with_an_expires_datetime() -> None:
    response = Response()
    response.set_cookie("name", "value", expires=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert cookies(response) == ["name=value; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Path=/"]


def test_set_cookie_with_an_expires_timestamp() -> None:
    response = Response()
    response.set_cookie("name", "value", expires=0)
    assert cookies(response) == ["name=value; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/"]


def test_set_cookie_with_every_attribute() -> None:
    response = Response()
    response.set_cookie(
        "name",
        "value",
        expires=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
        path="/app",
        domain="example.com",
        secure=True,
        httponly=True,
        samesite="Strict",
    )
    assert cookies(response) == [
        "name=value; Domain=example.com; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Secure; "
        "HttpOnly; Path=/app; SameSite=Strict"
    ]


@pytest.mark.parametrize(
    ("samesite", "shown"), [("Lax", "Lax"), ("lax", "Lax"), ("Strict", "Strict"), ("None", "None")]
)
def test_set_cookie_samesite(samesite: str, shown: str) -> None:
    response = Response()
    response.set_cookie("name", "value", samesite=samesite)
    assert cookies(response) == [f"name=value; Path=/; SameSite={shown}"]


def test_a_partitioned_cookie_is_secure() -> None:
    response = Response()
    response.set_cookie("name", "value", partitioned=True)
    assert cookies(response) == ["name=value; Secure; Path=/; Partitioned"]


def test_set_cookie_without_a_path() -> None:
    response = Response()
    response.set_cookie("name", "value", path=None)
    assert cookies(response) == ["name=value"]


def test_several_cookies_are_several_headers() -> None:
    response = Response()
    response.set_cookie("a", "1")
    response.set_cookie("b", "2")
    assert cookies(response) == ["a=1; Path=/", "b=2; Path=/"]


def test_a_cookie_value_with_spaces_is_quoted() -> None:
    response = Response()
    response.set_cookie("name", "two words")
    assert cookies(response) == ['name="two words"; Path=/']


def test_delete_cookie_expires_it_now() -> None:
    response = Response()
    response.delete_cookie("name")
    assert cookies(response) == ["name=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"]


def test_delete_cookie_with_the_path_and_domain_it_was_set_with() -> None:
    response = Response()
    response.delete_cookie("name", path="/app", domain="example.com")
    assert cookies(response) == [
        "name=; Domain=example.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/app"
    ]


@pytest.mark.parametrize("char", ["\r", "\n"], ids=["CR", "LF"])
def test_a_newline_in_a_cookie_name_is_refused(char: str) -> None:
    response = Response()
    with pytest.raises(ValueError):
        response.set_cookie(f"na{char}me", "value")
    assert cookies(response) == []


@pytest.mark.parametrize("char", ["\r", "\n", "\x00"], ids=["CR", "LF", "NUL"])
def test_a_control_character_in_a_cookie_value_is_escaped_never_sent(char: str) -> None:
    """As Werkzeug: the value is quoted with the byte as an octal escape,
    so no control character reaches the header, and it reads back."""
    response = Response()
    response.set_cookie("name", f"value{char}Set-Cookie: admin=1")
    (header,) = cookies(response)
    assert header == f'name="value\\{ord(char):03o}Set-Cookie: admin=1"; Path=/'
    assert not any(c in header for c in "\r\n\x00")
    assert parse_cookie(header.partition(";")[0])["name"] == f"value{char}Set-Cookie: admin=1"


@pytest.mark.parametrize(
    "set_it",
    [
        lambda response: response.headers.set("X-Bad", "a\x00b"),
        lambda response: response.set_cookie("na\x00me", "value"),
    ],
    ids=["header", "cookie name"],
)
def test_a_nul_in_a_header_never_reaches_the_client(
    app: Flask, live_server: Any, set_it: Callable[[Response], None]
) -> None:
    """Werkzeug's ``Headers`` (and Flask) accept a NUL, which is not a
    newline, and no server can send it: flaskish answers a 500 page instead
    of a dropped connection, and the NUL never reaches the client."""

    @app.route("/")
    def index() -> Response:
        response = Response("ok")
        set_it(response)
        return response

    with live_server(app) as server:
        answer = _raw_get(server.port)
    assert b"\x00" not in answer and answer.startswith(b"HTTP/1.1 500"), answer


def _raw_get(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_an_invalid_samesite_is_refused() -> None:
    response = Response()
    with pytest.raises(ValueError):
        response.set_cookie("name", "value", samesite="Sometimes")
    assert cookies(response) == []


@both_kinds
def test_cookies_set_in_a_view_reach_the_client(app: Flask, client: FlaskClient, kind: str) -> None:
    def login() -> Response:
        response = make_response("logged in")
        response.set_cookie("user", "ada", httponly=True)
        return response

    def logout() -> Response:
        response = make_response("logged out")
        response.delete_cookie("user")
        return response

    app.route("/login")(as_kind(kind, login))
    app.route("/logout")(as_kind(kind, logout))
    client.get("/login")
    cookie = client.get_cookie("user")
    assert cookie is not None
    assert cookie.value == "ada"
    client.get("/logout")
    assert client.get_cookie("user") is None


# -- call_on_close ------------------------------------------------------------------


def record_sent_messages(app: Flask, events: list[str]) -> None:
    """Wrap the app in ASGI middleware that records what is sent."""
    inner = app.asgi_app

    async def recorder(scope: Any, receive: Any, send: Any) -> None:
        async def recording_send(message: Any) -> None:
            if message["type"].startswith("http.response"):
                more = " (more)" if message.get("more_body") else ""
                events.append(f"{message['type']}{more}")
            await send(message)

        await inner(scope, receive, recording_send)

    app.asgi_app = recorder


@both_kinds
def test_call_on_close_runs_after_the_response_is_sent(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    events: list[str] = []
    record_sent_messages(app, events)

    def index() -> Response:
        response = make_response("body")

        def closed() -> None:
            events.append("closed")

        response.call_on_close(as_kind(kind, closed))
        return response

    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert response.data == b"body"
    assert events == ["http.response.start", "http.response.body", "closed"]


@both_kinds
def test_call_on_close_after_a_streamed_body(app: Flask, client: FlaskClient, kind: str) -> None:
    events: list[str] = []
    record_sent_messages(app, events)

    def index() -> Response:
        def generate() -> Iterator[str]:
            yield "a"
            yield "b"

        response = Response(generate())

        @response.call_on_close
        def closed() -> None:
            events.append("closed")

        return response

    app.route("/")(as_kind(kind, index))
    assert client.get("/").data == b"ab"
    assert events == [
        "http.response.start",
        "http.response.body (more)",
        "http.response.body (more)",
        "http.response.body",
        "closed",
    ]


def test_call_on_close_returns_the_function_and_keeps_every_callback(
    app: Flask, client: FlaskClient
) -> None:
    calls: list[str] = []

    @app.route("/")
    async def index() -> Response:
        response = make_response("body")

        @response.call_on_close
        def first() -> None:
            calls.append("first")

        @response.call_on_close
        async def second() -> None:
            calls.append("second")

        assert callable(first) and callable(second)
        return response

    client.get("/")
    assert calls == ["first", "second"]


# -- app.response_class -------------------------------------------------------------


class PlainResponse(Response):
    """An app's response class: plain text by default."""

    default_mimetype = "text/plain"


@both_kinds
def test_the_app_response_class_is_used_for_view_return_values(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    app.response_class = PlainResponse
    classes: list[type] = []

    def text() -> str:
        return "hello"

    def json_dict() -> dict[str, int]:
        return {"a": 1}

    def made() -> Response:
        return make_response("made")

    def json_response() -> Response:
        return jsonify(b=2)

    def moved() -> Response:
        return redirect("/text")

    def record(response: Response) -> Response:
        classes.append(type(response))
        return response

    app.after_request(as_kind(kind, record))
    for func in (text, json_dict, made, json_response, moved):
        app.route(f"/{func.__name__}")(as_kind(kind, func))

    response = client.get("/text")
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert client.get("/json_dict").get_json() == {"a": 1}
    assert client.get("/made").mimetype == "text/plain"
    assert client.get("/json_response").get_json() == {"b": 2}
    assert client.get("/moved").status_code == 302
    assert classes == [PlainResponse] * 5


@both_kinds
def test_a_plain_response_is_converted_to_the_app_response_class(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    app.response_class = PlainResponse
    classes: list[type] = []

    def index() -> Response:
        return Response("plain", status=201, headers={"X-Kept": "1"}, mimetype="text/html")

    def record(response: Response) -> Response:
        classes.append(type(response))
        return response

    app.after_request(as_kind(kind, record))
    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert classes == [PlainResponse]
    assert (response.status_code, response.data) == (201, b"plain")
    assert response.headers["X-Kept"] == "1"
    assert response.mimetype == "text/html"


def test_call_on_close_survives_conversion_to_the_app_response_class(
    app: Flask, client: FlaskClient
) -> None:
    app.response_class = PlainResponse
    calls: list[str] = []

    @app.route("/")
    def index() -> Response:
        response = Response("plain")
        response.call_on_close(lambda: calls.append("closed"))
        return response

    client.get("/")
    assert calls == ["closed"]


@both_kinds
def test_the_app_response_class_is_used_for_error_pages(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.response_class = PlainResponse
    classes: list[type] = []

    def record(response: Response) -> Response:
        classes.append(type(response))
        return response

    def aborts() -> str:
        abort(403)

    def fails() -> str:
        raise RuntimeError("unhandled")

    app.after_request(as_kind(kind, record))
    app.route("/aborts")(as_kind(kind, aborts))
    app.route("/fails")(as_kind(kind, fails))
    assert client.get("/aborts").status_code == 403
    assert client.get("/missing").status_code == 404
    assert client.get("/fails").status_code == 500
    assert classes == [PlainResponse] * 3


# -- HEAD and bodiless statuses -----------------------------------------------------


@both_kinds
def test_head_sends_the_headers_of_get_without_the_body(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    def index() -> str:
        return "some body"

    app.route("/")(as_kind(kind, index))
    get = client.get("/")
    head = client.head("/")
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"] == "9"
    assert head.headers["Content-Type"] == get.headers["Content-Type"]


@both_kinds
def test_head_of_a_streamed_response_sends_no_body(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    produced: list[str] = []

    def index() -> Iterator[str]:
        def generate() -> Iterator[str]:
            for chunk in ("a", "b", "c"):
                produced.append(chunk)
                yield chunk

        return generate()

    app.route("/")(as_kind(kind, index))
    head = client.head("/")
    assert head.status_code == 200
    assert head.data == b""
    assert produced == []
    assert client.get("/").data == b"abc"


@both_kinds
@pytest.mark.parametrize("status", [204, 304])
def test_no_body_is_sent_with_204_or_304(
    app: Flask, client: FlaskClient, kind: str, status: int
) -> None:
    def index() -> tuple[str, int]:
        return "ignored", status

    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert response.status_code == status
    assert response.data == b""


def test_repr_shows_the_size_and_status() -> None:
    assert repr(Response("abc", 404)) == "<Response 3 bytes [404 NOT FOUND]>"
    assert repr(Response(iter(["a"]))) == "<Response streamed [200 OK]>"


# -- Werkzeug's Response API: force_type, sequences, encoding, close ------------------


def test_force_type_converts_a_parent_class_response_in_place() -> None:
    """As Werkzeug: the same object, now of the subclass, with its status,
    headers and ``call_on_close`` functions."""
    calls: list[str] = []
    original = Response("body", 201, {"X-Kept": "1"})
    original.call_on_close(lambda: calls.append("closed"))
    converted = PlainResponse.force_type(original)
    assert converted is original
    assert type(converted) is PlainResponse
    assert (converted.status, converted.data, converted.headers["X-Kept"]) == (
        "201 CREATED",
        b"body",
        "1",
    )
    assert Response.force_type(converted) is converted
    converted.close()
    assert calls == ["closed"]


def test_force_type_copies_a_werkzeug_response() -> None:
    """A real ``werkzeug.wrappers.Response`` (what a Werkzeug-based library
    returns) becomes a flaskish one with the same body, status and headers."""
    from werkzeug.wrappers import Response as WerkzeugResponse

    original = WerkzeugResponse("from werkzeug", 202, {"X-Lib": "yes"}, mimetype="text/plain")
    converted = Response.force_type(original)
    assert type(converted) is Response
    assert (converted.status, converted.data) == ("202 ACCEPTED", b"from werkzeug")
    assert converted.headers["X-Lib"] == "yes"
    assert converted.content_type == "text/plain; charset=utf-8"
    assert converted.content_length == len(b"from werkzeug")


def test_force_type_of_a_werkzeug_streamed_response_reads_its_body() -> None:
    from werkzeug.wrappers import Response as WerkzeugResponse

    converted = Response.force_type(WerkzeugResponse(iter([b"a", b"b"]), 200))
    assert converted.data == b"ab"


@pytest.mark.parametrize("value", [42, {"a": 1}, "text"], ids=["int", "dict", "str"])
def test_force_type_of_something_that_is_no_response_is_a_type_error(value: Any) -> None:
    with pytest.raises(TypeError, match=r"Cannot convert a \w+ into a response\. Return a"):
        Response.force_type(value)


class ClosingIterator:
    """A body iterator that records whether it was closed."""

    def __init__(self, chunks: list[Any]) -> None:
        self.chunks = iter(chunks)
        self.closed = False

    def __iter__(self) -> ClosingIterator:
        return self

    def __next__(self) -> Any:
        return next(self.chunks)

    def close(self) -> None:
        self.closed = True


def test_make_sequence_reads_a_stream_into_memory_and_closes_it() -> None:
    source = ClosingIterator(["é", b"x"])
    response = Response(source)
    assert (response.is_streamed, response.is_sequence) == (True, False)
    response.make_sequence()
    assert response.response == ["é".encode(), b"x"]
    assert (response.is_streamed, response.is_sequence) == (False, True)
    assert source.closed


def test_make_sequence_closes_the_stream_when_a_chunk_is_not_text() -> None:
    source = ClosingIterator([b"ok", 3])
    with pytest.raises(TypeError, match="yielded int; each chunk must be str or bytes"):
        Response(source).make_sequence()
    assert source.closed


def test_freeze_buffers_a_stream_and_sets_its_content_length() -> None:
    source = ClosingIterator(["one ", b"two"])
    response = Response(source)
    assert "Content-Length" not in response.headers
    response.freeze()
    assert response.headers["Content-Length"] == "7"
    assert (response.is_sequence, response.data, source.closed) == (True, b"one two", True)


class NoImplicitConversion(Response):
    implicit_sequence_conversion = False


def test_without_implicit_sequence_conversion_reading_a_stream_says_what_to_call() -> None:
    response = NoImplicitConversion(iter(["a", "b"]))
    with pytest.raises(RuntimeError, match=r"call response\.make_sequence\(\) before reading"):
        response.get_data()
    with pytest.raises(RuntimeError, match="implicit_sequence_conversion is off"):
        _ = response.data
    response.make_sequence()
    assert response.data == b"ab"
    assert NoImplicitConversion("buffered").data == b"buffered"


def test_iter_encoded_gives_bytes_for_buffered_and_streamed_bodies() -> None:
    assert list(Response(["é", b"x"]).iter_encoded()) == ["é".encode(), b"x"]
    assert list(Response(iter(["é", b"x"])).iter_encoded()) == ["é".encode(), b"x"]


def test_calculate_content_length_is_none_for_a_stream() -> None:
    assert Response("héllo").calculate_content_length() == 6
    assert Response([b"ab", "c"]).calculate_content_length() == 3
    assert Response().calculate_content_length() == 0
    assert Response(iter([b"ab"])).calculate_content_length() is None


@pytest.mark.parametrize(
    ("body", "sequence", "streamed"),
    [([b"a"], True, False), ((b"a", b"b"), True, False), (iter([b"a"]), False, True)],
    ids=["list", "tuple", "iterator"],
)
def test_is_sequence_and_is_streamed(body: Any, sequence: bool, streamed: bool) -> None:
    response = Response()
    response.response = body
    assert (response.is_sequence, response.is_streamed) == (sequence, streamed)


async def chunks() -> Any:
    yield "async chunk"


@pytest.mark.parametrize(
    "read",
    [
        lambda response: response.get_data(),
        lambda response: response.data,
        lambda response: response.text,
        lambda response: response.get_json(force=True),
    ],
    ids=["get_data", "data", "text", "get_json"],
)
def test_reading_an_async_stream_synchronously_says_to_use_async_for(
    read: Callable[[Response], Any],
) -> None:
    response = Response(chunks())
    with pytest.raises(RuntimeError, match=r"`async for chunk in response\.response`"):
        read(response)


def test_freezing_an_async_stream_says_to_use_async_for() -> None:
    with pytest.raises(RuntimeError, match="async for"):
        Response(chunks()).freeze()


def test_close_closes_the_body_and_calls_the_call_on_close_functions() -> None:
    """Outside any event loop, an ``async def`` function is run too."""
    calls: list[str] = []
    source = ClosingIterator([b"never sent"])
    response = Response(source)
    response.call_on_close(lambda: calls.append("def"))

    @response.call_on_close
    async def closed() -> None:
        calls.append("async def")

    response.close()
    assert (calls, source.closed) == (["def", "async def"], True)


def test_a_response_used_with_with_is_closed_at_the_end() -> None:
    source = ClosingIterator([b"x"])
    with Response(source) as response:
        assert not source.closed
    assert source.closed and response.response is source


def test_a_cookie_over_max_cookie_size_is_set_with_a_warning(app: Flask) -> None:
    """Outside an app, Werkzeug's 4093 bytes; inside, the app's
    ``MAX_COOKIE_SIZE``, where 0 turns the check off."""
    assert Response().max_cookie_size == 4093
    response = Response()
    with pytest.warns(UserWarning, match="The 'big' cookie is too large"):
        response.set_cookie("big", "x" * 5000)
    assert cookies(response)[0].startswith("big=xxx")

    app.config["MAX_COOKIE_SIZE"] = 100
    with app.app_context():
        response = Response()
        assert response.max_cookie_size == 100
        with pytest.warns(UserWarning, match="the limit is 100 bytes"):
            response.set_cookie("mid", "x" * 200)
        assert len(cookies(response)) == 1
        app.config["MAX_COOKIE_SIZE"] = 0
        response.set_cookie("huge", "x" * 5000)  # no warning: filterwarnings = error


# -- a header no server can send ------------------------------------------------------


def nul_header() -> Response:
    response = Response("ok")
    response.headers["X-Bad"] = "a\x00b"
    return response


def euro_header() -> Any:
    return "ok", {"X-Price": "5 €"}


UNSENDABLE = pytest.mark.parametrize(
    ("view", "message"),
    [
        (nul_header, "'X-Bad' holds a control character"),
        (euro_header, "'X-Price' holds text that is not latin-1"),
    ],
    ids=["NUL", "euro sign"],
)


@both_kinds
@UNSENDABLE
def test_a_header_no_server_can_send_is_a_500_page(
    app: Flask,
    client: FlaskClient,
    kind: str,
    view: Callable[[], Any],
    message: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With ``PROPAGATE_EXCEPTIONS`` off, the client gets the 500 page
    (without the header) and the log says which header and why."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.route("/")(as_kind(kind, view))
    response = client.get("/")
    assert response.status_code == 500
    assert "X-Bad" not in response.headers and "X-Price" not in response.headers
    assert "Internal Server Error" in response.text
    assert message in caplog.text


@UNSENDABLE
def test_a_header_no_server_can_send_reaches_the_test_when_testing(
    app: Flask, client: FlaskClient, view: Callable[[], Any], message: str
) -> None:
    app.route("/")(view)
    with pytest.raises(ValueError, match=message):
        client.get("/")


def streamed_euro_header() -> Response:
    return Response(iter(["streamed"]), headers={"X-Price": "5 €"})


def euro_header_and_call_on_close() -> Response:
    response = Response("ok", headers={"X-Price": "5 €"})
    response.call_on_close(lambda: None)
    return response


@pytest.mark.parametrize(
    "view", [streamed_euro_header, euro_header_and_call_on_close], ids=["streamed", "call_on_close"]
)
def test_a_header_no_server_can_send_is_a_500_page_for_any_response(
    app: Flask, client: FlaskClient, view: Callable[[], Any], caplog: pytest.LogCaptureFixture
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.route("/")(view)
    response = client.get("/")
    assert (response.status_code, "X-Price" in response.headers) == (500, False)
    assert "'X-Price' holds text that is not latin-1" in caplog.text


@UNSENDABLE
def test_a_header_no_server_can_send_is_a_500_over_a_real_server(
    app: Flask, live_server: Any, view: Callable[[], Any], message: str
) -> None:
    """uvicorn gets a response it can send: a 500 page, not a connection
    closed without an answer."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.logger.disabled = True
    app.route("/")(view)
    try:
        with live_server(app) as server:
            answer = _raw_get(server.port)
    finally:
        app.logger.disabled = False
    assert answer.startswith(b"HTTP/1.1 500 Internal Server Error\r\n"), answer
    assert b"Internal Server Error</h1>" in answer
    assert b"\x00" not in answer and "€".encode() not in answer and b"X-Bad" not in answer


def test_a_response_is_an_asgi_app_for_asgi_middleware() -> None:
    """``await response(scope, receive, send)`` sends it, buffered or
    streamed, and runs its ``call_on_close`` functions."""
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        await anyio.sleep_forever()  # the client stays (a disconnect would end the stream)
        raise AssertionError  # pragma: no cover

    async def send(message: dict[str, Any]) -> None:
        sent.append((message["type"], message.get("status"), message.get("body")))

    scope = {"type": "http", "method": "GET", "path": "/"}
    anyio.run(Response("buffered", 201), scope, receive, send)
    assert sent == [("http.response.start", 201, None), ("http.response.body", None, b"buffered")]

    sent.clear()
    streamed = Response(iter(["a", "b"]))
    streamed.call_on_close(lambda: sent.append("closed"))
    anyio.run(streamed, scope, receive, send)
    assert sent == [
        ("http.response.start", 200, None),
        ("http.response.body", None, b"a"),
        ("http.response.body", None, b"b"),
        ("http.response.body", None, b""),
        "closed",
    ]
