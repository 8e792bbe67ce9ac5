"""Static files, ``send_file`` and ``send_from_directory``: folders and URLs,
content types, caching headers, conditional and range requests, ``HEAD``,
path traversal (in-process and over a real uvicorn with raw requests),
file objects, ``Content-Disposition``, and memory use for a large file.

The static files live in ``tests/templates_app/static``; ``secret.txt``
beside that folder is what every traversal attempt tries to reach.

The 200 MB test at the end is in the suite on purpose: "large files are
streamed in chunks, never read whole into memory" is a promise of
``send_file`` that only a measurement keeps. It runs over a real server in
a few seconds (the file is sparse, so the disk does no work).
"""

from __future__ import annotations

import gc
import io
import os
import re
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

import anyio
import httpx2 as httpx
import pytest
import werkzeug.security
from kinds import as_kind, both_kinds
from templates_app import ROOT

from flaskish import Flask, Response, send_file, send_from_directory, url_for
from flaskish.routing import BuildError
from flaskish.sending import CHUNK_SIZE, FileBody, safe_join
from flaskish.testing import FlaskClient

F = TypeVar("F", bound=Callable[..., Any])


STATIC = ROOT / "static"
SECRET = (ROOT / "secret.txt").read_bytes()
DIGITS = (STATIC / "digits.txt").read_bytes()  # b"0123456789"


@pytest.fixture
def app() -> Flask:
    """An app whose root is ``tests/templates_app`` (so ``static/`` is there)."""
    app = Flask("static_app", root_path=str(ROOT))
    app.config.update(TESTING=True, SECRET_KEY="test secret")
    return app


def http_date(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")


async def asgi_get(
    app: Flask, raw_path: str, method: str = "GET", headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[int, bytes]:
    """Call the app with *raw_path* exactly as a server decodes it (no
    client-side normalization of ``..`` or ``//``). Returns status and body."""
    status = 0
    body: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        else:
            body.append(message.get("body", b""))

    path, _, query = raw_path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote(path),
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"localhost"), *(headers or [])],
        "client": ("127.0.0.1", 5000),
        "server": ("localhost", 80),
    }
    await app(scope, receive, send)
    return status, b"".join(body)


