"""``flaskish.exceptions``: every HTTP error class with its code, name and
error page as ``werkzeug.exceptions`` has them, the classes with extra
headers, ``BadRequestKeyError``, ``abort`` and ``default_exceptions``, and
each error raised from a view reaching the client with its status."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
import werkzeug.exceptions
from kinds import as_kind, both_kinds
from markupsafe import escape
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.sansio.response import Response as SansIOResponse

import flaskish.exceptions as exceptions
from flaskish import Flask, Response, abort
from flaskish.exceptions import (
    Aborter,
    BadRequest,
    BadRequestKeyError,
    ClientDisconnected,
    HTTPException,
    InternalServerError,
    MethodNotAllowed,
    NotFound,
    RequestedRangeNotSatisfiable,
    SecurityError,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    default_exceptions,
)
from flaskish.testing import FlaskClient

F = TypeVar("F", bound=Callable[..., Any])

#: Each error class of ``__all__`` with a code: (class name, code, name as
#: Werkzeug's ``HTTP_STATUS_CODES`` spells it).
EXPECTED: list[tuple[str, int, str]] = [
    ("BadRequest", 400, "Bad Request"),
    ("BadHost", 400, "Bad Request"),
    ("BadRequestKeyError", 400, "Bad Request"),
    ("ClientDisconnected", 400, "Bad Request"),
    ("SecurityError", 400, "Bad Request"),
    ("Unauthorized", 401, "Unauthorized"),
    ("Forbidden", 403, "Forbidden"),
    ("NotFound", 404, "Not Found"),
    ("MethodNotAllowed", 405, "Method Not Allowed"),
    ("NotAcceptable", 406, "Not Acceptable"),
    ("RequestTimeout", 408, "Request Timeout"),
    ("Conflict", 409, "Conflict"),
    ("Gone", 410, "Gone"),
    ("LengthRequired", 411, "Length Required"),
    ("PreconditionFailed", 412, "Precondition Failed"),
    ("RequestEntityTooLarge", 413, "Request Entity Too Large"),
    ("RequestURITooLarge", 414, "Request URI Too Long"),
    ("UnsupportedMediaType", 415, "Unsupported Media Type"),
    ("RequestedRangeNotSatisfiable", 416, "Requested Range Not Satisfiable"),
    ("ExpectationFailed", 417, "Expectation Failed"),
    ("ImATeapot", 418, "I'm a teapot"),
    ("MisdirectedRequest", 421, "Misdirected Request"),
    ("UnprocessableEntity", 422, "Unprocessable Entity"),
    ("Locked", 423, "Locked"),
    ("FailedDependency", 424, "Failed Dependency"),
    ("PreconditionRequired", 428, "Precondition Required"),
    ("TooManyRequests", 429, "Too Many Requests"),
    ("RequestHeaderFieldsTooLarge", 431, "Request Header Fields Too Large"),
    ("UnavailableForLegalReasons", 451, "Unavailable For Legal Reasons"),
    ("InternalServerError", 500, "Internal Server Error"),
    ("NotImplemented", 501, "Not Implemented"),
    ("BadGateway", 502, "Bad Gateway"),
    ("ServiceUnavailable", 503, "Service Unavailable"),
    ("GatewayTimeout", 504, "Gateway Timeout"),
    ("HTTPVersionNotSupported", 505, "HTTP Version Not Supported"),
]

CLASS_NAMES = [class_name for class_name, _, _ in EXPECTED]
ERRORS: list[type[HTTPException]] = [getattr(exceptions, name) for name in CLASS_NAMES]


def name_param(class_name: str, code: int, name: str) -> Any:
    """One parameter per error class (the names are Werkzeug's on every
    Python version, not http.HTTPStatus's)."""
    return pytest.param(class_name, code, name, id=class_name)


# -- the table ------------------------------------------------------------------------


def test_every_error_class_of_all_is_in_the_table() -> None:
    with_code = {
        name
        for name in exceptions.__all__
        if isinstance(getattr(exceptions, name), type)
        and issubclass(getattr(exceptions, name), HTTPException)
        and getattr(exceptions, name).code is not None
    }
    assert with_code == set(CLASS_NAMES)


@pytest.mark.parametrize(("class_name", "code"), [(c, n) for c, n, _ in EXPECTED], ids=CLASS_NAMES)
def test_the_code_of_each_error(class_name: str, code: int) -> None:
    cls = getattr(exceptions, class_name)
    assert cls.code == code
    assert cls().code == code
    assert issubclass(cls, HTTPException)
    assert issubclass(cls, Exception)


@pytest.mark.parametrize(("class_name", "code", "name"), [name_param(*row) for row in EXPECTED])
def test_the_name_of_each_error_is_its_reason_phrase(class_name: str, code: int, name: str) -> None:
    assert getattr(exceptions, class_name)().name == name


def test_the_http_errors_are_werkzeugs_own_classes() -> None:
    """So ``except werkzeug.exceptions.NotFound`` in an extension catches
    flaskish's, and the reverse."""
    for cls in ERRORS:
        assert cls is getattr(werkzeug.exceptions, cls.__name__)
        assert cls.__module__ == "werkzeug.exceptions"
        assert cls.__doc__
    assert exceptions.HTTPException is werkzeug.exceptions.HTTPException
    assert exceptions.default_exceptions is werkzeug.exceptions.default_exceptions


# -- the error page -------------------------------------------------------------------


@pytest.mark.parametrize("cls", ERRORS, ids=CLASS_NAMES)
def test_get_response_is_an_html_page_with_the_description(cls: type[HTTPException]) -> None:
    error = cls()
    # As in Flask: Werkzeug's own response class, not the app's (flaskish
    # converts it with ``Response.force_type`` where it needs one).
    response = error.get_response()
    assert isinstance(response, SansIOResponse) and not isinstance(response, Response)
    assert Response.force_type(response).get_data() == response.get_data()
    assert response.status_code == error.code
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    body = response.get_data(as_text=True)
    assert body.startswith("<!doctype html>\n")
    assert f"<title>{error.code} {escape(error.name)}</title>" in body
    assert f"<h1>{escape(error.name)}</h1>" in body
    assert error.description
    assert f"<p>{escape(error.description)}</p>" in body


def test_the_description_is_html_escaped() -> None:
    body = NotFound("<script>alert('x')</script>").get_response().get_data(as_text=True)
    assert "<script>" not in body
    assert "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</p>" in body


def test_newlines_in_the_description_become_br_tags() -> None:
    error = NotFound("<b>first</b>\nsecond line")
    assert error.get_description() == "<p>&lt;b&gt;first&lt;/b&gt;<br>second line</p>"
    key_error = BadRequestKeyError("username")
    key_error.show_exception = True
    body = key_error.get_response().get_data(as_text=True)
    assert "understand.<br>KeyError: &#39;username&#39;</p>" in body


def test_a_default_description_with_markup_is_escaped_too() -> None:
    body = exceptions.LengthRequired().get_response().get_data(as_text=True)
    assert "&lt;code&gt;Content-Length&lt;/code&gt;" in body


def test_a_custom_description_replaces_the_default() -> None:
    error = exceptions.Forbidden("Members only.")
    assert error.description == "Members only."
    assert "<p>Members only.</p>" in error.get_response().get_data(as_text=True)
    assert exceptions.Forbidden().description != "Members only."


def test_an_error_with_a_response_returns_that_response() -> None:
    ready = Response("ready", 409)
    assert exceptions.Conflict(response=ready).get_response() is ready


@pytest.mark.parametrize("cls", ERRORS, ids=CLASS_NAMES)
def test_str_and_repr(cls: type[HTTPException]) -> None:
    error = cls()
    assert str(error) == f"{error.code} {error.name}: {error.description}"
    assert repr(error) == f"<{cls.__name__} '{error.code}: {error.name}'>"


def test_str_and_repr_with_a_custom_description() -> None:
    error = NotFound("No user 7.")
    assert str(error) == "404 Not Found: No user 7."
    assert repr(error) == "<NotFound '404: Not Found'>"


def test_an_http_exception_without_a_code() -> None:
    error = HTTPException("no code")
    assert error.code is None
    assert str(error) == "??? Unknown Error: no code"
    assert repr(error) == "<HTTPException '???: Unknown Error'>"


# -- errors with headers ----------------------------------------------------------------


def test_method_not_allowed_sets_allow() -> None:
    response = MethodNotAllowed(valid_methods=["GET", "POST"]).get_response()
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"


def test_method_not_allowed_without_valid_methods_has_no_allow() -> None:
    assert "Allow" not in MethodNotAllowed().get_response().headers


def test_method_not_allowed_takes_a_description() -> None:
    error = MethodNotAllowed(["GET"], "Read only.")
    assert error.valid_methods == ["GET"]
    assert "<p>Read only.</p>" in error.get_response().get_data(as_text=True)


def test_unauthorized_with_www_authenticate() -> None:
    """Werkzeug's ``www_authenticate`` is a ``WWWAuthenticate`` (or a list
    of them), not a string."""
    challenge = WWWAuthenticate("basic", {"realm": "Log in"})
    response = Unauthorized(www_authenticate=challenge).get_response()
    assert response.status_code == 401
    assert response.headers.getlist("WWW-Authenticate") == ['Basic realm="Log in"']


def test_unauthorized_with_several_challenges_sends_several_headers() -> None:
    error = Unauthorized(www_authenticate=['Basic realm="a"', 'Bearer realm="b"'])
    assert error.get_response().headers.getlist("WWW-Authenticate") == [
        'Basic realm="a"',
        'Bearer realm="b"',
    ]


def test_unauthorized_without_www_authenticate_has_no_challenge() -> None:
    assert "WWW-Authenticate" not in Unauthorized().get_response().headers


def test_too_many_requests_with_retry_after_seconds() -> None:
    response = TooManyRequests(retry_after=120).get_response()
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "120"
    assert "Retry-After" not in TooManyRequests().get_response().headers


def test_too_many_requests_with_retry_after_a_date() -> None:
    response = TooManyRequests(retry_after=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC))  # type: ignore[arg-type]
    assert response.get_response().headers["Retry-After"] == "Wed, 02 Jan 2030 03:04:05 GMT"


