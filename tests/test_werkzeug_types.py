"""Werkzeug's sans-IO types are flaskish's HTTP vocabulary: the same
classes, so code and extensions written against Werkzeug work unchanged
(``raise werkzeug.exceptions.BadRequest()``, ``isinstance(resp.headers,
werkzeug.datastructures.Headers)``, an error handler for
``werkzeug.exceptions.HTTPException``)."""

from __future__ import annotations

import io
from typing import Any

import pytest
import werkzeug.datastructures as wd
import werkzeug.exceptions as we
from kinds import as_kind, both_kinds
from werkzeug.sansio.request import Request as SansIORequest
from werkzeug.sansio.response import Response as SansIOResponse

import flaskish.datastructures
import flaskish.exceptions
from flaskish import Flask, Response, abort, make_response, request
from flaskish.testing import FlaskClient

# -- identity -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(flaskish.exceptions.__all__))
def test_every_exception_name_is_werkzeugs_own(name: str) -> None:
    if name == "abort":
        return  # Flask's abort, which uses the app's aborter
    if name in ("WebSocketDisconnect", "BroadcastUnavailable"):
        return  # flaskish's own: Werkzeug has no websockets and no broadcast
    assert getattr(flaskish.exceptions, name) is getattr(we, name, None) or (
        name == "HTTP_STATUS_CODES"
    )


@pytest.mark.parametrize(
    "name", sorted(set(flaskish.datastructures.__all__) - {"FileStorage", "UserAgent"})
)
def test_every_data_structure_is_werkzeugs_own(name: str) -> None:
    assert getattr(flaskish.datastructures, name) is getattr(wd, name)


def test_request_and_response_are_werkzeugs_sans_io_classes() -> None:
    assert issubclass(flaskish.Request, SansIORequest)
    assert issubclass(Response, SansIOResponse)
    assert issubclass(flaskish.datastructures.FileStorage, wd.FileStorage)


# -- exceptions raised from Werkzeug, in def and async views -----------------------------


