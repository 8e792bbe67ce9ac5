"""Request attributes that need no I/O (issue 3, "Without I/O"): each one
through ``app.test_request_context(...)`` and through the test client in a
``def`` and an ``async def`` view, with the values Flask gives, and bad or
hostile input that must never become a 500."""

from __future__ import annotations

import base64
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from werkzeug.datastructures import Authorization, ETags, MIMEAccept, Range
from werkzeug.user_agent import UserAgent

from flaskish import Flask, Request, request
from flaskish.blueprints import Blueprint
from flaskish.exceptions import BadRequestKeyError, SecurityError
from flaskish.testing import FlaskClient

Reader = Callable[[], dict[str, Any]]


@pytest.fixture(params=["def", "async def"])
def kind(request: pytest.FixtureRequest) -> str:
    """Each client test runs once with a ``def`` view, once with an ``async def`` one."""
    return str(request.param)


def serve(
    app: Flask, kind: str, read: Reader, rule: str = "/", methods: list[str] | None = None
) -> dict[str, Any]:
    """Register a view of *kind* at *rule* that stores what *read* returns
    (read inside the view) and answers "ok"; return the dict it fills."""
    seen: dict[str, Any] = {}

    if kind == "def":

        def view(**kwargs: Any) -> str:
            seen.update(read())
            return "ok"

    else:

        async def view(**kwargs: Any) -> str:  # type: ignore[misc]
            seen.update(read())
            return "ok"

    endpoint = f"view_{len(app.view_functions)}"
    app.add_url_rule(rule, endpoint=endpoint, view_func=view, methods=methods)
    return seen


def scope_request(**scope: Any) -> Request:
    """A Request over a hand-written ASGI scope (for what the test client
    cannot send: raw bytes, a Unix socket, an IPv6 server address...)."""
    base: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "server": ("localhost", 80),
        "client": ("127.0.0.1", 5000),
        "root_path": "",
        "path": "/",
        "query_string": b"",
        "headers": [],
    }
    base.update(scope)
    return Request(base)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# -- method, scheme and URL ------------------------------------------------------


def test_url_attributes_in_a_test_request_context(app: Flask) -> None:
    with app.test_request_context("/search", method="put", query_string={"q": "a b"}):
        assert request.method == "PUT"
        assert request.scheme == "http"
        assert request.is_secure is False
        assert request.path == "/search"
        assert request.query_string == b"q=a+b"
        assert request.full_path == "/search?q=a+b"
        assert request.root_path == request.script_root == ""
        assert request.host == "localhost"
        assert request.host_url == "http://localhost/"
        assert request.url_root == request.root_url == "http://localhost/"
        assert request.base_url == "http://localhost/search"
        assert request.url == "http://localhost/search?q=a+b"
        assert request.server == ("localhost", 80)
        assert repr(request._get_current_object()) == (  # type: ignore[attr-defined]
            "<Request 'http://localhost/search?q=a+b' [PUT]>"
        )


def test_full_path_always_has_a_question_mark(app: Flask) -> None:
    with app.test_request_context("/x"):
        assert request.full_path == "/x?"
        assert request.url == "http://localhost/x"


def test_https_and_a_non_default_port(app: Flask) -> None:
    with app.test_request_context("/a", base_url="https://example.com:8443"):
        assert request.scheme == "https"
        assert request.is_secure is True
        assert request.host == "example.com:8443"
        assert request.host_url == "https://example.com:8443/"
        assert request.url == "https://example.com:8443/a"


@pytest.mark.parametrize(
    ("scheme", "header", "host"),
    [
        ("http", "example.com:80", "example.com"),
        ("https", "example.com:443", "example.com"),
        ("http", "example.com:443", "example.com:443"),
        ("https", "example.com:80", "example.com:80"),
        ("http", "[::1]:8080", "[::1]:8080"),
        ("http", "[::1]:80", "[::1]"),
        ("http", "127.0.0.1:5000", "127.0.0.1:5000"),
    ],
)
def test_host_from_the_header_leaves_out_the_default_port(
    scheme: str, header: str, host: str
) -> None:
    req = scope_request(scheme=scheme, headers=[(b"host", header.encode())])
    assert req.host == host
    assert req.host_url == f"{scheme}://{host}/"


def test_host_keeps_the_case_of_the_header_and_urls_lowercase_it() -> None:
    """As Werkzeug: ``host`` is the header as sent, the URLs built from it
    (an IRI through ``uri_to_iri``) have the host name in lowercase."""
    req = scope_request(headers=[(b"host", b"EXAMPLE.com:8080")])
    assert req.host == "EXAMPLE.com:8080"
    assert req.host_url == "http://example.com:8080/"
    assert req.url == "http://example.com:8080/"