def raw_http_get(port: int, target: str) -> tuple[int, bytes]:
    """Send ``GET <target>`` byte for byte over a socket; return status and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(
            f"GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode(
                "latin-1"
            )
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


# -- the static folder and its URL ----------------------------------------------------


def test_the_default_static_folder_is_static_beside_the_app(
    app: Flask, client: FlaskClient
) -> None:
    assert app.has_static_folder
    assert app.static_folder == str(STATIC)
    assert app.static_url_path == "/static"
    assert "static" in app.view_functions
    response = client.get("/static/style.css")
    assert response.status_code == 200
    assert response.data == (STATIC / "style.css").read_bytes()
    assert client.get("/static/sub/deep.txt").data == b"deep\n"


def test_url_for_static(app: Flask) -> None:
    with app.test_request_context():
        assert url_for("static", filename="style.css") == "/static/style.css"
        assert url_for("static", filename="sub/deep.txt") == "/static/sub/deep.txt"
        assert url_for("static", filename="style.css", _external=True) == (
            "http://localhost/static/style.css"
        )
        assert url_for("static", filename="a b.css", v=2) == "/static/a%20b.css?v=2"


def test_a_custom_static_folder_and_url_path() -> None:
    app = Flask(
        "custom", root_path=str(ROOT), static_folder="static/sub", static_url_path="/assets"
    )
    client = app.test_client()
    assert client.get("/assets/deep.txt").data == b"deep\n"
    assert client.get("/static/style.css").status_code == 404
    with app.test_request_context():
        assert url_for("static", filename="deep.txt") == "/assets/deep.txt"


def test_the_url_path_defaults_to_the_folder_name() -> None:
    app = Flask("named", root_path=str(ROOT), static_folder="static/sub")
    assert app.static_url_path == "/sub"
    assert app.test_client().get("/sub/deep.txt").data == b"deep\n"


def test_an_absolute_static_folder(tmp_path: Path) -> None:
    (tmp_path / "hello.txt").write_text("hello")
    app = Flask(
        "absolute", root_path=str(ROOT), static_folder=str(tmp_path), static_url_path="/files"
    )
    assert app.test_client().get("/files/hello.txt").data == b"hello"


def test_static_files_served_at_the_root() -> None:
    app = Flask("root_static", root_path=str(ROOT), static_url_path="")

    @app.route("/")
    def index() -> str:
        return "index"

    client = app.test_client()
    assert client.get("/").text == "index"
    assert client.get("/style.css").data == (STATIC / "style.css").read_bytes()
    with app.test_request_context():
        assert url_for("static", filename="style.css") == "/style.css"


def test_without_a_static_folder_there_is_no_static_rule() -> None:
    app = Flask("no_static", root_path=str(ROOT), static_folder=None)
    assert not app.has_static_folder
    assert app.static_folder is None
    assert app.static_url_path is None
    assert "static" not in app.view_functions
    assert app.test_client().get("/static/style.css").status_code == 404
    with app.test_request_context(), pytest.raises(BuildError):
        url_for("static", filename="style.css")
    with app.app_context(), pytest.raises(RuntimeError, match="static_folder"):
        app.send_static_file("style.css")


def test_static_host_needs_host_matching() -> None:
    app = Flask("cdn", root_path=str(ROOT), static_host="static.example.com", host_matching=True)
    assert app.test_client().get("http://static.example.com/static/style.css").status_code == 200
    with pytest.raises(ValueError, match="static_host"):
        Flask("bad", root_path=str(ROOT), static_host="static.example.com")
    with pytest.raises(ValueError, match="static_host"):
        Flask("bad", root_path=str(ROOT), host_matching=True)


def test_static_files_are_served_on_the_static_host_only() -> None:
    app = Flask("cdn", root_path=str(ROOT), static_host="static.example.com", host_matching=True)

    @app.route("/", host="www.example.com")
    def index() -> str:
        return "www"

    client = app.test_client()
    assert client.get("http://static.example.com/static/style.css").status_code == 200
    with app.test_request_context("http://www.example.com/"):
        assert url_for("static", filename="style.css") == (
            "http://static.example.com/static/style.css"
        )
    assert client.get("http://www.example.com/static/style.css").status_code == 404


def test_a_missing_static_file_is_a_404(client: FlaskClient) -> None:
    assert client.get("/static/nope.css").status_code == 404
    assert client.get("/static/sub").status_code == 404  # a folder is not a file
    assert client.get("/static/sub/").status_code == 404


# -- content types and caching headers ---------------------------------------------


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("style.css", "text/css; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("data.json", "application/json"),
        ("icon.svg", "image/svg+xml; charset=utf-8"),
        ("logo.png", "image/png"),
        ("digits.txt", "text/plain; charset=utf-8"),
        ("blob.bin", "application/octet-stream"),
    ],
)
def test_static_content_types(client: FlaskClient, name: str, content_type: str) -> None:
    response = client.get(f"/static/{name}")
    assert response.headers["Content-Type"] == content_type
    assert response.data == (STATIC / name).read_bytes()
    assert response.headers["Content-Length"] == str((STATIC / name).stat().st_size)


def test_etag_last_modified_and_no_cache_by_default(client: FlaskClient) -> None:
    response = client.get("/static/style.css")
    stat = (STATIC / "style.css").stat()
    etag = response.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert response.headers["Last-Modified"] == http_date(stat.st_mtime)
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Accept-Ranges"] == "bytes"
    # Stable across requests, different for another file.
    assert client.get("/static/style.css").headers["ETag"] == etag
    assert client.get("/static/app.js").headers["ETag"] != etag


@pytest.mark.parametrize("max_age", [3600, timedelta(hours=1)], ids=["int", "timedelta"])
def test_send_file_max_age_default(app: Flask, client: FlaskClient, max_age: Any) -> None:
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = max_age
    before = time.time()
    response = client.get("/static/style.css")
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    expires = datetime.strptime(response.headers["Expires"], "%a, %d %b %Y %H:%M:%S GMT")
    assert abs(expires.replace(tzinfo=UTC).timestamp() - (before + 3600)) < 5


def test_get_send_file_max_age_can_be_overridden() -> None:
    class MyApp(Flask):
        def get_send_file_max_age(self, filename: str | None) -> int | None:
            return 31536000 if filename and filename.endswith(".png") else 60

    client = MyApp("max_age", root_path=str(ROOT)).test_client()
    assert client.get("/static/logo.png").headers["Cache-Control"] == ("public, max-age=31536000")
    assert client.get("/static/style.css").headers["Cache-Control"] == "public, max-age=60"


# -- conditional requests ----------------------------------------------------------


def test_if_none_match_gives_a_304(client: FlaskClient) -> None:
    etag = client.get("/static/style.css").headers["ETag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = client.get("/static/style.css", headers={"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.data == b""
        assert response.headers["ETag"] == etag
        assert "Content-Type" not in response.headers
    response = client.get("/static/style.css", headers={"If-None-Match": '"other"'})
    assert response.status_code == 200
    assert response.data == (STATIC / "style.css").read_bytes()


def test_if_modified_since_gives_a_304(client: FlaskClient) -> None:
    mtime = (STATIC / "style.css").stat().st_mtime
    for since, status in ((mtime, 304), (mtime + 3600, 304), (mtime - 3600, 200)):
        response = client.get("/static/style.css", headers={"If-Modified-Since": http_date(since)})
        assert response.status_code == status
        assert response.data == (b"" if status == 304 else (STATIC / "style.css").read_bytes())
    bad = client.get("/static/style.css", headers={"If-Modified-Since": "not a date"})
    assert bad.status_code == 200


def test_if_none_match_wins_over_if_modified_since(client: FlaskClient) -> None:
    mtime = (STATIC / "style.css").stat().st_mtime
    response = client.get(
        "/static/style.css",
        headers={
            "If-None-Match": '"stale"',
            "If-Modified-Since": http_date(mtime + 3600),
        },
    )
    assert response.status_code == 200


# -- range requests ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "start", "stop"),
    [
        ("bytes=0-3", 0, 4),
        ("bytes=2-2", 2, 3),
        ("bytes=-3", 7, 10),  # the last 3 bytes
        ("bytes=7-", 7, 10),  # from byte 7 to the end
        ("bytes=5-100", 5, 10),  # an end past the file is cut
    ],
)
def test_a_range_request_gives_a_206_with_those_bytes(
    client: FlaskClient, header: str, start: int, stop: int
) -> None:
    response = client.get("/static/digits.txt", headers={"Range": header})
    assert response.status_code == 206
    assert response.data == DIGITS[start:stop]
    assert response.headers["Content-Range"] == f"bytes {start}-{stop - 1}/10"
    assert response.headers["Content-Length"] == str(stop - start)
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize(
    "header",
    # A suffix longer than the file: RFC 9110 would send all of it; Werkzeug
    # (Range.range_for_length), and so Flask, answers 416.
    ["bytes=10-", "bytes=20-30", "bytes=-100"],
)
def test_an_unsatisfiable_range_is_a_416(client: FlaskClient, header: str) -> None:
    response = client.get("/static/digits.txt", headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == "bytes */10"
    assert b"0123" not in response.data


@pytest.mark.parametrize("header", ["bytes=abc", "bytes=5-2", "items=0-3", "0-3", "bytes=-0"])
def test_a_malformed_range_is_a_416(client: FlaskClient, header: str) -> None:
    """RFC 9110 lets a server either ignore a Range it cannot parse or refuse
    it; Werkzeug (parse_range_header gives None), and so Flask, answers 416.
    More cases in test_hardening_limits.py."""
    response = client.get("/static/digits.txt", headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == "bytes */10"


def test_if_range_with_the_current_etag_gives_the_range(client: FlaskClient) -> None:
    etag = client.get("/static/digits.txt").headers["ETag"]
    response = client.get("/static/digits.txt", headers={"Range": "bytes=0-1", "If-Range": etag})
    assert response.status_code == 206
    assert response.data == b"01"


def test_if_range_with_the_current_date_gives_the_range(client: FlaskClient) -> None:
    modified = client.get("/static/digits.txt").headers["Last-Modified"]
    response = client.get(
        "/static/digits.txt", headers={"Range": "bytes=0-1", "If-Range": modified}
    )
    assert response.status_code == 206
    assert response.data == b"01"


def test_if_range_with_a_stale_validator_gives_the_whole_file(client: FlaskClient) -> None:
    etag = client.get("/static/digits.txt").headers["ETag"]
    mtime = (STATIC / "digits.txt").stat().st_mtime
    for validator in ('"stale"', f"W/{etag}", http_date(mtime - 3600)):
        response = client.get(
            "/static/digits.txt", headers={"Range": "bytes=0-1", "If-Range": validator}
        )
        assert response.status_code == 200, validator
        assert response.data == DIGITS
        assert "Content-Range" not in response.headers


def test_a_matching_etag_wins_over_a_range(client: FlaskClient) -> None:
    etag = client.get("/static/digits.txt").headers["ETag"]
    response = client.get(
        "/static/digits.txt", headers={"Range": "bytes=0-1", "If-None-Match": etag}
    )
    assert response.status_code == 304


# -- HEAD --------------------------------------------------------------------------


def test_head_has_the_headers_of_get_and_no_body(client: FlaskClient) -> None:
    get = client.get("/static/style.css")
    head = client.head("/static/style.css")
    assert head.status_code == 200
    assert head.data == b""
    for name in ("Content-Type", "Content-Length", "ETag", "Last-Modified", "Cache-Control"):
        assert head.headers[name] == get.headers[name], name
    ranged = client.head("/static/digits.txt", headers={"Range": "bytes=0-3"})
    assert ranged.status_code == 206
    assert ranged.headers["Content-Range"] == "bytes 0-3/10"
    assert ranged.data == b""


# -- path traversal ----------------------------------------------------------------

#: Attempts to leave the static folder, as the raw request target a client
#: sends (servers percent-decode the path before routing).
TRAVERSALS = [
    "/static/../secret.txt",
    "/static/..%2fsecret.txt",
    "/static/%2e%2e/secret.txt",
    "/static/%2e%2e%2fsecret.txt",
    "/static/%2E%2E%2Fsecret.txt",
    "/static/sub/../../secret.txt",
    "/static/sub/%2e%2e/%2e%2e/secret.txt",
    "/static/..",
    "/static/%2e%2e",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/static/%2f%2e%2e%2fsecret.txt",
    "/static/" + "%2e%2e%2f" * 12 + "etc/passwd",
    "/static/secret.txt%00",
    "/static/style.css%00.png",
    "/static/%00../secret.txt",
    "/static/..%5csecret.txt",
    "/static/%2e%2e%5c%2e%2e%5csecret.txt",
    "/static/%5cetc%5cpasswd",
    "/static/C:%5cWindows%5cwin.ini",
    "/static/c:/etc/passwd",
]


def merged(target: str) -> str:
    """The path a request with repeated slashes is redirected to (308, as in
    Flask: ``merge_slashes``), still inside the folder."""
    return re.sub("/{2,}", "/", unquote(target.partition("?")[0]))


@pytest.mark.parametrize("target", TRAVERSALS)
def test_path_traversal_is_a_404(app: Flask, target: str) -> None:
    status, body = anyio.run(asgi_get, app, target)
    if status == 308:  # "/static//etc/passwd": redirected to "/static/etc/passwd"
        assert "//" in unquote(target)
        status, body = anyio.run(asgi_get, app, merged(target))
    assert status == 404
    assert SECRET not in body
    assert b"root:" not in body


def test_paths_that_stay_inside_the_folder_are_served(app: Flask) -> None:
    for target in ("/static/./style.css", "/static/sub/../style.css", "/static/sub/./deep.txt"):
        status, body = anyio.run(asgi_get, app, target)
        assert status == 200, target
        assert body == (STATIC / os.path.normpath(unquote(target)[8:])).read_bytes()


def test_path_traversal_over_a_real_server(app: Flask, live_server: Any) -> None:
    """Raw request targets through uvicorn (an HTTP client would normalize
    them before sending)."""
    with live_server(app) as server:
        assert raw_http_get(server.port, "/static/style.css")[0] == 200
        for target in TRAVERSALS:
            status, body = raw_http_get(server.port, target)
            if status == 308:
                status, body = raw_http_get(server.port, merged(target))
            assert status == 404, target
            assert SECRET not in body
            assert b"root:" not in body


def test_static_files_over_a_real_server(app: Flask, live_server: Any) -> None:
    with live_server(app) as server, httpx.Client(base_url=server.url) as http:
        response = http.get("/static/digits.txt")
        assert response.status_code == 200
        assert response.content == DIGITS
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert response.headers["Content-Length"] == "10"
        assert response.headers["Accept-Ranges"] == "bytes"
        etag = response.headers["ETag"]
        modified = response.headers["Last-Modified"]

        response = http.get("/static/digits.txt", headers={"If-None-Match": etag})
        assert (response.status_code, response.content) == (304, b"")
        response = http.get("/static/digits.txt", headers={"If-Modified-Since": modified})
        assert response.status_code == 304

        response = http.get("/static/digits.txt", headers={"Range": "bytes=3-5"})
        assert (response.status_code, response.content) == (206, b"345")
        assert response.headers["Content-Range"] == "bytes 3-5/10"
        response = http.get("/static/digits.txt", headers={"Range": "bytes=-2"})
        assert (response.status_code, response.content) == (206, b"89")
        response = http.get("/static/digits.txt", headers={"Range": "bytes=10-"})
        assert response.status_code == 416
        assert response.headers["Content-Range"] == "bytes */10"

        head = http.head("/static/digits.txt")
        assert (head.status_code, head.content) == (200, b"")
        assert head.headers["Content-Length"] == "10"
        assert head.headers["ETag"] == etag


@pytest.mark.parametrize("name", ["../secret.txt", "sub/../../secret.txt", "/etc/passwd", ".."])
def test_safe_join_refuses_paths_that_leave_the_directory(name: str) -> None:
    assert safe_join(str(STATIC), name) is None


def test_safe_join_is_werkzeugs_and_leaves_a_nul_to_the_file_check() -> None:
    """A NUL or a drive-like name does not leave the directory, so
    Werkzeug's ``safe_join`` joins it (on POSIX); opening it is what fails,
    and that is a 404 (``test_path_traversal_is_a_404``)."""
    assert safe_join is werkzeug.security.safe_join
    assert safe_join("/srv/static", "a\x00b") == "/srv/static/a\x00b"
    assert safe_join("/srv/static", "C:x") == "/srv/static/C:x"


def test_safe_join_joins_paths_inside_the_directory() -> None:
    assert safe_join("/srv/static", "css/site.css") == "/srv/static/css/site.css"
    assert safe_join("/srv/static", "css/../site.css") == "/srv/static/site.css"
    assert safe_join("/srv/static", "a", "b.txt") == "/srv/static/a/b.txt"


# -- send_file ---------------------------------------------------------------------


def test_send_file_with_a_path_relative_to_the_root_path(app: Flask, client: FlaskClient) -> None:
    @app.route("/")
    def index() -> Response:
        return send_file("static/style.css")

    @app.route("/pathlib")
    def with_pathlib() -> Response:
        return send_file(STATIC / "digits.txt")

    response = client.get("/")
    assert response.status_code == 200
    assert response.data == (STATIC / "style.css").read_bytes()
    assert response.headers["Content-Type"] == "text/css; charset=utf-8"
    assert response.headers["Content-Disposition"] == "inline; filename=style.css"
    assert "ETag" in response.headers
    assert "Last-Modified" in response.headers
    assert client.get("/pathlib").data == DIGITS


@pytest.mark.parametrize("function", ["send_file", "send_from_directory"])
def test_sending_a_path_from_an_async_view_does_not_block_the_event_loop(
    app: Flask, client: FlaskClient, function: str
) -> None:
    @app.route("/")
    async def index() -> Response:
        if function == "send_file":
            return send_file("static/digits.txt")
        return send_from_directory("static", "digits.txt")

    response = client.get("/", headers={"Range": "bytes=1-2"})
    assert response.status_code == 206
    assert response.data == b"12"


@both_kinds
def test_send_file_with_a_bytesio(app: Flask, client: FlaskClient, kind: str) -> None:
    def report() -> Response:
        return send_file(io.BytesIO(b"a,b\n1,2\n"), download_name="report.csv")

    def raw() -> Response:
        return send_file(io.BytesIO(b"\x00\x01"), mimetype="application/x-thing")

    app.add_url_rule("/report", view_func=as_kind(kind, report))
    app.add_url_rule("/raw", view_func=as_kind(kind, raw))
    response = client.get("/report")
    assert response.data == b"a,b\n1,2\n"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Length"] == "8"
    assert response.headers["Content-Disposition"] == "inline; filename=report.csv"
    assert "ETag" not in response.headers  # no path to derive one from
    response = client.get("/raw")
    assert response.data == b"\x00\x01"
    assert response.headers["Content-Type"] == "application/x-thing"
    assert "Content-Disposition" not in response.headers
    ranged = client.get("/report", headers={"Range": "bytes=4-"})
    assert ranged.status_code == 206
    assert ranged.data == b"1,2\n"


def test_send_file_with_an_open_file_closes_it_after_the_response(
    app: Flask, client: FlaskClient
) -> None:
    opened: list[io.BufferedReader] = []

    @app.route("/")
    def index() -> Response:
        f = open(STATIC / "digits.txt", "rb")  # send_file closes it
        opened.append(f)
        return send_file(f)

    response = client.get("/")
    assert response.data == DIGITS
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Content-Disposition"] == "inline; filename=digits.txt"
    assert response.headers["Content-Length"] == "10"
    for headers in ({"Range": "bytes=8-"}, {"Range": "bytes=50-"}, {}):
        client.get("/", headers=headers)
    client.head("/")
    assert len(opened) == 5
    assert all(f.closed for f in opened)


def test_a_file_object_is_sent_from_its_current_position(app: Flask, client: FlaskClient) -> None:
    @app.route("/")
    def index() -> Response:
        data = io.BytesIO(b"HEADERbody")
        data.seek(6)
        return send_file(data, mimetype="text/plain")

    response = client.get("/")
    assert response.data == b"body"
    assert response.headers["Content-Length"] == "4"


def test_a_nameless_file_without_a_mimetype_is_a_value_error(app: Flask) -> None:
    with app.test_request_context(), pytest.raises(ValueError, match="mimetype"):
        send_file(io.BytesIO(b"data"))


def test_as_attachment_and_download_name(app: Flask, client: FlaskClient) -> None:
    @app.route("/path")
    def path() -> Response:
        return send_file("static/digits.txt", as_attachment=True)

    @app.route("/renamed")
    def renamed() -> Response:
        return send_file("static/digits.txt", as_attachment=True, download_name="my digits.csv")

    response = client.get("/path")
    assert response.headers["Content-Disposition"] == "attachment; filename=digits.txt"
    response = client.get("/renamed")
    assert response.headers["Content-Disposition"] == 'attachment; filename="my digits.csv"'
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # from the name


def test_an_attachment_needs_a_name(app: Flask) -> None:
    with app.test_request_context(), pytest.raises(TypeError, match="name"):
        send_file(io.BytesIO(b"x"), mimetype="text/plain", as_attachment=True)


@pytest.mark.parametrize(
    ("name", "ascii_name", "utf8_name"),
    [
        ("index.html", "index.html", None),
        ("Vögel.txt", "Vogel.txt", "V%C3%B6gel.txt"),
        (
            "Ñandú\uff0fpingüino.txt",
            '"Nandu/pinguino.txt"',  # a fullwidth solidus
            "%C3%91and%C3%BA%EF%BC%8Fping%C3%BCino.txt",
        ),
        ("те:/ст", '":/"', "%D1%82%D0%B5%3A%2F%D1%81%D1%82"),
        ("(тест.txt", '"(.txt"', "%28%D1%82%D0%B5%D1%81%D1%82.txt"),
        ("(test.txt", '"(test.txt"', None),
        ("отчёт.pdf", ".pdf", "%D0%BE%D1%82%D1%87%D1%91%D1%82.pdf"),
    ],
)
def test_non_ascii_names_use_rfc_5987(
    app: Flask, name: str, ascii_name: str, utf8_name: str | None
) -> None:
    """RFC 6266: an ASCII ``filename`` fallback, and ``filename*`` with the
    UTF-8 name percent-encoded (the values Werkzeug's tests expect)."""
    with app.test_request_context():
        response = send_file(
            io.BytesIO(b"x"), mimetype="text/plain", as_attachment=True, download_name=name
        )
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert f"filename={ascii_name}" in disposition
    if utf8_name is None:
        assert "filename*" not in disposition
    else:
        assert f"filename*=UTF-8''{utf8_name}" in disposition
        assert unquote(utf8_name) == name


def test_conditional_false_ignores_conditional_and_range_headers(
    app: Flask, client: FlaskClient
) -> None:
    @app.route("/")
    def index() -> Response:
        return send_file("static/digits.txt", conditional=False)

    etag = client.get("/").headers["ETag"]
    for headers in ({"If-None-Match": etag}, {"Range": "bytes=0-1"}):
        response = client.get("/", headers=headers)
        assert response.status_code == 200
        assert response.data == DIGITS
    assert "Accept-Ranges" not in response.headers


def test_etag_false_or_a_custom_etag(app: Flask, client: FlaskClient) -> None:
    @app.route("/none")
    def none() -> Response:
        return send_file("static/digits.txt", etag=False, last_modified=0)

    @app.route("/custom")
    def custom() -> Response:
        return send_file(io.BytesIO(b"data"), mimetype="text/plain", etag="v1")

    assert "ETag" not in client.get("/none").headers
    response = client.get("/custom")
    assert response.headers["ETag"] == '"v1"'
    assert client.get("/custom", headers={"If-None-Match": '"v1"'}).status_code == 304
    assert client.get("/custom", headers={"If-None-Match": '"v0"'}).status_code == 200
    ranged = client.get("/custom", headers={"Range": "bytes=0-1", "If-Range": '"v1"'})
    assert ranged.status_code == 206
    assert ranged.data == b"da"


def test_last_modified(app: Flask, client: FlaskClient) -> None:
    moment = datetime(2024, 5, 17, 10, 30, 0, tzinfo=UTC)

    @app.route("/datetime")
    def as_datetime() -> Response:
        return send_file(io.BytesIO(b"x"), mimetype="text/plain", last_modified=moment)

    @app.route("/timestamp")
    def as_timestamp() -> Response:
        return send_file("static/digits.txt", last_modified=int(moment.timestamp()))

    for url in ("/datetime", "/timestamp"):
        response = client.get(url)
        assert response.headers["Last-Modified"] == "Fri, 17 May 2024 10:30:00 GMT"
        since = {"If-Modified-Since": "Fri, 17 May 2024 10:30:00 GMT"}
        assert client.get(url, headers=since).status_code == 304
        earlier = {"If-Modified-Since": "Fri, 17 May 2024 10:29:59 GMT"}
        assert client.get(url, headers=earlier).status_code == 200


def test_max_age(app: Flask, client: FlaskClient) -> None:
    @app.route("/explicit")
    def explicit() -> Response:
        return send_file("static/digits.txt", max_age=60)

    @app.route("/default")
    def default() -> Response:
        return send_file("static/digits.txt")

    assert client.get("/explicit").headers["Cache-Control"] == "public, max-age=60"
    assert client.get("/default").headers["Cache-Control"] == "no-cache"
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 120
    assert client.get("/default").headers["Cache-Control"] == "public, max-age=120"


def test_a_missing_file_raises(app: Flask) -> None:
    with app.test_request_context(), pytest.raises(FileNotFoundError):
        send_file("static/nope.txt")


def test_the_body_is_read_in_chunks() -> None:
    body = FileBody(str(STATIC / "digits.txt"), start=2, stop=7)
    assert b"".join(body) == b"23456"
    with open(STATIC / "digits.txt", "rb") as f:
        assert list(FileBody(file=f)) == [DIGITS]
    assert CHUNK_SIZE <= 1024 * 1024


# -- send_from_directory -----------------------------------------------------------


def test_send_from_directory(app: Flask, client: FlaskClient) -> None:
    @app.route("/uploads/<path:name>")
    def download(name: str) -> Response:
        return send_from_directory("static", name, as_attachment=True)

    @app.route("/absolute/<path:name>")
    def absolute(name: str) -> Response:
        return send_from_directory(STATIC / "sub", name)

    response = client.get("/uploads/sub/deep.txt")
    assert response.status_code == 200
    assert response.data == b"deep\n"
    assert response.headers["Content-Disposition"] == "attachment; filename=deep.txt"
    assert client.get("/absolute/deep.txt").data == b"deep\n"
    ranged = client.get("/uploads/digits.txt", headers={"Range": "bytes=-2"})
    assert (ranged.status_code, ranged.data) == (206, b"89")
    assert client.get("/uploads/nope.txt").status_code == 404
    assert client.get("/uploads/sub").status_code == 404


@pytest.mark.parametrize(
    "name",
    [
        "../secret.txt",
        "sub/../../secret.txt",
        str(ROOT / "secret.txt"),
        "..",
        "/etc/passwd",
        "digits.txt\x00",
        "",
    ],
)
def test_send_from_directory_refuses_anything_outside_with_a_404(app: Flask, name: str) -> None:
    with app.test_request_context(), pytest.raises(Exception) as info:
        send_from_directory("static", name)
    assert getattr(info.value, "code", None) == 404


@pytest.mark.parametrize(
    "target",
    [
        "/files/..%2fsecret.txt",
        "/files/%2e%2e/secret.txt",
        "/files//etc/passwd",
        "/files/%2e%2e%2f%2e%2e%2fetc/passwd",
    ],
)
def test_send_from_directory_in_a_view_refuses_traversal(app: Flask, target: str) -> None:
    @app.route("/files/<path:name>")
    def files(name: str) -> Response:
        return send_from_directory("static", name)

    status, body = anyio.run(asgi_get, app, target)
    if status == 308:
        status, body = anyio.run(asgi_get, app, merged(target))
    assert status == 404
    assert SECRET not in body


# -- a large file over a real server -----------------------------------------------

# Why a 200 MB download is in the unit suite: the promise that send_file
# streams a file in chunks and never reads it whole into memory is only kept
# by measuring it. The file is sparse and the transfer is over loopback, so the
# test takes a few seconds; it fails if a change buffers the body (the server
# would then grow by ~200 MB).


def resident_memory() -> int:
    """This process's resident set size in bytes (the server runs in a
    thread of this process)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_a_200_mb_file_is_streamed_without_growing_memory(tmp_path: Path, live_server: Any) -> None:
    size = 200 * 1024 * 1024
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        f.truncate(size)  # sparse: 200 MB of zeros, no disk writes
    app = Flask("big", root_path=str(tmp_path), static_folder=".", static_url_path="/files")

    @app.route("/download")
    def download() -> Response:
        return send_file(big, as_attachment=True)

    with live_server(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        for url in ("/download", "/files/big.bin"):
            # Warm up (worker threads, buffers), then measure a full download.
            assert http.get(url, headers={"Range": "bytes=0-1048575"}).status_code == 206
            gc.collect()
            before = peak = resident_memory()
            received = 0
            started = time.monotonic()
            with http.stream("GET", url) as response:
                assert response.status_code == 200
                assert response.headers["Content-Length"] == str(size)
                for chunk in response.iter_raw(1024 * 1024):
                    received += len(chunk)
                    if received % (16 * 1024 * 1024) < len(chunk):
                        peak = max(peak, resident_memory())
            gc.collect()
            peak = max(peak, resident_memory())
            assert received == size
            assert peak - before < 20 * 1024 * 1024, f"{url}: grew {(peak - before) >> 20} MB"
            assert time.monotonic() - started < 10