@both_kinds
def test_a_werkzeug_exception_raised_in_a_view_is_its_response(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    def view() -> str:
        raise we.BadRequest("no good")

    app.route("/")(as_kind(kind, view))
    response = client.get("/")
    assert response.status_code == 400
    assert "no good" in response.text


@both_kinds
def test_werkzeugs_abort_works_in_a_view(app: Flask, client: FlaskClient, kind: str) -> None:
    """Flask's tutorial app does ``from werkzeug.exceptions import abort``."""

    def view() -> str:
        we.abort(403, "not yours")

    app.route("/")(as_kind(kind, view))
    response = client.get("/")
    assert response.status_code == 403
    assert "not yours" in response.text


@both_kinds
def test_an_error_handler_for_werkzeugs_http_exception_fires(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    @app.errorhandler(we.HTTPException)
    def handle(e: we.HTTPException) -> Any:
        return f"handled {e.code} {e.name}", e.code

    def view() -> str:
        abort(404)

    app.route("/")(as_kind(kind, view))
    response = client.get("/")
    assert (response.status_code, response.text) == (404, "handled 404 Not Found")
    # Routing's own 404 reaches the same handler.
    assert client.get("/nowhere").text == "handled 404 Not Found"


@both_kinds
def test_except_werkzeug_not_found_catches_abort(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    def view() -> str:
        try:
            abort(404)
        except we.NotFound as error:
            return f"caught {error.code}"

    app.route("/")(as_kind(kind, view))
    assert client.get("/").text == "caught 404"


@both_kinds
def test_an_extension_error_built_on_werkzeug_is_a_4xx(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    """As Flask-WTF's ``CSRFError(BadRequest)``: its own description and code."""

    class CSRFError(we.BadRequest):
        description = "The CSRF token is missing."

    def view() -> str:
        raise CSRFError()

    app.route("/", methods=["POST"])(as_kind(kind, view))
    response = client.post("/")
    assert response.status_code == 400
    assert "The CSRF token is missing." in response.text


def test_abort_with_a_response_sends_that_response(app: Flask, client: FlaskClient) -> None:
    @app.route("/")
    def view() -> str:
        abort(make_response("teapot body", 418))

    response = client.get("/")
    assert (response.status_code, response.text) == (418, "teapot body")


def test_error_headers_of_werkzeug_exceptions_reach_the_client(
    app: Flask, client: FlaskClient
) -> None:
    @app.route("/limited")
    def limited() -> str:
        raise we.TooManyRequests(retry_after=30)

    @app.route("/only-get")
    def only_get() -> str:
        raise we.MethodNotAllowed(valid_methods=["GET", "HEAD"])

    assert client.get("/limited").headers["Retry-After"] == "30"
    assert client.get("/only-get").headers["Allow"] == "GET, HEAD"


# -- headers -----------------------------------------------------------------------------


def test_response_headers_are_werkzeug_headers_and_keep_their_case(
    app: Flask, client: FlaskClient
) -> None:
    @app.route("/")
    def view() -> Any:
        response = make_response("hi")
        assert isinstance(response.headers, wd.Headers)
        response.headers["WWW-Authenticate"] = 'Basic realm="x"'
        response.headers.add("X-Multi", "1")
        response.headers.add("X-Multi", "2")
        return response

    response = client.get("/")
    assert "WWW-Authenticate" in response.headers.keys()
    assert response.headers.get_all("X-Multi") == ["1", "2"]
    assert isinstance(response.headers, wd.Headers)


def test_an_extension_may_replace_response_headers_with_a_werkzeug_headers(
    app: Flask, client: FlaskClient
) -> None:
    @app.after_request
    def replace(response: Response) -> Response:
        response.headers = wd.Headers(dict(response.headers) | {"X-Replaced": "yes"})
        return response

    app.route("/")(lambda: "body")
    response = client.get("/")
    assert (response.text, response.headers["X-Replaced"]) == ("body", "yes")


def test_request_headers_are_werkzeug_headers_in_title_case(
    app: Flask, client: FlaskClient
) -> None:
    @app.route("/")
    def view() -> Any:
        assert isinstance(request.headers, wd.Headers)
        return {"names": [name for name, _ in request.headers], "ua": request.headers["user-agent"]}

    body = client.get("/", headers={"x-custom-thing": "1", "User-Agent": "tester"}).json
    assert "X-Custom-Thing" in body["names"]
    assert body["ua"] == "tester"


# -- request attributes ------------------------------------------------------------------


@both_kinds
def test_request_values_are_werkzeug_types(app: Flask, client: FlaskClient, kind: str) -> None:
    seen: dict[str, Any] = {}

    def view() -> str:
        seen.update(
            args=request.args,
            accept=request.accept_mimetypes,
            inm=request.if_none_match,
            range=request.range,
            auth=request.authorization,
            cookies=request.cookies,
        )
        return "ok"

    app.route("/")(as_kind(kind, view))
    client.set_cookie("c", "1")
    client.get(
        "/?a=1&a=2",
        headers={
            "Accept": "application/json",
            "If-None-Match": '"x"',
            "Range": "bytes=0-9",
            "Authorization": "Basic dXNlcjpwYXNz",
        },
    )
    assert isinstance(seen["args"], wd.ImmutableMultiDict)
    assert seen["args"].getlist("a") == ["1", "2"]
    assert isinstance(seen["accept"], wd.MIMEAccept) and seen["accept"].accept_json
    assert isinstance(seen["inm"], wd.ETags) and "x" in seen["inm"]
    assert isinstance(seen["range"], wd.Range) and seen["range"].ranges == [(0, 10)]
    assert isinstance(seen["auth"], wd.Authorization)
    assert (seen["auth"].username, seen["auth"].password) == ("user", "pass")
    assert isinstance(seen["cookies"], wd.ImmutableMultiDict) and seen["cookies"]["c"] == "1"


def test_form_and_files_are_werkzeug_types_in_a_def_view(app: Flask, client: FlaskClient) -> None:
    @app.route("/", methods=["POST"])
    def view() -> Any:
        upload = request.files["doc"]
        assert isinstance(request.form, wd.ImmutableMultiDict)
        assert isinstance(upload, wd.FileStorage)
        data = upload.read().decode()
        return {"name": request.form["name"], "file": upload.filename, "data": data}

    response = client.post("/", data={"name": "ada", "doc": (io.BytesIO(b"contents"), "notes.txt")})
    assert response.json == {"name": "ada", "file": "notes.txt", "data": "contents"}


@pytest.mark.anyio
async def test_form_and_files_are_werkzeug_types_in_an_async_view(
    app: Flask, client: FlaskClient
) -> None:
    @app.route("/", methods=["POST"])
    async def view() -> Any:
        form = await request.form
        files = await request.files
        assert isinstance(form, wd.ImmutableMultiDict)
        assert isinstance(files["doc"], wd.FileStorage)
        return {"name": form["name"], "data": (await files["doc"].read()).decode()}

    response = await client.post(
        "/", data={"name": "ada", "doc": (io.BytesIO(b"contents"), "notes.txt")}
    )
    assert response.json == {"name": "ada", "data": "contents"}


def test_a_missing_form_key_is_werkzeugs_bad_request_key_error(
    app: Flask, client: FlaskClient
) -> None:
    @app.route("/", methods=["POST"])
    def view() -> str:
        try:
            return str(request.form["missing"])
        except we.BadRequestKeyError as error:
            assert isinstance(error, KeyError)
            raise

    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.post("/", data={"other": "1"}).status_code == 400


# -- response attributes -----------------------------------------------------------------


def test_response_cache_control_vary_and_allow_are_werkzeugs(
    app: Flask, client: FlaskClient
) -> None:
    @app.route("/")
    def view() -> Any:
        response = make_response("cached")
        response.cache_control.max_age = 60
        response.cache_control.public = True
        response.vary.add("Accept-Encoding")
        response.allow.update(["GET", "HEAD"])
        assert isinstance(response.cache_control, wd.ResponseCacheControl)
        return response

    headers = client.get("/").headers
    assert sorted(headers["Cache-Control"].split(", ")) == ["max-age=60", "public"]
    assert headers["Vary"] == "Accept-Encoding"
    assert sorted(headers["Allow"].split(", ")) == ["GET", "HEAD"]


def test_max_cookie_size_is_the_apps_config(app: Flask) -> None:
    app.config["MAX_COOKIE_SIZE"] = 100
    with app.app_context():
        response = Response()
        assert response.max_cookie_size == 100
        with pytest.warns(UserWarning, match="cookie"):
            response.set_cookie("big", "x" * 200)
    assert Response().max_cookie_size == 4093


def test_response_close_and_with_call_on_close_functions() -> None:
    closed: list[str] = []
    response = Response(iter([b"a", b"b"]))
    response.call_on_close(lambda: closed.append("closed"))
    with response:
        assert response.get_data() == b"ab"
    assert closed == ["closed"]


def test_response_add_etag_and_make_conditional(app: Flask) -> None:
    response = Response("some body")
    response.add_etag()
    etag, _ = response.get_etag()
    assert etag
    with app.test_request_context("/", headers={"If-None-Match": f'"{etag}"'}):
        assert response.make_conditional(request).status_code == 304
    ranged = Response("0123456789")
    with app.test_request_context("/", headers={"Range": "bytes=2-4"}):
        ranged.make_conditional(request, accept_ranges=True)
    assert (ranged.status_code, ranged.get_data()) == (206, b"234")
    assert ranged.headers["Content-Range"] == "bytes 2-4/10"