@pytest.mark.parametrize(
    "header",
    [
        "a b",
        "evil.com/path",
        "user@evil.com",
        "ex_ample.com",
        "h:99999",
        "h:0",
        "h:",
        "h:abc",
        "[::1",
        "::1",
        "b\u00fccher.de",
        "a\x00b",
        "",
    ],
)
def test_an_invalid_host_header_gives_an_empty_host(header: str) -> None:
    """As Werkzeug: a Host that is not a name or address (with a port) is
    not trusted into URLs."""
    req = scope_request(headers=[(b"host", header.encode("latin-1"))])
    assert req.host == ""
    assert req.url == "http:///"


@pytest.mark.parametrize(
    ("scheme", "server", "host"),
    [
        ("http", ("::1", 8080), "[::1]:8080"),
        ("http", ("::1", 80), "[::1]"),
        ("https", ("2001:db8::1", 443), "[2001:db8::1]"),
        ("http", ("10.0.0.1", 8000), "10.0.0.1:8000"),
        ("https", ("example.com", 80), "example.com:80"),
        ("http", ("example.com", None), ""),  # a Unix socket: no useful host, as in Werkzeug
    ],
)
def test_host_without_a_header_comes_from_the_server_address(
    scheme: str, server: tuple[str, int | None], host: str
) -> None:
    req = scope_request(scheme=scheme, server=server)
    assert req.host == host
    assert req.server == server


def test_host_without_header_or_server_is_empty() -> None:
    """As Werkzeug's ``get_host``: no ``Host`` header (HTTP/1.0) and no
    server address give ``""``, not a made-up ``localhost``."""
    req = scope_request(server=None)
    assert req.host == ""
    assert req.server is None
    assert req.url == "http:///"


def test_url_is_an_iri_as_in_werkzeug(app: Flask) -> None:
    with app.test_request_context("/caf\u00e9/\u20ac", query_string={"q": "th\u00e9", "a": "&"}):
        assert request.path == "/caf\u00e9/\u20ac"
        assert request.base_url == "http://localhost/caf\u00e9/\u20ac"
        assert request.url == "http://localhost/caf\u00e9/\u20ac?q=th\u00e9&a=%26"
        assert request.args["q"] == "th\u00e9"


@pytest.mark.parametrize(
    ("path", "url"),
    [
        ("/a b", "http://localhost/a%20b"),
        ("/a?b", "http://localhost/a%3Fb"),
        ("/a#b", "http://localhost/a%23b"),
        # As Werkzeug's get_current_url: a "%" in the decoded path is taken
        # as already quoted, so a literal "%41" shows as "A" (as in Flask).
        ("/100%", "http://localhost/100%"),
        ("/a%41", "http://localhost/aA"),
        ("/tab\there", "http://localhost/tab%09here"),
        ("/\x7f", "http://localhost/%7F"),
        ("/a;b=c,d@e:f+g&h~i", "http://localhost/a;b=c,d@e:f+g&h~i"),
        ("/\ud800", "http://localhost/\ufffd"),  # a lone surrogate: no crash
    ],
)
def test_url_keeps_what_would_be_misread_percent_encoded(path: str, url: str) -> None:
    assert scope_request(path=path).url == url


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        (b"q=%C3%A9", "q=\u00e9"),
        (b"q=\xc3\xa9", "q=\u00e9"),  # raw UTF-8 from a client that did not encode
        (b"q=%ff", "q=%FF"),  # not UTF-8: stays encoded
        (b"q=\xff", "q=%FF"),
        (b"q=%zz", "q=%zz"),
        (b"a=%26&b=%3D&c=%2B&d=%25&e=%23", "a=%26&b=%3D&c=%2B&d=%25&e=%23"),
        (b"a=%41%20b", "a=A%20b"),
        (b"a b", "a%20b"),
        (b"x=1#frag", "x=1%23frag"),
        (b"a=%0a", "a=%0a"),  # an escape kept is kept as sent
    ],
)
def test_url_query_is_shown_as_an_iri(query: bytes, shown: str) -> None:
    assert scope_request(path="/p", query_string=query).url == f"http://localhost/p?{shown}"


def test_root_path_when_mounted_under_a_prefix() -> None:
    """A mounted app (Starlette ``Mount``, uvicorn ``--root-path``): ASGI's
    ``root_path`` is the prefix and ``path`` includes it."""
    req = scope_request(root_path="/app", path="/app/users/1", query_string=b"x=1")
    assert req.root_path == req.script_root == "/app"
    assert req.path == "/users/1"
    assert req.full_path == "/users/1?x=1"
    assert req.url_root == "http://localhost/app/"
    assert req.base_url == "http://localhost/app/users/1"
    assert req.url == "http://localhost/app/users/1?x=1"
    assert scope_request(root_path="/app", path="/app").path == "/"
    assert scope_request(root_path="/caf\u00e9", path="/caf\u00e9/x").url_root == (
        "http://localhost/caf\u00e9/"
    )


def test_root_path_from_application_root(app: Flask) -> None:
    app.config["APPLICATION_ROOT"] = "/app"
    with app.test_request_context("/x"):
        assert request.script_root == "/app"
        assert request.path == "/x"
        assert request.url == "http://localhost/app/x"
        assert request.url_root == "http://localhost/app/"