def test_service_unavailable_with_retry_after() -> None:
    response = ServiceUnavailable(retry_after=60).get_response()  # type: ignore[call-arg]
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"


def test_requested_range_not_satisfiable_with_length() -> None:
    response = RequestedRangeNotSatisfiable(length=1000).get_response()
    assert response.status_code == 416
    assert response.headers["Content-Range"] == "bytes */1000"
    assert "Content-Range" not in RequestedRangeNotSatisfiable().get_response().headers


def test_requested_range_not_satisfiable_with_other_units() -> None:
    error = RequestedRangeNotSatisfiable(length=5, units="items")
    assert error.get_response().headers["Content-Range"] == "items */5"


# -- BadRequestKeyError -----------------------------------------------------------------


def test_bad_request_key_error_is_a_key_error_and_a_400() -> None:
    error = BadRequestKeyError("username")
    assert isinstance(error, KeyError)
    assert isinstance(error, BadRequest)
    assert error.code == 400
    assert error.args == ("username",)
    assert error.get_response().status_code == 400
    with pytest.raises(KeyError):
        raise error


def test_bad_request_key_error_hides_the_key_by_default() -> None:
    error = BadRequestKeyError("username")
    assert error.show_exception is False
    assert error.description == BadRequest.description
    assert "username" not in error.get_response().get_data(as_text=True)
    assert "username" not in str(error)


