"""The request pipeline as a Flask user sees it through the test client: what
a view may return, the order and arguments of the hooks, error handlers,
unhandled exceptions, the context globals, signals and the serving
lifespan. Each view, hook, handler and receiver kind runs both as ``def``
and as ``async def``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

import pytest
from kinds import as_kind, both_kinds
from starlette.responses import PlainTextResponse

from flaskish import (
    Flask,
    Response,
    abort,
    after_this_request,
    appcontext_tearing_down,
    current_app,
    g,
    got_request_exception,
    jsonify,
    make_response,
    redirect,
    request,
    request_finished,
    request_started,
    request_tearing_down,
    stream_with_context,
    url_for,
)
from flaskish.exceptions import (
    BadRequest,
    Forbidden,
    HTTPException,
    InternalServerError,
    NotFound,
)
from flaskish.testing import FlaskClient

F = TypeVar("F", bound=Callable[..., Any])


def no_propagation(app: Flask) -> None:
    """Unhandled exceptions become 500 pages instead of reaching the test."""
    app.config["PROPAGATE_EXCEPTIONS"] = False


# -- view return values ---------------------------------------------------------


@both_kinds
def test_a_str_is_an_html_page_in_utf8(app: Flask, client: FlaskClient, kind: str) -> None:
    def index() -> str:
        return "héllo"

    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.data == "héllo".encode()
    assert response.headers["Content-Length"] == str(len("héllo".encode()))


@both_kinds
def test_bytes_are_the_body_as_is(app: Flask, client: FlaskClient, kind: str) -> None:
    def index() -> bytes:
        return b"\x00\xffraw"

    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert response.status_code == 200
    assert response.data == b"\x00\xffraw"


@both_kinds
def test_a_dict_becomes_json(app: Flask, client: FlaskClient, kind: str) -> None:
    def index() -> dict[str, Any]:
        return {"name": "ada", "langs": ["en", "fr"]}

    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.is_json
    assert response.get_json() == {"name": "ada", "langs": ["en", "fr"]}


@both_kinds
def test_a_list_becomes_json(app: Flask, client: FlaskClient, kind: str) -> None:
    def index() -> list[Any]:
        return [1, "two", {"three": 3}]

    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert response.mimetype == "application/json"
    assert response.json == [1, "two", {"three": 3}]


@both_kinds
def test_a_response_object_is_sent_as_it_is(app: Flask, client: FlaskClient, kind: str) -> None:
    def index() -> Response:
        return Response("made", status=202, headers={"X-Made": "yes"}, mimetype="text/plain")

    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert response.status_code == 202
    assert response.headers["X-Made"] == "yes"
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.data == b"made"


@both_kinds
def test_a_body_and_status_tuple_sets_the_status(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    def index() -> tuple[str, int]:
        return "created", 201

    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert response.status_code == 201
    assert response.data == b"created"


@both_kinds
@pytest.mark.parametrize(
    "headers",
    [{"X-One": "1", "X-Two": "2"}, [("X-One", "1"), ("X-Two", "2")]],
    ids=["dict", "list-of-tuples"],
)
def test_a_body_and_headers_tuple_adds_the_headers(
    app: Flask, client: FlaskClient, kind: str, headers: Any
) -> None:
    def index() -> tuple[str, Any]:
        return "with headers", headers

    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["X-One"] == "1"
    assert response.headers["X-Two"] == "2"
    assert response.data == b"with headers"


@both_kinds
def test_a_body_status_and_headers_tuple(app: Flask, client: FlaskClient, kind: str) -> None:
    def index() -> tuple[str, int, dict[str, str]]:
        return "teapot", 418, {"X-Kind": "teapot"}

    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert response.status_code == 418
    assert response.headers["X-Kind"] == "teapot"
    assert response.data == b"teapot"


@both_kinds
def test_the_status_may_be_a_status_line_string(app: Flask, client: FlaskClient, kind: str) -> None:
    def index() -> tuple[str, str]:
        return "created", "201 CREATED"

    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert response.status_code == 201
    assert response.status == "201 CREATED"


@both_kinds
def test_a_dict_with_a_status_is_json_with_that_status(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    def index() -> tuple[dict[str, str], int, dict[str, str]]:
        return {"error": "gone"}, 410, {"X-Why": "deleted"}

    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert response.status_code == 410
    assert response.headers["X-Why"] == "deleted"
    assert response.get_json() == {"error": "gone"}


@both_kinds
def test_a_tuple_status_and_headers_override_those_of_a_returned_response(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    def index() -> tuple[Response, int, dict[str, str]]:
        return Response("body", 200, {"X-A": "old", "X-B": "kept"}), 202, {"X-A": "new"}

    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert response.status_code == 202
    assert response.headers.getlist("X-A") == ["new"]
    assert response.headers["X-B"] == "kept"


@both_kinds
def test_a_sync_generator_is_streamed(app: Flask, client: FlaskClient, kind: str) -> None:
    def index() -> Iterator[str | bytes]:
        def generate() -> Iterator[str | bytes]:
            yield "one,"
            yield b"two,"
            yield "three"

        return generate()

    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert response.status_code == 200
    assert response.data == b"one,two,three"
    assert response.mimetype == "text/html"


@both_kinds
def test_an_async_generator_is_streamed(app: Flask, client: FlaskClient, kind: str) -> None:
    def index() -> AsyncIterator[str | bytes]:
        async def generate() -> AsyncIterator[str | bytes]:
            for chunk in ("one,", b"two,", "three"):
                yield chunk

        return generate()

    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert response.status_code == 200
    assert response.data == b"one,two,three"


@both_kinds
def test_a_streamed_body_with_a_status_tuple(app: Flask, client: FlaskClient, kind: str) -> None:
    def index() -> tuple[Iterator[str], int, dict[str, str]]:
        return iter(["a", "b"]), 206, {"X-Streamed": "1"}

    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert response.status_code == 206
    assert response.headers["X-Streamed"] == "1"
    assert response.data == b"ab"


@both_kinds
def test_a_generator_with_stream_with_context_sees_the_request(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    def index() -> Iterator[str]:
        @stream_with_context
        def generate() -> Iterator[str]:
            yield "hello "
            yield request.args["name"]

        return generate()

    app.route("/")(as_kind(kind, index))
    assert client.get("/?name=ada").data == b"hello ada"


@both_kinds
def test_returning_none_raises_a_type_error_naming_the_endpoint(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    def forgot_to_return() -> None:
        pass

    app.route("/")(as_kind(kind, forgot_to_return))
    with pytest.raises(TypeError, match="'forgot_to_return' did not return a valid response"):
        client.get("/")


@both_kinds
def test_returning_a_four_tuple_raises_a_type_error(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    def index() -> tuple[str, int, dict[str, str], str]:
        return "body", 200, {}, "extra"

    app.route("/")(as_kind(kind, index))
    with pytest.raises(TypeError, match="tuple"):
        client.get("/")


@both_kinds
def test_returning_an_unsupported_type_raises_a_type_error(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    def index() -> int:
        return 42

    app.route("/")(as_kind(kind, index))
    with pytest.raises(TypeError, match="int"):
        client.get("/")


@both_kinds
def test_a_bad_return_value_is_a_500_page_when_exceptions_do_not_propagate(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    no_propagation(app)

    def index() -> None:
        return None

    app.route("/")(as_kind(kind, index))
    assert client.get("/").status_code == 500


@both_kinds
def test_a_starlette_response_is_sent(app: Flask, client: FlaskClient, kind: str) -> None:
    def index() -> PlainTextResponse:
        return PlainTextResponse("from starlette", headers={"X-Origin": "starlette"})

    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert response.status_code == 200
    assert response.data == b"from starlette"
    assert response.headers["X-Origin"] == "starlette"
    assert response.mimetype == "text/plain"


@both_kinds
def test_a_starlette_response_with_a_status(app: Flask, client: FlaskClient, kind: str) -> None:
    def index() -> tuple[PlainTextResponse, int]:
        return PlainTextResponse("accepted"), 202

    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert response.status_code == 202
    assert response.data == b"accepted"


# -- hooks ------------------------------------------------------------------------


@both_kinds
def test_a_value_returned_by_before_request_ends_the_request(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    """The view is not called; ``after_request`` still runs on the response."""
    calls: list[str] = []

    def stop() -> tuple[str, int]:
        calls.append("before")
        return "stopped early", 403

    def index() -> str:
        calls.append("view")
        return "view"

    def after(response: Response) -> Response:
        calls.append("after")
        response.headers["X-After"] = "ran"
        return response

    app.before_request(as_kind(kind, stop))
    app.after_request(as_kind(kind, after))
    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert response.status_code == 403
    assert response.data == b"stopped early"
    assert response.headers["X-After"] == "ran"
    assert calls == ["before", "after"]


@both_kinds
def test_before_request_functions_run_in_registration_order(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    calls: list[str] = []

    def first() -> None:
        calls.append("first")

    def second() -> None:
        calls.append("second")

    def index() -> str:
        calls.append("view")
        return "ok"

    app.before_request(as_kind(kind, first))
    app.before_request(as_kind(kind, second))
    app.route("/")(as_kind(kind, index))
    client.get("/")
    assert calls == ["first", "second", "view"]


@both_kinds
def test_after_request_functions_run_in_reverse_order_and_can_replace_the_response(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    calls: list[str] = []

    def registered_first(response: Response) -> Response:
        calls.append("registered_first")
        replacement = Response("replaced", status=201)
        replacement.headers["X-Seen"] = response.headers.get("X-Seen", "")
        return replacement

    def registered_second(response: Response) -> Response:
        calls.append("registered_second")
        response.headers["X-Seen"] = response.get_data(as_text=True)
        return response

    def index() -> str:
        return "original"

    app.after_request(as_kind(kind, registered_first))
    app.after_request(as_kind(kind, registered_second))
    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert calls == ["registered_second", "registered_first"]
    assert response.status_code == 201
    assert response.data == b"replaced"
    assert response.headers["X-Seen"] == "original"


@both_kinds
def test_teardown_functions_receive_none_after_a_successful_request(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    seen: list[tuple[str, BaseException | None]] = []

    def teardown_request(exc: BaseException | None) -> None:
        seen.append(("request", exc))

    def teardown_appcontext(exc: BaseException | None) -> None:
        seen.append(("appcontext", exc))

    def index() -> str:
        return "ok"

    app.teardown_request(as_kind(kind, teardown_request))
    app.teardown_appcontext(as_kind(kind, teardown_appcontext))
    app.route("/")(as_kind(kind, index))
    assert client.get("/").status_code == 200
    assert seen == [("request", None), ("appcontext", None)]


@both_kinds
def test_teardown_functions_receive_the_exception_that_became_a_500(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    no_propagation(app)
    seen: list[tuple[str, BaseException | None]] = []
    error = ValueError("view failed")

    def teardown_request(exc: BaseException | None) -> None:
        seen.append(("request", exc))

    def teardown_appcontext(exc: BaseException | None) -> None:
        seen.append(("appcontext", exc))

    def index() -> str:
        raise error

    app.teardown_request(as_kind(kind, teardown_request))
    app.teardown_appcontext(as_kind(kind, teardown_appcontext))
    app.route("/")(as_kind(kind, index))
    assert client.get("/").status_code == 500
    assert seen == [("request", error), ("appcontext", error)]


@both_kinds
def test_teardown_functions_receive_none_when_an_error_handler_handled_the_exception(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    seen: list[BaseException | None] = []

    def handle(e: ValueError) -> tuple[str, int]:
        return "handled", 409

    def teardown_request(exc: BaseException | None) -> None:
        seen.append(exc)

    def index() -> str:
        raise ValueError("handled below")

    app.register_error_handler(ValueError, as_kind(kind, handle))
    app.teardown_request(as_kind(kind, teardown_request))
    app.route("/")(as_kind(kind, index))
    assert client.get("/").status_code == 409
    assert seen == [None]


@both_kinds
def test_teardown_functions_run_in_reverse_order(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    calls: list[str] = []

    def first(exc: BaseException | None) -> None:
        calls.append("first")

    def second(exc: BaseException | None) -> None:
        calls.append("second")

    app.teardown_request(as_kind(kind, first))
    app.teardown_request(as_kind(kind, second))
    app.route("/")(as_kind(kind, lambda: "ok"))
    client.get("/")
    assert calls == ["second", "first"]


@both_kinds
def test_teardown_runs_when_the_exception_propagates_to_the_test(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    seen: list[BaseException | None] = []
    error = RuntimeError("propagates")

    def teardown_request(exc: BaseException | None) -> None:
        seen.append(exc)

    def index() -> str:
        raise error

    app.teardown_request(as_kind(kind, teardown_request))
    app.route("/")(as_kind(kind, index))
    with pytest.raises(RuntimeError, match="propagates"):
        client.get("/")
    assert seen == [error]


@pytest.mark.parametrize("view_kind", ["def", "async def"])
def test_after_this_request_runs_before_after_request(
    app: Flask, client: FlaskClient, view_kind: str
) -> None:
    calls: list[str] = []

    def index() -> str:
        @after_this_request
        def sync_callback(response: Response) -> Response:
            calls.append("after_this_request def")
            response.headers["X-Sync"] = "1"
            return response

        @after_this_request
        async def async_callback(response: Response) -> Response:
            calls.append("after_this_request async def")
            response.headers["X-Async"] = "1"
            return response

        calls.append("view")
        return "ok"

    def after(response: Response) -> Response:
        calls.append("after_request")
        return response

    app.after_request(after)
    app.route("/")(as_kind(view_kind, index))
    response = client.get("/")
    assert calls == [
        "view",
        "after_this_request def",
        "after_this_request async def",
        "after_request",
    ]
    assert response.headers["X-Sync"] == "1"
    assert response.headers["X-Async"] == "1"


@both_kinds
def test_after_this_request_from_before_request(app: Flask, client: FlaskClient, kind: str) -> None:
    def before() -> None:
        def add_header(response: Response) -> Response:
            response.headers["X-From-Before"] = "yes"
            return response

        after_this_request(as_kind(kind, add_header))

    app.before_request(as_kind(kind, before))
    app.route("/")(as_kind(kind, lambda: "ok"))
    assert client.get("/").headers["X-From-Before"] == "yes"


@both_kinds
def test_a_url_value_preprocessor_can_pop_a_view_argument_into_g(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    def pull_lang(endpoint: str | None, values: dict[str, Any] | None) -> None:
        assert endpoint == "page"
        assert values is not None
        g.lang = values.pop("lang")

    def page(name: str) -> str:
        return f"{g.lang}:{name}"

    app.url_value_preprocessor(as_kind(kind, pull_lang))
    app.route("/<lang>/<name>")(as_kind(kind, page))
    response = client.get("/fr/accueil")
    assert response.status_code == 200
    assert response.data == b"fr:accueil"


@both_kinds
def test_url_value_preprocessors_see_no_endpoint_and_no_values_for_a_404(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    seen: list[tuple[Any, Any]] = []

    def preprocess(endpoint: str | None, values: dict[str, Any] | None) -> None:
        seen.append((endpoint, values))

    app.url_value_preprocessor(as_kind(kind, preprocess))
    assert client.get("/missing").status_code == 404
    assert seen == [(None, None)]


@both_kinds
def test_before_request_runs_for_a_404_and_the_404_handler_answers(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    """As in Flask, routing errors are raised after ``before_request``."""
    calls: list[str] = []

    def before() -> None:
        calls.append(f"before {request.path}")

    def not_found(e: NotFound) -> tuple[str, int]:
        calls.append("handler")
        return f"no page at {request.path}", 404

    app.before_request(as_kind(kind, before))
    app.register_error_handler(404, as_kind(kind, not_found))
    app.route("/")(as_kind(kind, lambda: "index"))
    response = client.get("/missing")
    assert response.status_code == 404
    assert response.data == b"no page at /missing"
    assert calls == ["before /missing", "handler"]


@both_kinds
def test_a_405_goes_through_before_request_and_its_error_handler(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    calls: list[str] = []

    def before() -> None:
        calls.append("before")

    def not_allowed(e: HTTPException) -> tuple[str, int]:
        calls.append(f"handler {e.code}")
        return "method not allowed here", 405

    app.before_request(as_kind(kind, before))
    app.register_error_handler(405, as_kind(kind, not_allowed))
    app.route("/", methods=["GET"])(as_kind(kind, lambda: "index"))
    response = client.post("/")
    assert response.status_code == 405
    assert response.data == b"method not allowed here"
    assert calls == ["before", "handler 405"]


# -- error handlers ---------------------------------------------------------------


@both_kinds
def test_an_error_handler_for_a_code_handles_abort(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    received: list[HTTPException] = []

    def handler(e: HTTPException) -> tuple[str, int]:
        received.append(e)
        return f"custom {e.code}", 404

    def index() -> str:
        abort(404)

    app.register_error_handler(404, as_kind(kind, handler))
    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert response.status_code == 404
    assert response.data == b"custom 404"
    assert len(received) == 1
    assert isinstance(received[0], NotFound)


@both_kinds
def test_the_500_handler_receives_an_internal_server_error_with_the_original_exception(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    no_propagation(app)
    received: list[Any] = []
    error = ZeroDivisionError("division by zero")

    def handler(e: InternalServerError) -> tuple[str, int]:
        received.append(e)
        return "sorry", 500

    def index() -> str:
        raise error

    app.register_error_handler(500, as_kind(kind, handler))
    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert response.status_code == 500
    assert response.data == b"sorry"
    assert len(received) == 1
    assert isinstance(received[0], InternalServerError)
    assert received[0].original_exception is error


@both_kinds
def test_a_handler_registered_for_the_internal_server_error_class(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    no_propagation(app)
    received: list[Any] = []

    def handler(e: InternalServerError) -> tuple[str, int]:
        received.append(e)
        return f"handled {type(e.original_exception).__name__}", 500

    def index() -> str:
        raise KeyError("boom")

    app.register_error_handler(InternalServerError, as_kind(kind, handler))
    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert response.status_code == 500
    assert response.data == b"handled KeyError"
    assert isinstance(received[0], InternalServerError)


@both_kinds
def test_abort_500_goes_to_the_500_handler_without_an_original_exception(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    received: list[Any] = []

    def handler(e: InternalServerError) -> tuple[str, int]:
        received.append(e)
        return "aborted", 500

    def index() -> str:
        abort(500)

    app.register_error_handler(500, as_kind(kind, handler))
    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert response.status_code == 500
    assert response.data == b"aborted"
    assert received[0].original_exception is None


class AppError(Exception):
    """A base exception class of an app."""


class PaymentError(AppError):
    """A subclass: handled by the handler for :class:`AppError`."""


class CardDeclined(PaymentError):
    """A sub-subclass: handled by the nearest registered base."""


@both_kinds
def test_an_error_handler_for_a_base_class_catches_subclasses(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    def handle_app_error(e: AppError) -> tuple[str, int]:
        return f"app error: {type(e).__name__}", 400

    def handle_payment_error(e: PaymentError) -> tuple[str, int]:
        return f"payment error: {type(e).__name__}", 402

    def raise_app_error() -> str:
        raise AppError()

    def raise_card_declined() -> str:
        raise CardDeclined()

    app.register_error_handler(AppError, as_kind(kind, handle_app_error))
    app.register_error_handler(PaymentError, as_kind(kind, handle_payment_error))
    app.route("/app")(as_kind(kind, raise_app_error))
    app.route("/card")(as_kind(kind, raise_card_declined))
    response = client.get("/app")
    assert (response.status_code, response.data) == (400, b"app error: AppError")
    response = client.get("/card")
    assert (response.status_code, response.data) == (402, b"payment error: CardDeclined")


@both_kinds
def test_an_http_exception_handler_catches_every_http_error(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    def handle(e: HTTPException) -> tuple[dict[str, Any], int]:
        return {"code": e.code, "name": e.name}, e.code or 500

    def forbidden() -> str:
        raise Forbidden()

    def bad() -> str:
        abort(400)

    app.register_error_handler(HTTPException, as_kind(kind, handle))
    app.route("/forbidden")(as_kind(kind, forbidden))
    app.route("/bad")(as_kind(kind, bad))
    assert client.get("/forbidden").get_json() == {"code": 403, "name": "Forbidden"}
    assert client.get("/bad").get_json() == {"code": 400, "name": "Bad Request"}
    missing = client.get("/missing")
    assert missing.status_code == 404
    assert missing.get_json() == {"code": 404, "name": "Not Found"}


@both_kinds
def test_a_handler_for_a_code_wins_over_a_handler_for_a_class(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    def by_code(e: HTTPException) -> tuple[str, int]:
        return "by code", 404

    def by_class(e: HTTPException) -> tuple[str, int]:
        return f"by class {e.code}", e.code or 500

    app.register_error_handler(HTTPException, as_kind(kind, by_class))
    app.register_error_handler(404, as_kind(kind, by_code))
    app.route("/forbidden")(as_kind(kind, lambda: abort(403)))
    assert client.get("/missing").data == b"by code"
    assert client.get("/forbidden").data == b"by class 403"


@both_kinds
def test_an_error_raised_in_before_request_goes_to_its_handler(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    def before() -> None:
        raise PaymentError()

    def handle(e: PaymentError) -> tuple[str, int]:
        return "handled from before_request", 402

    app.before_request(as_kind(kind, before))
    app.register_error_handler(PaymentError, as_kind(kind, handle))
    app.route("/")(as_kind(kind, lambda: "view"))
    response = client.get("/")
    assert (response.status_code, response.data) == (402, b"handled from before_request")


@both_kinds
def test_an_error_handler_response_goes_through_after_request(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    def handle(e: NotFound) -> tuple[str, int]:
        return "nothing here", 404

    def after(response: Response) -> Response:
        response.headers["X-After"] = str(response.status_code)
        return response

    app.register_error_handler(404, as_kind(kind, handle))
    app.after_request(as_kind(kind, after))
    response = client.get("/missing")
    assert response.headers["X-After"] == "404"


@both_kinds
def test_an_unhandled_exception_is_a_500_page_without_the_traceback_and_is_logged(
    app: Flask, client: FlaskClient, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    no_propagation(app)

    def index() -> str:
        raise ValueError("secret internal detail")

    app.route("/")(as_kind(kind, index))
    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        response = client.get("/")
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    text = response.get_data(as_text=True)
    assert "Internal Server Error" in text
    assert "secret internal detail" not in text
    assert "Traceback" not in text
    assert "ValueError" not in text
    records = [r for r in caplog.records if r.name == app.logger.name]
    assert len(records) == 1
    assert records[0].levelno == logging.ERROR
    assert records[0].getMessage() == "Exception on / [GET]"
    assert records[0].exc_info is not None
    assert isinstance(records[0].exc_info[1], ValueError)


@both_kinds
def test_an_unhandled_exception_propagates_to_the_test_when_testing(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    def index() -> str:
        raise ValueError("reaches the test")

    app.route("/")(as_kind(kind, index))
    assert app.testing
    with pytest.raises(ValueError, match="reaches the test"):
        client.get("/")


@both_kinds
def test_in_debug_mode_without_propagation_the_500_page_shows_the_traceback(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    app.config.update(DEBUG=True, PROPAGATE_EXCEPTIONS=False)

    def failing_view() -> str:
        raise ValueError("<shown> in debug")

    app.route("/")(as_kind(kind, failing_view))
    response = client.get("/")
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "Traceback" in text
    assert "ValueError" in text
    assert "&lt;shown&gt; in debug" in text
    assert "<shown>" not in text


@both_kinds
def test_abort_404_gives_the_not_found_page(app: Flask, client: FlaskClient, kind: str) -> None:
    def index() -> str:
        abort(404)

    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<h1>Not Found</h1>" in response.get_data(as_text=True)


@both_kinds
def test_abort_with_a_description(app: Flask, client: FlaskClient, kind: str) -> None:
    def index() -> str:
        abort(403, "custom description")

    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert response.status_code == 403
    assert "<p>custom description</p>" in response.get_data(as_text=True)


@both_kinds
def test_abort_with_a_response_sends_that_response(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    def index() -> str:
        abort(make_response("teapot says no", 418, {"X-Abort": "yes"}))

    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert response.status_code == 418
    assert response.data == b"teapot says no"
    assert response.headers["X-Abort"] == "yes"


@both_kinds
def test_a_missing_query_argument_is_a_400(app: Flask, client: FlaskClient, kind: str) -> None:
    def index() -> str:
        return request.args["missing"]

    app.route("/")(as_kind(kind, index))
    response = client.get("/?present=1")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "<h1>Bad Request</h1>" in text
    assert "missing" not in text


@both_kinds
def test_a_missing_query_argument_is_a_400_a_handler_for_bad_request_sees(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    def handle(e: BadRequest) -> tuple[str, int]:
        return f"bad: {type(e).__name__} {isinstance(e, KeyError)}", 400

    def index() -> str:
        return request.args["missing"]

    app.register_error_handler(BadRequest, as_kind(kind, handle))
    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert (response.status_code, response.data) == (400, b"bad: BadRequestKeyError True")


@both_kinds
def test_the_trailing_slash_redirect_is_not_passed_to_error_handlers(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    handled: list[HTTPException] = []

    def handle(e: HTTPException) -> tuple[str, int]:
        handled.append(e)
        return "handled", 599

    app.register_error_handler(HTTPException, as_kind(kind, handle))
    app.route("/folder/")(as_kind(kind, lambda: "folder"))
    response = client.get("/folder?x=1")
    assert response.status_code == 308
    assert response.headers["Location"] == "/folder/?x=1"
    assert handled == []
    assert client.get("/folder?x=1", follow_redirects=True).data == b"folder"


@both_kinds
def test_an_error_raised_in_an_error_handler_becomes_a_500(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    no_propagation(app)

    def handle(e: NotFound) -> str:
        raise RuntimeError("the handler failed")

    app.register_error_handler(404, as_kind(kind, handle))
    response = client.get("/missing")
    assert response.status_code == 500
    assert "the handler failed" not in response.get_data(as_text=True)


@both_kinds
def test_an_error_handler_may_return_a_response(app: Flask, client: FlaskClient, kind: str) -> None:
    def handle(e: Forbidden) -> Response:
        return jsonify(error=e.description)

    def index() -> str:
        abort(403, "not yours")

    app.register_error_handler(Forbidden, as_kind(kind, handle))
    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    # The handler's response keeps its own status, as in Flask.
    assert response.status_code == 200
    assert response.get_json() == {"error": "not yours"}


class TeapotNotFound(NotFound):
    """A subclass of a 404 with its own handler."""


@both_kinds
def test_a_handler_for_an_http_exception_subclass_wins_over_the_code_handler(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    def by_code(e: NotFound) -> tuple[str, int]:
        return "plain 404", 404

    def by_subclass(e: TeapotNotFound) -> tuple[str, int]:
        return "teapot 404", 404

    def teapot() -> str:
        raise TeapotNotFound()

    def plain() -> str:
        abort(404)

    app.register_error_handler(404, as_kind(kind, by_code))
    app.register_error_handler(TeapotNotFound, as_kind(kind, by_subclass))
    app.route("/teapot")(as_kind(kind, teapot))
    app.route("/plain")(as_kind(kind, plain))
    assert client.get("/teapot").data == b"teapot 404"
    assert client.get("/plain").data == b"plain 404"


@both_kinds
def test_a_handler_for_exception_also_catches_http_errors(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    """As in Flask: ``Exception`` is a base class of ``HTTPException``."""

    def handle(e: Exception) -> tuple[str, int]:
        return f"caught {type(e).__name__}", 599

    app.register_error_handler(Exception, as_kind(kind, handle))
    response = client.get("/missing")
    assert (response.status_code, response.data) == (599, b"caught NotFound")


@both_kinds
def test_abort_with_a_response_is_not_passed_to_error_handlers(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    handled: list[HTTPException] = []

    def handle(e: HTTPException) -> tuple[str, int]:
        handled.append(e)
        return "handled", 599

    def index() -> str:
        abort(Response("ready-made", 409))

    app.register_error_handler(HTTPException, as_kind(kind, handle))
    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert (response.status_code, response.data) == (409, b"ready-made")
    assert handled == []


@both_kinds
def test_trap_http_exceptions_makes_http_errors_propagate(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    app.config["TRAP_HTTP_EXCEPTIONS"] = True

    def index() -> str:
        abort(409)

    app.route("/")(as_kind(kind, index))
    with pytest.raises(HTTPException) as info:
        client.get("/")
    assert info.value.code == 409


@both_kinds
def test_in_debug_mode_a_missing_key_propagates_with_the_key_shown(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    """Flask traps ``BadRequestKeyError`` in debug mode (``TRAP_BAD_REQUEST_ERRORS``
    is ``None``), so the developer sees which key was missing."""
    app.debug = True

    def index() -> str:
        return request.args["username"]

    app.route("/")(as_kind(kind, index))
    with pytest.raises(KeyError) as info:
        client.get("/?other=x")
    assert isinstance(info.value, BadRequest)
    assert "KeyError: 'username'" in str(info.value)


@both_kinds
def test_in_debug_mode_without_trapping_the_400_page_names_the_missing_key(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    app.config.update(DEBUG=True, TRAP_BAD_REQUEST_ERRORS=False)

    def index() -> str:
        return request.args["page"]

    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert response.status_code == 400
    assert "KeyError: &#39;page&#39;" in response.get_data(as_text=True)


@both_kinds
def test_an_exception_in_after_request_is_a_500(app: Flask, client: FlaskClient, kind: str) -> None:
    no_propagation(app)

    def after(response: Response) -> Response:
        raise RuntimeError("after_request failed")

    app.after_request(as_kind(kind, after))
    app.route("/")(as_kind(kind, lambda: "ok"))
    assert client.get("/").status_code == 500


@both_kinds
def test_after_request_runs_on_the_500_page_of_an_unhandled_exception(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    no_propagation(app)

    def after(response: Response) -> Response:
        response.headers["X-Status"] = str(response.status_code)
        return response

    def index() -> str:
        raise RuntimeError("unhandled")

    app.after_request(as_kind(kind, after))
    app.route("/")(as_kind(kind, index))
    response = client.get("/")
    assert response.status_code == 500
    assert response.headers["X-Status"] == "500"


@both_kinds
def test_an_http_error_is_not_passed_to_teardown(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    seen: list[BaseException | None] = []

    def teardown_request(exc: BaseException | None) -> None:
        seen.append(exc)

    def index() -> str:
        abort(404)

    app.teardown_request(as_kind(kind, teardown_request))
    app.route("/")(as_kind(kind, index))
    assert client.get("/").status_code == 404
    assert seen == [None]


def test_registering_a_handler_for_an_unknown_code_fails(app: Flask) -> None:
    with pytest.raises(ValueError, match="299"):
        app.register_error_handler(299, lambda e: "never")


def test_registering_a_handler_for_an_exception_instance_fails(app: Flask) -> None:
    with pytest.raises(TypeError, match="instance"):
        app.register_error_handler(ValueError(), lambda e: "never")  # type: ignore[arg-type]


# -- contexts in views and hooks ----------------------------------------------------


@both_kinds
def test_request_g_and_current_app_are_available_in_every_hook_and_view(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    seen: list[tuple[str, str, str, bool]] = []

    def record(where: str) -> None:
        g.trail = [*g.get("trail", []), where]
        seen.append((where, request.path, current_app.name, current_app == app))

    def preprocess(endpoint: str | None, values: dict[str, Any] | None) -> None:
        record("url_value_preprocessor")

    def before() -> None:
        record("before_request")

    def view(item: str) -> str:
        record("view")

        def callback(response: Response) -> Response:
            record("after_this_request")
            return response

        after_this_request(as_kind(kind, callback))
        abort(404)

    def handler(e: NotFound) -> tuple[str, int]:
        record("errorhandler")
        return "handled", 404

    def after(response: Response) -> Response:
        record("after_request")
        response.headers["X-Trail"] = ",".join(g.trail)
        return response

    def teardown_request(exc: BaseException | None) -> None:
        record("teardown_request")

    def teardown_appcontext(exc: BaseException | None) -> None:
        record("teardown_appcontext")

    app.url_value_preprocessor(as_kind(kind, preprocess))
    app.before_request(as_kind(kind, before))
    app.register_error_handler(404, as_kind(kind, handler))
    app.after_request(as_kind(kind, after))
    app.teardown_request(as_kind(kind, teardown_request))
    app.teardown_appcontext(as_kind(kind, teardown_appcontext))
    app.route("/items/<item>")(as_kind(kind, view))

    response = client.get("/items/7")
    assert response.status_code == 404
    wheres = [
        "url_value_preprocessor",
        "before_request",
        "view",
        "errorhandler",
        "after_this_request",
        "after_request",
        "teardown_request",
        "teardown_appcontext",
    ]
    assert seen == [(where, "/items/7", app.name, True) for where in wheres]
    assert response.headers["X-Trail"] == ",".join(wheres[:6])


@both_kinds
def test_g_is_fresh_for_each_request(app: Flask, client: FlaskClient, kind: str) -> None:
    def index() -> str:
        before = g.get("count", 0)
        g.count = before + 1
        return str(g.count)

    app.route("/")(as_kind(kind, index))
    assert client.get("/").data == b"1"
    assert client.get("/").data == b"1"


@both_kinds
def test_make_response_builds_a_response_to_change(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    def full() -> Response:
        response = make_response("body", 201, {"X-A": "1"})
        response.headers["X-B"] = "2"
        return response

    def from_dict() -> Response:
        response = make_response({"a": 1})
        response.set_cookie("seen", "yes")
        return response

    def empty() -> Response:
        return make_response()

    app.route("/full")(as_kind(kind, full))
    app.route("/dict")(as_kind(kind, from_dict))
    app.route("/empty")(as_kind(kind, empty))
    response = client.get("/full")
    assert (response.status_code, response.data) == (201, b"body")
    assert (response.headers["X-A"], response.headers["X-B"]) == ("1", "2")
    response = client.get("/dict")
    assert response.get_json() == {"a": 1}
    assert response.headers["Set-Cookie"] == "seen=yes; Path=/"
    response = client.get("/empty")
    assert (response.status_code, response.data) == (200, b"")


@both_kinds
def test_jsonify_in_a_view(app: Flask, client: FlaskClient, kind: str) -> None:
    def keywords() -> Response:
        return jsonify(name="ada", id=1)

    def values() -> tuple[Response, int]:
        return jsonify(1, 2, 3), 201

    app.route("/kw")(as_kind(kind, keywords))
    app.route("/values")(as_kind(kind, values))
    response = client.get("/kw")
    assert response.mimetype == "application/json"
    assert response.get_json() == {"name": "ada", "id": 1}
    response = client.get("/values")
    assert response.status_code == 201
    assert response.get_json() == [1, 2, 3]


@both_kinds
def test_redirect_to_url_for_defaults_to_302(app: Flask, client: FlaskClient, kind: str) -> None:
    def old() -> Response:
        return redirect(url_for("new", page=2))

    def new() -> str:
        return f"page {request.args['page']}"

    app.route("/old")(as_kind(kind, old))
    app.route("/new")(as_kind(kind, new))
    response = client.get("/old")
    assert response.status_code == 302
    assert response.headers["Location"] == "/new?page=2"
    assert client.get("/old", follow_redirects=True).data == b"page 2"


@both_kinds
def test_redirect_with_a_custom_code(app: Flask, client: FlaskClient, kind: str) -> None:
    def moved() -> Response:
        return redirect(url_for("target"), code=301)

    def target() -> str:
        return "target"

    app.route("/moved")(as_kind(kind, moved))
    app.route("/target")(as_kind(kind, target))
    response = client.get("/moved")
    assert response.status_code == 301
    assert response.headers["Location"] == "/target"


# -- signals --------------------------------------------------------------------


@both_kinds
def test_request_signals_are_sent_to_def_and_async_receivers(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    events: list[tuple[str, Any]] = []

    def started(sender: Flask, **extra: Any) -> None:
        assert request.path == "/"
        events.append(("request_started", extra))

    def finished(sender: Flask, response: Response, **extra: Any) -> None:
        events.append(("request_finished", response.get_data()))

    def tearing_down(sender: Flask, exc: BaseException | None, **extra: Any) -> None:
        events.append(("request_tearing_down", exc))

    def app_tearing_down(sender: Flask, exc: BaseException | None, **extra: Any) -> None:
        assert current_app == sender
        events.append(("appcontext_tearing_down", exc))

    receivers = [
        (request_started, as_kind(kind, started)),
        (request_finished, as_kind(kind, finished)),
        (request_tearing_down, as_kind(kind, tearing_down)),
        (appcontext_tearing_down, as_kind(kind, app_tearing_down)),
    ]
    app.route("/")(as_kind(kind, lambda: "signalled"))
    for signal, receiver in receivers:
        signal.connect(receiver, app)
    try:
        assert client.get("/").status_code == 200
    finally:
        for signal, receiver in receivers:
            signal.disconnect(receiver, app)
    assert events == [
        ("request_started", {}),
        ("request_finished", b"signalled"),
        ("request_tearing_down", None),
        ("appcontext_tearing_down", None),
    ]


@both_kinds
def test_got_request_exception_and_teardown_signals_get_the_exception(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    no_propagation(app)
    events: list[tuple[str, Any]] = []
    error = LookupError("unhandled")

    def got_exception(sender: Flask, exception: BaseException, **extra: Any) -> None:
        events.append(("got_request_exception", exception))

    def finished(sender: Flask, response: Response, **extra: Any) -> None:
        events.append(("request_finished", response.status_code))

    def tearing_down(sender: Flask, exc: BaseException | None, **extra: Any) -> None:
        events.append(("request_tearing_down", exc))

    def app_tearing_down(sender: Flask, exc: BaseException | None, **extra: Any) -> None:
        events.append(("appcontext_tearing_down", exc))

    def index() -> str:
        raise error

    receivers = [
        (got_request_exception, as_kind(kind, got_exception)),
        (request_finished, as_kind(kind, finished)),
        (request_tearing_down, as_kind(kind, tearing_down)),
        (appcontext_tearing_down, as_kind(kind, app_tearing_down)),
    ]
    app.route("/")(as_kind(kind, index))
    for signal, receiver in receivers:
        signal.connect(receiver, app)
    try:
        assert client.get("/").status_code == 500
    finally:
        for signal, receiver in receivers:
            signal.disconnect(receiver, app)
    assert events == [
        ("got_request_exception", error),
        ("request_finished", 500),
        ("request_tearing_down", error),
        ("appcontext_tearing_down", error),
    ]


@both_kinds
def test_got_request_exception_is_sent_even_when_the_exception_propagates(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    received: list[BaseException] = []

    def got_exception(sender: Flask, exception: BaseException, **extra: Any) -> None:
        received.append(exception)

    def index() -> str:
        raise ArithmeticError("propagated")

    receiver = as_kind(kind, got_exception)
    app.route("/")(as_kind(kind, index))
    got_request_exception.connect(receiver, app)
    try:
        with pytest.raises(ArithmeticError):
            client.get("/")
    finally:
        got_request_exception.disconnect(receiver, app)
    assert [type(e) for e in received] == [ArithmeticError]


@both_kinds
def test_got_request_exception_is_not_sent_for_a_handled_exception(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    received: list[BaseException] = []

    def got_exception(sender: Flask, exception: BaseException, **extra: Any) -> None:
        received.append(exception)

    def handle(e: ValueError) -> tuple[str, int]:
        return "handled", 422

    def index() -> str:
        raise ValueError("handled")

    receiver = as_kind(kind, got_exception)
    app.register_error_handler(ValueError, as_kind(kind, handle))
    app.route("/")(as_kind(kind, index))
    got_request_exception.connect(receiver, app)
    try:
        assert client.get("/").status_code == 422
        assert client.get("/missing").status_code == 404
    finally:
        got_request_exception.disconnect(receiver, app)
    assert received == []


def test_receivers_for_another_app_are_not_called(app: Flask, client: FlaskClient) -> None:
    other = Flask("another_app")
    calls: list[Flask] = []

    def started(sender: Flask, **extra: Any) -> None:
        calls.append(sender)

    app.route("/")(lambda: "ok")
    request_started.connect(started, other)
    try:
        client.get("/")
    finally:
        request_started.disconnect(started, other)
    assert calls == []


# -- serving lifespan ---------------------------------------------------------------


@both_kinds
def test_before_and_after_serving_run_in_an_app_context_around_the_client(
    app: Flask, kind: str
) -> None:
    events: list[str] = []

    def startup() -> None:
        events.append(f"before_serving in {current_app.name}")
        current_app.config["STARTED"] = True

    def shutdown() -> None:
        events.append(f"after_serving in {current_app.name}")

    def index() -> str:
        return f"started={current_app.config['STARTED']}"

    app.before_serving(as_kind(kind, startup))
    app.after_serving(as_kind(kind, shutdown))
    app.route("/")(as_kind(kind, index))
    with app.test_client() as client:
        assert events == [f"before_serving in {app.name}"]
        assert client.get("/").data == b"started=True"
        assert events == [f"before_serving in {app.name}"]
    assert events == [f"before_serving in {app.name}", f"after_serving in {app.name}"]


def test_def_and_async_serving_hooks_run_in_registration_order(app: Flask) -> None:
    events: list[str] = []

    @app.before_serving
    def sync_startup() -> None:
        events.append("sync startup")

    @app.before_serving
    async def async_startup() -> None:
        events.append("async startup")

    @app.after_serving
    async def async_shutdown() -> None:
        events.append("async shutdown")

    @app.after_serving
    def sync_shutdown() -> None:
        events.append("sync shutdown")

    with app.test_client():
        assert events == ["sync startup", "async startup"]
    assert events == ["sync startup", "async startup", "async shutdown", "sync shutdown"]


def test_serving_hooks_do_not_run_without_with(app: Flask, client: FlaskClient) -> None:
    events: list[str] = []
    app.before_serving(lambda: events.append("startup"))
    app.route("/")(lambda: "ok")
    client.get("/")
    assert events == []