def test_test_request_context_with_a_base_url_path(app: Flask) -> None:
    with app.test_request_context("/x", base_url="http://localhost/app/"):
        assert request.script_root == "/app"
        assert request.path == "/x"
        assert request.url == "http://localhost/app/x"


def test_client_with_a_base_url_path(app: Flask, client: FlaskClient) -> None:
    seen = serve(app, "def", lambda: {"path": request.path, "root": request.script_root}, "/x")
    response = client.get("/x", base_url="http://localhost/app/")
    assert response.status_code == 200
    assert seen == {"path": "/x", "root": "/app"}


def test_uvicorn_root_path(app: Flask, live_server: Any) -> None:
    seen = serve(
        app,
        "def",
        lambda: {"path": request.path, "root": request.root_path, "url": request.url},
        "/users",
    )
    with live_server(app, root_path="/api") as server:
        # uvicorn --root-path is for a proxy that strips the prefix: the
        # request it sees is /users, and it puts /api back in the scope.
        answer = _raw_get(server.port, b"/users?x=1")
    assert answer.startswith(b"HTTP/1.1 200")
    assert seen == {
        "path": "/users",
        "root": "/api",
        "url": f"http://127.0.0.1:{server.port}/api/users?x=1",
    }


# -- Trusted hosts ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trusted", "host", "ok"),
    [
        (["example.com"], "example.com", True),
        (["example.com"], "example.com:8080", True),  # port ignored
        (["example.com"], "EXAMPLE.COM", False),  # case is not (Werkzeug compares as is)
        (["example.com"], "www.example.com", False),
        ([".example.com"], "www.example.com", True),
        ([".example.com"], "example.com", True),
        ([".example.com"], "evil-example.com", False),
        (["example.com:8080"], "example.com", True),
        (["b\u00fccher.de"], "xn--bcher-kva.de", True),  # entries are IDNA-encoded
        (["[::1]"], "[::1]:8000", False),  # Werkzeug cuts an entry at its first ":"
        ("example.com", "example.com", True),  # a single string
        ([], "anything.com", True),  # an empty list trusts any valid host
    ],
)
def test_trusted_hosts(trusted: Any, host: str, ok: bool) -> None:
    req = scope_request(headers=[(b"host", host.encode())])
    req.trusted_hosts = trusted
    if ok:
        assert req.host == host
    else:
        with pytest.raises(SecurityError, match="not trusted"):
            req.host  # noqa: B018


def test_an_invalid_host_with_an_empty_trusted_list_is_empty_not_an_error() -> None:
    """As Werkzeug: an empty ``TRUSTED_HOSTS`` checks nothing, so an invalid
    host is treated as absent, as without the setting."""
    req = scope_request(headers=[(b"host", b"a b")])
    req.trusted_hosts = []
    assert req.host == ""


def test_a_trusted_hosts_entry_idna_cannot_encode_is_a_400_not_a_500() -> None:
    """Werkzeug lets the codec's ``UnicodeError`` escape (a 500 on every
    request); flaskish refuses the host with a ``SecurityError`` naming the
    setting."""
    req = scope_request(headers=[(b"host", b"example.com")])
    req.trusted_hosts = ["\u00e9" * 100]
    with pytest.raises(SecurityError, match="TRUSTED_HOSTS cannot be IDNA-encoded"):
        req.host  # noqa: B018


def test_trusted_hosts_config_applies_when_the_host_is_read(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    app.config["TRUSTED_HOSTS"] = ["example.com"]
    serve(app, kind, lambda: {"url": request.url})
    assert client.get("/", headers={"Host": "example.com"}).status_code == 200
    response = client.get("/", headers={"Host": "evil.com"})
    assert response.status_code == 400


def test_untrusted_host_is_refused_even_if_the_view_ignores_it(
    app: Flask, client: FlaskClient
) -> None:
    app.config["TRUSTED_HOSTS"] = ["example.com"]
    serve(app, "def", dict)
    assert client.get("/", headers={"Host": "evil.com"}).status_code == 400


# -- query string -------------------------------------------------------------------


def test_args_is_a_multidict(app: Flask) -> None:
    with app.test_request_context("/?a=1&a=2&b=x&empty=&n=12&plus=a+b&sp=a%20b"):
        args = request.args
        assert args["a"] == "1"
        assert args.getlist("a") == ["1", "2"]
        assert args.get("n", type=int) == 12
        assert args.get("b", -1, type=int) == -1
        assert args.get("missing", "d") == "d"
        assert args["empty"] == ""
        assert args["plus"] == args["sp"] == "a b"
        assert args.to_dict() == {
            "a": "1",
            "b": "x",
            "empty": "",
            "n": "12",
            "plus": "a b",
            "sp": "a b",
        }
        assert args.to_dict(flat=False)["a"] == ["1", "2"]
        assert list(args.items(multi=True))[:2] == [("a", "1"), ("a", "2")]
        with pytest.raises(BadRequestKeyError):
            args["missing"]
        with pytest.raises(TypeError):
            args["a"] = "3"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # As Werkzeug: bytes that are not UTF-8 stay percent-encoded.
        (b"q=%ff", "%FF"),  # percent-encoded, not UTF-8
        (b"q=%C3", "%C3"),  # a truncated sequence
        (b"q=\xff", "%FF"),  # raw, not UTF-8 (Werkzeug raises here: flaskish does not)
        (b"q=\xc3\xa9", "\u00e9"),  # raw UTF-8
        (b"q=%C3%A9", "\u00e9"),
        (b"q=%zz", "%zz"),  # not a percent escape: kept as is
        (b"q=%", "%"),
        (b"q=%4", "%4"),
        (b"q=a%00b", "a\x00b"),
    ],
)
def test_args_with_bad_encoding_stay_percent_encoded_not_an_error(
    query: bytes, expected: str
) -> None:
    assert scope_request(query_string=query).args["q"] == expected