def test_bad_request_key_error_shows_the_key_with_show_exception() -> None:
    error = BadRequestKeyError("username")
    error.show_exception = True
    assert error.description == f"{BadRequest.description}\nKeyError: 'username'"
    body = error.get_response().get_data(as_text=True)
    assert "KeyError: &#39;username&#39;</p>" in body


def test_bad_request_key_error_without_a_key_shows_an_empty_key_error() -> None:
    error = BadRequestKeyError()
    assert error.description == BadRequest.description
    error.show_exception = True
    assert error.args == ()
    assert error.description == f"{BadRequest.description}\nKeyError: "  # as in Werkzeug


def test_bad_request_key_error_with_a_custom_description() -> None:
    error = BadRequestKeyError("page", "Give a page number.")
    assert error.description == "Give a page number."
    error.show_exception = True
    assert error.description == "Give a page number.\nKeyError: 'page'"


def test_subclasses_of_bad_request_are_400s() -> None:
    for cls in (ClientDisconnected, SecurityError, BadRequestKeyError):
        assert issubclass(cls, BadRequest)
        assert cls.code == 400


# -- abort and default_exceptions ----------------------------------------------------------


@pytest.mark.parametrize("code", sorted(default_exceptions))
def test_abort_raises_the_error_for_each_code(code: int) -> None:
    with pytest.raises(HTTPException) as info:
        abort(code)
    assert type(info.value) is default_exceptions[code]
    assert info.value.code == code


