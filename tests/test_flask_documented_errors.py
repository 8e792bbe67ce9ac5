"""Flask's documented error behaviours: propagation to the test client and
the server, trapping of HTTP errors, how ``errorhandler`` refuses what it
cannot register, and how an unhandled error is logged.

Each test quotes the Flask documentation (or docstring) sentence it checks.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx2 as httpx
import pytest
from kinds import as_kind, both_kinds

from flaskish import Flask, abort, request
from flaskish.exceptions import BadRequest, NotFound
from flaskish.logging import default_handler
from flaskish.testing import FlaskClient

# -- PROPAGATE_EXCEPTIONS --------------------------------------------------------------


@both_kinds
@pytest.mark.parametrize("key", ["TESTING", "PROPAGATE_EXCEPTIONS", "DEBUG", None])
def test_an_unhandled_error_reaches_the_test_when_testing_debugging_or_propagating(
    app: Flask, client: FlaskClient, key: str | None, kind: str
) -> None:
    """Flask's config docs, ``PROPAGATE_EXCEPTIONS``: "Exceptions are
    re-raised rather than being handled by the app's error handlers. If not
    set, this is implicitly true if ``TESTING`` or ``DEBUG`` is enabled."
    (Flask's ``test_exception_propagation``.)"""
    app.testing = False

    def index() -> str:
        raise ZeroDivisionError("reaches the test")

    app.route("/")(as_kind(kind, index))
    if key is None:
        assert client.get("/").status_code == 500
        return
    app.config[key] = True
    with pytest.raises(ZeroDivisionError, match="reaches the test"):
        client.get("/")


def test_propagation_turned_off_while_testing_gives_the_500_handler_its_error(
    app: Flask, client: FlaskClient
) -> None:
    """``PROPAGATE_EXCEPTIONS``: "If not set, this is implicitly true if
    ``TESTING`` ... is enabled" -- set to ``False`` while testing, the app's
    500 handler answers again, with the original error."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/")
    def index() -> str:
        raise ZeroDivisionError

    @app.errorhandler(500)
    def server_error(error: Any) -> tuple[str, int]:
        return f"handled {type(error.original_exception).__name__}", 500

    response = client.get("/")
    assert (response.status_code, response.text) == (500, "handled ZeroDivisionError")


def test_in_debug_mode_on_a_server_the_error_reaches_the_server_after_the_traceback_page(
    live_server: Any,
) -> None:
    """``PROPAGATE_EXCEPTIONS`` is "implicitly true if ... ``DEBUG`` is
    enabled": the error goes up to the server (uvicorn logs it), as Flask's
    goes up to Werkzeug's debugger. In the debugger's place the browser is
    sent the traceback page."""
    app = Flask("debug_on_a_server")
    app.debug = True
    app.config["BLOCKING_WARN_MS"] = 0

    @app.route("/")
    def index() -> str:
        raise ZeroDivisionError("seen by the server")

    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    with live_server(app) as server:
        collect = Collect()
        logging.getLogger("uvicorn.error").addHandler(collect)
        try:
            response = httpx.get(server.url)
            deadline = time.monotonic() + 5  # the server logs once the response is sent
            while not records and time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            logging.getLogger("uvicorn.error").removeHandler(collect)
    assert response.status_code == 500
    assert "ZeroDivisionError: seen by the server" in response.text
    assert "Traceback" in response.text
    errors = [record for record in records if record.exc_info]
    assert errors and isinstance(errors[0].exc_info[1], ZeroDivisionError)  # type: ignore[index]


# -- TRAP_BAD_REQUEST_ERRORS and TRAP_HTTP_EXCEPTIONS -----------------------------------


def _bad_request_app(app: Flask) -> None:
    @app.route("/key")
    def key() -> str:
        return request.args["missing_key"]

    @app.route("/abort")
    def abort_400() -> str:
        abort(400)


def test_in_debug_mode_only_a_missing_key_is_trapped(app: Flask, client: FlaskClient) -> None:
    """``TRAP_BAD_REQUEST_ERRORS``: "Trying to access a key that doesn't
    exist from request dicts like ``args`` and ``form`` will return a 400
    Bad Request error page. ... If unset, it is enabled in debug mode." --
    and it is "a more specific version of ``TRAP_HTTP_EXCEPTIONS``": another
    400 stays a 400 (Flask's ``test_trap_bad_request_key_error``)."""
    _bad_request_app(app)
    response = client.get("/key")
    assert response.status_code == 400
    assert b"missing_key" not in response.data
    app.debug = True
    with pytest.raises(KeyError) as info:
        client.get("/key")
    assert isinstance(info.value, BadRequest)
    assert "missing_key" in info.value.get_description()
    assert client.get("/abort").status_code == 400


def test_trap_bad_request_errors_traps_every_bad_request(app: Flask, client: FlaskClient) -> None:
    """``TRAP_BAD_REQUEST_ERRORS``: "Enable this to treat the error as an
    unhandled exception instead so that you get the interactive debugger."
    Set to ``True``, every ``BadRequest`` is trapped, not only missing keys."""
    _bad_request_app(app)
    app.config["TRAP_BAD_REQUEST_ERRORS"] = True
    with pytest.raises(KeyError):
        client.get("/key")
    with pytest.raises(BadRequest):
        client.get("/abort")


def test_trap_http_exceptions_raises_an_unhandled_404(app: Flask, client: FlaskClient) -> None:
    """``TRAP_HTTP_EXCEPTIONS``: "If there is no handler for an
    ``HTTPException``-type exception, re-raise it to be handled by the
    interactive debugger instead of returning it as a simple error
    response." Off again, it is the 404 page."""

    @app.route("/")
    def index() -> str:
        abort(404)

    app.config["TRAP_HTTP_EXCEPTIONS"] = True
    with pytest.raises(NotFound):
        client.get("/")
    app.config["TRAP_HTTP_EXCEPTIONS"] = False
    assert client.get("/").status_code == 404


# -- errorhandler refuses what it cannot register ---------------------------------------


class CustomException(Exception):
    pass


def test_an_exception_instance_is_refused(app: Flask) -> None:
    """Flask's ``_get_exc_class_and_code``: "... is an instance, not a
    class. Handlers can only be registered for Exception classes or HTTP
    error codes." (Flask's ``test_error_handler_no_match``.)"""
    with pytest.raises(TypeError) as info:
        app.register_error_handler(CustomException(), lambda e: "")  # type: ignore[arg-type]
    assert "CustomException() is an instance, not a class." in str(info.value)
    with pytest.raises(TypeError, match=r"KeyError\(\) is an instance, not a class"):
        app.errorhandler(KeyError())(lambda e: "")  # type: ignore[arg-type]


def test_a_class_that_is_not_an_exception_is_refused(app: Flask) -> None:
    """ "'list' is not a subclass of Exception. Handlers can only be
    registered for Exception classes or HTTP error codes." """
    with pytest.raises(ValueError) as info:
        app.register_error_handler(list, lambda e: "")  # type: ignore[arg-type]
    assert str(info.value) == (
        "'list' is not a subclass of Exception. Handlers can only be registered for "
        "Exception classes or HTTP error codes."
    )


def test_an_unknown_status_code_is_refused(app: Flask) -> None:
    """ "'999' is not a recognized HTTP error code. Use a subclass of
    HTTPException with that code instead." """
    with pytest.raises(ValueError) as info:
        app.register_error_handler(999, lambda e: "")
    assert str(info.value) == (
        "'999' is not a recognized HTTP error code. Use a subclass of HTTPException with "
        "that code instead."
    )


@pytest.mark.parametrize("given", [[KeyError, ValueError], (KeyError,), "KeyError"])
def test_a_list_a_tuple_or_a_name_is_refused_with_a_type_error(app: Flask, given: Any) -> None:
    """Flask's ``errorhandler`` takes "the code as integer for the handler,
    or an arbitrary exception"; for a list or a tuple its ``issubclass()``
    raises a ``TypeError``. flaskish raises the same class of error, with a
    sentence saying to register each class."""
    with pytest.raises(TypeError, match=r"is not a class.*register a handler for each class"):
        app.register_error_handler(given, lambda e: "")
    with pytest.raises(TypeError, match="is not a class"):
        app.errorhandler(given)(lambda e: "")


# -- the log line of an unhandled error -------------------------------------------------


@both_kinds
def test_an_unhandled_error_is_logged_as_error_in_app(
    app: Flask, client: FlaskClient, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Flask's logging docs: the default handler's format is
    ``[%(asctime)s] %(levelname)s in %(module)s: %(message)s``; Flask's
    ``Flask.log_exception`` "Logs an exception. This is called by
    :meth:`handle_exception` if debugging is disabled and right before the
    handler is called." It lives in ``app.py``, so the line reads ``ERROR in
    app: Exception on /boom [GET]``, and the record names the method."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def boom() -> str:
        raise RuntimeError("logged")

    app.route("/boom")(as_kind(kind, boom))
    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        assert client.get("/boom").status_code == 500
    (record,) = [r for r in caplog.records if r.name == app.logger.name]
    assert default_handler.formatter is not None
    line = default_handler.formatter.format(record)
    assert "ERROR in app: Exception on /boom [GET]" in line
    assert "RuntimeError: logged" in line
    assert (record.module, record.funcName) == ("app", "log_exception")