def test_bad_query_strings_through_the_client_never_500(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    seen = serve(app, kind, lambda: {"q": request.args.get("q"), "full": request.full_path})
    response = client.get("/?q=%ff%fe&x=%zz%")
    assert response.status_code == 200
    assert seen == {"q": "%FF%FE", "full": "/?q=%ff%fe&x=%zz%"}


def test_bad_percent_encoding_through_uvicorn(app: Flask, live_server: Any) -> None:
    seen = serve(
        app,
        "async def",
        lambda: {"args": request.args.to_dict(), "url": request.url, "full": request.full_path},
    )
    with live_server(app) as server:
        answer = _raw_get(server.port, b"/?a=%ff&b=%zz&c=%C3%A9&d=%C3")
    assert answer.startswith(b"HTTP/1.1 200"), answer
    assert seen["args"] == {"a": "%FF", "b": "%zz", "c": "\u00e9", "d": "%C3"}
    assert seen["url"] == f"http://127.0.0.1:{server.port}/?a=%FF&b=%zz&c=\u00e9&d=%C3"
    assert seen["full"] == "/?a=%ff&b=%zz&c=%C3%A9&d=%C3"


def test_bytes_query_string_is_sent_as_is(app: Flask) -> None:
    with app.test_request_context("/", query_string=b"q=\xc3\xa9"):
        assert request.args["q"] == "\u00e9"


def _raw_get(port: int, target: bytes, headers: bytes = b"") -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"GET "
            + target
            + b" HTTP/1.1\r\nHost: 127.0.0.1:"
            + str(port).encode()
            + b"\r\n"
            + headers
            + b"Connection: close\r\n\r\n"
        )
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


# -- headers, cookies, client -------------------------------------------------------


def test_headers_are_case_insensitive(app: Flask) -> None:
    headers = [("X-Number", "12"), ("X-Many", "a"), ("x-many", "b"), ("X-Bad", "no")]
    with app.test_request_context("/", headers=headers):
        assert request.headers["x-number"] == request.headers["X-NUMBER"] == "12"
        assert request.headers.get("X-Number", type=int) == 12
        assert request.headers.get("X-Bad", -1, type=int) == -1
        assert request.headers.get("X-Missing") is None
        # A made-up request is a WSGI environ, as in Flask: one value per name.
        assert request.headers.getlist("X-Many") == ["a, b"]
        assert "x-number" in request.headers


def test_cookies(app: Flask) -> None:
    cookie = 'a=1; b="x\\"y"; c="\\303\\251"; bare; d=%C3%A9; a=2; e=1=2; =skip'
    with app.test_request_context("/", headers={"Cookie": cookie}):
        cookies = request.cookies
        assert cookies["a"] == "1" and cookies.getlist("a") == ["1", "2"]
        assert cookies["b"] == 'x"y'
        assert cookies["c"] == "\u00e9"  # octal escapes of UTF-8 bytes
        assert cookies["bare"] == ""  # a name without "=", as in Werkzeug
        assert cookies["d"] == "%C3%A9"  # not URL-decoded, as in Werkzeug
        assert cookies["e"] == "1=2"
        assert "" not in cookies


def test_cookies_sent_as_raw_bytes_are_read_as_latin1_as_in_werkzeug() -> None:
    """Headers are latin-1 (as a WSGI environ's): a raw UTF-8 cookie value
    reads as mojibake exactly as in Flask; send it percent- or
    octal-escaped (as ``set_cookie`` does) to get the text back."""
    req = scope_request(headers=[(b"cookie", "name=caf\u00e9".encode())])
    assert req.cookies["name"] == "caf\u00c3\u00a9"
    bad = scope_request(headers=[(b"cookie", b"name=\xff")])
    assert bad.cookies["name"] == "\u00ff"