def test_abort_passes_the_description_and_keywords() -> None:
    with pytest.raises(NotFound) as info:
        abort(404, "No such user.")
    assert info.value.description == "No such user."
    with pytest.raises(MethodNotAllowed) as allowed:
        abort(405, valid_methods=["GET"])
    assert allowed.value.get_response().headers["Allow"] == "GET"


def test_abort_with_a_response_raises_an_http_exception_carrying_it() -> None:
    ready = Response("teapot", 418)
    with pytest.raises(HTTPException) as info:
        abort(ready)
    assert info.value.get_response() is ready


@pytest.mark.parametrize("code", [200, 302, 399, 402, 499, 600, 999])
def test_abort_with_a_code_without_an_error_raises_lookup_error(code: int) -> None:
    with pytest.raises(LookupError):
        abort(code)


def test_abort_in_an_app_context_uses_the_app_aborter(app: Flask) -> None:
    class PaymentRequired(HTTPException):
        code = 402
        description = "Pay first."

    app.aborter.mapping[402] = PaymentRequired
    with app.app_context(), pytest.raises(PaymentRequired):
        abort(402)
    with pytest.raises(LookupError):
        abort(402)


def test_an_aborter_with_its_own_mapping() -> None:
    aborter = Aborter({404: NotFound})
    with pytest.raises(NotFound):
        aborter(404)
    with pytest.raises(LookupError):
        aborter(403)


def test_default_exceptions_maps_each_code_to_its_class() -> None:
    expected_codes = {code for _, code, _ in EXPECTED}
    assert set(default_exceptions) == expected_codes
    for cls in ERRORS:
        if issubclass(cls, BadRequest):
            assert default_exceptions[400] is BadRequest
        else:
            assert default_exceptions[cls.code] is cls  # type: ignore[index]
    assert default_exceptions[404] is NotFound
    assert default_exceptions[500] is InternalServerError


# -- through the client -------------------------------------------------------------------


@both_kinds
@pytest.mark.parametrize("cls", ERRORS, ids=CLASS_NAMES)
def test_raising_each_error_in_a_view_sends_its_status(
    app: Flask, client: FlaskClient, kind: str, cls: type[HTTPException]
) -> None:
    def index() -> str:
        raise cls()

    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert response.status_code == cls.code
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    body = response.get_data(as_text=True)
    assert f"<p>{escape(cls().description or '')}</p>" in body


@both_kinds
def test_headers_of_an_error_reach_the_client(app: Flask, client: FlaskClient, kind: str) -> None:
    def limited() -> str:
        raise TooManyRequests(retry_after=30)

    def login() -> str:
        raise Unauthorized(www_authenticate=WWWAuthenticate("basic", {"realm": "my app"}))

    def ranged() -> str:
        raise RequestedRangeNotSatisfiable(length=10)

    for func in (limited, login, ranged):
        app.route(f"/{func.__name__}")(as_kind(kind, func))
    assert client.get("/limited").headers["Retry-After"] == "30"
    assert client.get("/login").headers["WWW-Authenticate"] == 'Basic realm="my app"'
    assert client.get("/ranged").headers["Content-Range"] == "bytes */10"


def test_a_method_not_allowed_from_routing_sends_allow(app: Flask, client: FlaskClient) -> None:
    @app.route("/", methods=["GET", "POST"])
    def index() -> str:
        return "ok"

    response = client.delete("/")
    assert response.status_code == 405
    allowed = {method.strip() for method in response.headers["Allow"].split(",")}
    assert allowed == {"GET", "HEAD", "OPTIONS", "POST"}