def test_remote_addr_and_access_route(app: Flask) -> None:
    with app.test_request_context("/"):
        assert request.remote_addr == "127.0.0.1"
        assert request.access_route == ["127.0.0.1"]
    forwarded = {"X-Forwarded-For": '203.0.113.5, "198.51.100.1", ,10.0.0.1'}
    with app.test_request_context("/", headers=forwarded):
        assert request.access_route == ["203.0.113.5", "198.51.100.1", "10.0.0.1"]
    req = scope_request(client=None)
    assert req.remote_addr is None and req.access_route == []


def test_scope_is_the_asgi_scope(app: Flask) -> None:
    with app.test_request_context("/s?x=1"):
        assert request.scope["type"] == "http"
        assert request.scope["query_string"] == b"x=1"


# -- content headers ----------------------------------------------------------------


def test_content_headers(app: Flask) -> None:
    headers = {
        "Content-Type": 'Text/Plain; Charset="utf-8"; format=flowed',
        "Content-Encoding": "gzip",
    }
    with app.test_request_context("/", method="POST", data=b"hello", headers=headers):
        assert request.content_type == 'Text/Plain; Charset="utf-8"; format=flowed'
        assert request.mimetype == "text/plain"
        assert request.mimetype_params == {"charset": "utf-8", "format": "flowed"}
        assert request.content_length == 5
        assert request.content_encoding == "gzip"
        assert request.is_json is False


def test_no_content_headers(app: Flask) -> None:
    with app.test_request_context("/"):
        assert request.content_type is None
        assert request.mimetype == ""
        assert request.mimetype_params == {}
        assert request.content_length is None
        assert request.content_encoding is None


def test_mimetype_params_keep_semicolons_inside_quotes() -> None:
    req = scope_request(headers=[(b"content-type", b'multipart/form-data; boundary="a;b"')])
    assert req.mimetype == "multipart/form-data"
    assert req.mimetype_params == {"boundary": "a;b"}


@pytest.mark.parametrize(
    ("content_type", "is_json"),
    [
        ("application/json", True),
        ("Application/JSON; charset=utf-8", True),
        ("application/vnd.api+json", True),
        ("application/problem+json", True),
        ("text/json", False),
        ("application/jsonx", False),
        ("application/x-www-form-urlencoded", False),
    ],
)
def test_is_json(content_type: str, is_json: bool) -> None:
    assert scope_request(headers=[(b"content-type", content_type.encode())]).is_json is is_json


@pytest.mark.parametrize(
    ("headers", "length"),
    [
        ([(b"content-length", b"42")], 42),
        ([(b"content-length", b" 42 ")], 42),
        ([(b"content-length", b"0")], 0),
        # As Werkzeug's get_content_length: a value that is not a plain
        # non-negative integer is 0 (no body is expected), never an error.
        ([(b"content-length", b"-1")], 0),
        ([(b"content-length", b"+1")], 0),
        ([(b"content-length", b"1_000")], 0),
        ([(b"content-length", b"abc")], 0),
        ([(b"content-length", b"\xb2")], 0),  # "²": isdigit() but not a number
        ([(b"content-length", "\u0663".encode())], 0),
        ([(b"content-length", b"9" * 5000)], 0),  # past Python's digit limit
        ([(b"content-length", b"5"), (b"transfer-encoding", b"chunked")], None),
        ([(b"content-length", b"5"), (b"transfer-encoding", b"gzip, Chunked")], None),
        ([], None),
    ],
)
def test_content_length(headers: list[tuple[bytes, bytes]], length: int | None) -> None:
    assert scope_request(headers=headers).content_length == length


def test_user_agent_is_werkzeugs_user_agent(app: Flask) -> None:
    with app.test_request_context("/", headers={"User-Agent": "Mozilla/5.0 (X11)"}):
        assert isinstance(request.user_agent, UserAgent)
        assert request.user_agent.string == "Mozilla/5.0 (X11)"
        assert str(request.user_agent) == "Mozilla/5.0 (X11)"
        assert request.user_agent.browser is None
    assert scope_request().user_agent.string == ""


def test_simple_headers(app: Flask) -> None:
    headers = {
        "Referer": "http://a.example/",
        "Origin": "http://a.example",
        "Date": "Sun, 06 Nov 1994 08:49:37 GMT",
        "Max-Forwards": "3",
    }
    with app.test_request_context("/", headers=headers):
        assert request.referrer == "http://a.example/"
        assert request.origin == "http://a.example"
        assert request.date == datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
        assert request.max_forwards == 3
    with app.test_request_context("/", headers={"Max-Forwards": "x", "Date": "never"}):
        assert request.max_forwards is None and request.date is None
        assert request.referrer is None and request.origin is None


# -- authorization, conditional and negotiation headers --------------------------


def test_authorization(app: Flask) -> None:
    with app.test_request_context("/", headers={"Authorization": basic("ada", "s3cret")}):
        auth = request.authorization
        assert isinstance(auth, Authorization)
        assert (auth.type, auth.username, auth.password) == ("basic", "ada", "s3cret")
    with app.test_request_context("/", headers={"Authorization": "Bearer tok.en"}):
        assert request.authorization is not None
        assert request.authorization.type == "bearer"
        assert request.authorization.token == "tok.en"
    with app.test_request_context("/", headers={"Authorization": "Basic %%%"}):
        assert request.authorization is None
    with app.test_request_context("/"):
        assert request.authorization is None


def test_client_auth_argument_sends_basic_credentials(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    seen = serve(app, kind, lambda: {"auth": request.authorization})
    client.get("/", auth=("ada", "pw"))
    assert seen["auth"] == Authorization("basic", {"username": "ada", "password": "pw"})


def test_conditional_headers(app: Flask) -> None:
    headers = {
        "If-Modified-Since": "Sun, 06 Nov 1994 08:49:37 GMT",
        "If-Unmodified-Since": "Sun Nov  6 08:49:37 1994",
        "If-None-Match": '"abc", W/"weak"',
        "If-Match": "*",
        "If-Range": '"abc"',
        "Range": "bytes=0-99",
    }
    when = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
    with app.test_request_context("/", headers=headers):
        assert request.if_modified_since == when
        assert request.if_unmodified_since == when
        assert isinstance(request.if_none_match, ETags)
        assert "abc" in request.if_none_match
        assert request.if_none_match.contains_weak("weak")
        assert "weak" not in request.if_none_match
        assert request.if_match.star_tag and "anything" in request.if_match
        assert request.if_range.etag == "abc" and request.if_range.date is None
        assert isinstance(request.range, Range)
        assert request.range.ranges == [(0, 100)]
        assert request.range.range_for_length(50) == (0, 50)


def test_conditional_headers_absent_or_malformed(app: Flask) -> None:
    for headers in (
        {},
        {
            "If-Modified-Since": "yesterday",
            "If-Unmodified-Since": "x",
            "If-None-Match": '"open',
            "If-Match": "",
            "Range": "bytes=9-1",
        },
    ):
        with app.test_request_context("/", headers=headers):
            assert request.if_modified_since is None
            assert request.if_unmodified_since is None
            assert not request.if_none_match and "x" not in request.if_none_match
            assert not request.if_match
            assert request.if_range.etag is None and request.if_range.date is None
            assert request.range is None


def test_accept_headers(app: Flask) -> None:
    headers = {
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "Accept-Language": "de-AT, en-US;q=0.7",
        "Accept-Charset": "utf-8, iso-8859-1;q=0.5",
        "Accept-Encoding": "gzip, br;q=0",
    }
    with app.test_request_context("/", headers=headers):
        mimetypes = request.accept_mimetypes
        assert isinstance(mimetypes, MIMEAccept) and mimetypes.provided
        assert mimetypes.best == "text/html"
        assert mimetypes.best_match(["application/json", "text/html"]) == "text/html"
        assert mimetypes.accept_html and mimetypes.accept_json
        assert mimetypes["application/json"] == 0.8
        assert request.accept_languages.best_match(["en", "de"]) == "de"
        assert request.accept_languages.best_match(["fr"]) is None
        assert request.accept_charsets.best_match(["latin1", "utf8"]) == "utf8"
        assert "gzip" in request.accept_encodings
        assert request.accept_encodings.best_match(["br", "gzip"]) == "gzip"


def test_accept_headers_absent(app: Flask) -> None:
    with app.test_request_context("/"):
        assert not request.accept_mimetypes.provided
        assert request.accept_mimetypes.best_match(["text/html"], "x") == "x"
        assert not request.accept_mimetypes.accept_json
        assert list(request.accept_languages) == []
        assert list(request.accept_charsets) == []
        assert list(request.accept_encodings) == []


def test_max_content_length_from_config_or_per_request(app: Flask) -> None:
    with app.test_request_context("/"):
        assert request.max_content_length is None
    app.config["MAX_CONTENT_LENGTH"] = 1000
    with app.test_request_context("/"):
        assert request.max_content_length == 1000
        request.max_content_length = 10
        assert request.max_content_length == 10
    assert scope_request().max_content_length is None  # outside any app


# -- routing attributes -------------------------------------------------------------


def test_routing_attributes_through_the_client(app: Flask, client: FlaskClient, kind: str) -> None:
    seen = serve(
        app,
        kind,
        lambda: {
            "endpoint": request.endpoint,
            "view_args": request.view_args,
            "rule": request.url_rule.rule if request.url_rule else None,
            "blueprint": request.blueprint,
            "blueprints": request.blueprints,
        },
        "/users/<int:user_id>",
    )
    assert client.get("/users/7").status_code == 200
    assert seen["view_args"] == {"user_id": 7}
    assert seen["rule"] == "/users/<int:user_id>"
    assert seen["endpoint"].startswith("view_")
    assert seen["blueprint"] is None and seen["blueprints"] == []


def test_blueprint_attributes(app: Flask, client: FlaskClient, kind: str) -> None:
    parent, child = Blueprint("parent", __name__), Blueprint("child", __name__)
    seen: dict[str, Any] = {}

    def read() -> None:
        seen.update(
            endpoint=request.endpoint, blueprint=request.blueprint, blueprints=request.blueprints
        )

    if kind == "def":

        @child.route("/leaf")
        def leaf() -> str:
            read()
            return "ok"

    else:

        @child.route("/leaf")
        async def leaf() -> str:  # type: ignore[misc]
            read()
            return "ok"

    parent.register_blueprint(child, url_prefix="/child")
    app.register_blueprint(parent, url_prefix="/parent")
    assert client.get("/parent/child/leaf").status_code == 200
    assert seen == {
        "endpoint": "parent.child.leaf",
        "blueprint": "parent.child",
        "blueprints": ["parent.child", "parent"],
    }


def test_routing_attributes_without_a_match(app: Flask, client: FlaskClient) -> None:
    seen: dict[str, Any] = {}

    @app.errorhandler(404)
    def not_found(error: Exception) -> tuple[str, int]:
        seen.update(endpoint=request.endpoint, rule=request.url_rule, blueprint=request.blueprint)
        return "nope", 404

    assert client.get("/nowhere").status_code == 404
    assert seen == {"endpoint": None, "rule": None, "blueprint": None}


def test_test_request_context_matches_the_url(app: Flask) -> None:
    @app.route("/users/<int:user_id>")
    def user(user_id: int) -> str:
        return "x"

    with app.test_request_context("/users/5"):
        assert request.endpoint == "user"
        assert request.view_args == {"user_id": 5}


# -- every attribute, in def and async def views ----------------------------------

ALL_HEADERS = {
    "Host": "example.com:8080",
    "User-Agent": "agent/1.0",
    "Cookie": "sid=abc; theme=dark",
    "Authorization": basic("ada", "pw"),
    "Accept": "application/json, text/html;q=0.5",
    "Accept-Language": "fr-CH, fr;q=0.9",
    "Accept-Encoding": "gzip",
    "Accept-Charset": "utf-8",
    "If-Modified-Since": "Sun, 06 Nov 1994 08:49:37 GMT",
    "If-Unmodified-Since": "Sun, 06 Nov 1994 08:49:37 GMT",
    "If-None-Match": '"v1"',
    "If-Match": '"v2"',
    "Range": "bytes=-10",
    "X-Forwarded-For": "203.0.113.9",
    "Content-Type": "application/json; charset=utf-8",
    "Content-Encoding": "identity",
}


def read_everything() -> dict[str, Any]:
    """Every attribute of issue 3's "Without I/O" list, and the others."""
    auth = request.authorization
    return {
        "method": request.method,
        "scheme": request.scheme,
        "path": request.path,
        "full_path": request.full_path,
        "script_root": request.script_root,
        "root_path": request.root_path,
        "url": request.url,
        "base_url": request.base_url,
        "url_root": request.url_root,
        "host": request.host,
        "host_url": request.host_url,
        "is_secure": request.is_secure,
        "args": request.args.to_dict(flat=False),
        "header": request.headers.get("user-agent"),
        "cookies": request.cookies.to_dict(),
        "remote_addr": request.remote_addr,
        "access_route": request.access_route,
        "scope_type": request.scope["type"],
        "endpoint": request.endpoint,
        "view_args": request.view_args,
        "blueprint": request.blueprint,
        "url_rule": str(request.url_rule),
        "mimetype": request.mimetype,
        "mimetype_params": request.mimetype_params,
        "content_type": request.content_type,
        "content_length": request.content_length,
        "content_encoding": request.content_encoding,
        "is_json": request.is_json,
        "user_agent": request.user_agent.string,
        "auth": auth and (auth.type, auth.username, auth.password),
        "if_modified_since": request.if_modified_since,
        "if_unmodified_since": request.if_unmodified_since,
        "if_none_match": request.if_none_match.as_set(),
        "if_match": request.if_match.as_set(),
        "range": request.range and request.range.ranges,
        "best": request.accept_mimetypes.best_match(["text/html", "application/json"]),
        "accept_json": request.accept_mimetypes.accept_json,
        "language": request.accept_languages.best_match(["en", "fr"]),
        "encoding": "gzip" in request.accept_encodings,
        "charset": request.accept_charsets.best_match(["utf8"]),
        "max_content_length": request.max_content_length,
    }


def test_every_attribute_through_the_client(app: Flask, client: FlaskClient, kind: str) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 4096
    seen = serve(app, kind, read_everything, "/items/<name>", methods=["POST"])
    response = client.post("/items/caf\u00e9?tag=a&tag=b", headers=ALL_HEADERS, data=b'{"x": 1}')
    assert response.status_code == 200, response.text
    when = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
    assert seen == {
        "method": "POST",
        "scheme": "http",
        "path": "/items/caf\u00e9",
        "full_path": "/items/caf\u00e9?tag=a&tag=b",
        "script_root": "",
        "root_path": "",
        "url": "http://example.com:8080/items/caf\u00e9?tag=a&tag=b",
        "base_url": "http://example.com:8080/items/caf\u00e9",
        "url_root": "http://example.com:8080/",
        "host": "example.com:8080",
        "host_url": "http://example.com:8080/",
        "is_secure": False,
        "args": {"tag": ["a", "b"]},
        "header": "agent/1.0",
        "cookies": {"sid": "abc", "theme": "dark"},
        "remote_addr": "127.0.0.1",
        "access_route": ["203.0.113.9"],
        "scope_type": "http",
        "endpoint": seen["endpoint"],
        "view_args": {"name": "caf\u00e9"},
        "blueprint": None,
        "url_rule": "/items/<name>",
        "mimetype": "application/json",
        "mimetype_params": {"charset": "utf-8"},
        "content_type": "application/json; charset=utf-8",
        "content_length": 8,
        "content_encoding": "identity",
        "is_json": True,
        "user_agent": "agent/1.0",
        "auth": ("basic", "ada", "pw"),
        "if_modified_since": when,
        "if_unmodified_since": when,
        "if_none_match": {"v1"},
        "if_match": {"v2"},
        "range": [(-10, None)],
        "best": "application/json",
        "accept_json": True,
        "language": "fr",
        "encoding": True,
        "charset": "utf8",
        "max_content_length": 4096,
    }


HOSTILE_HEADERS = [
    {"Authorization": "Basic !!!!"},
    {"Authorization": "Basic " + "QUFB" * 4000},
    {"Authorization": "Digest ===, ,,,"},
    {"Authorization": '"'},
    {"Range": "bytes=-"},
    {"Range": "bytes=99999999999999999999999999-1"},
    {"Range": "bytes=" + "1-" * 2000},
    {"If-Modified-Since": "Sun, 99 Foo 99999 99:99:99 +9999"},
    {"If-None-Match": 'W/"' * 2000},
    {"Accept": '*/*;q="' + "\\" * 4000},
    {"Accept": "text/html;q=nan, */*;q=inf"},
    {"Accept-Language": "-" * 8000},
    {"Cookie": '"; ; ="; a="b' * 500},
    {"Content-Type": ";;;=;=" * 1000},
    {"X-Forwarded-For": ',"' * 2000},
    {"Host": "a b/c@d"},
    {"User-Agent": "x" * 8000},
]


@pytest.mark.parametrize("headers", HOSTILE_HEADERS)
def test_hostile_headers_never_500(
    app: Flask, client: FlaskClient, kind: str, headers: dict[str, str]
) -> None:
    app.config["MAX_HEADER_SIZE"] = None  # the request's own parsing, past the 431 guard
    seen = serve(app, kind, read_everything)
    response = client.get("/", headers=headers)
    assert response.status_code == 200, response.text
    assert seen["method"] == "GET"


def test_hostile_headers_through_uvicorn(app: Flask, live_server: Any) -> None:
    seen = serve(app, "async def", read_everything)
    raw = (
        b"User-Agent: \xe9\xe9\r\n"
        b"Accept-Charset: \xff\r\n"
        b"Authorization: Basic \xff\xfe\r\n"
        b"Accept: text/\xff;q=\xff\r\n"
        b"Range: bytes=\xff-\r\n"
        b"Cookie: a=\xff\xfe; b\r\n"
        b"If-None-Match: \xff\r\n"
        b"Content-Type: text/plain; charset=\xff\r\n"
    )
    with live_server(app) as server:
        answer = _raw_get(server.port, b"/?q=%ff", raw)
    assert answer.startswith(b"HTTP/1.1 200"), answer
    assert seen["auth"] is None and seen["range"] is None
    assert seen["cookies"] == {"a": "\u00ff\u00fe", "b": ""}  # latin-1, as in Werkzeug


# -- laziness -----------------------------------------------------------------------

LAZY = [
    "authorization",
    "if_modified_since",
    "if_unmodified_since",
    "if_none_match",
    "if_match",
    "range",
    "if_range",
    "accept_mimetypes",
    "accept_charsets",
    "accept_encodings",
    "accept_languages",
    "user_agent",
    "cookies",
    "args",
    "url",
    "base_url",
    "full_path",
    "host",
]


def test_parsed_attributes_are_computed_on_first_use_and_cached() -> None:
    req = scope_request(headers=[(b"accept", b"text/html"), (b"authorization", b"Bearer t")])
    assert not set(LAZY) & set(req.__dict__), "nothing is parsed before it is read"
    for name in LAZY:
        first = getattr(req, name)
        assert getattr(req, name) is first, name
    assert set(LAZY) <= set(req.__dict__)


def test_a_view_that_reads_nothing_parses_nothing(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    from flaskish.globals import _cv_request

    seen = serve(app, kind, lambda: {"request": _cv_request.get().request})
    client.get("/", headers=ALL_HEADERS)
    assert not set(LAZY) & set(seen["request"].__dict__)
