"""Flask's plain-method contract: ``full_dispatch_request``,
``handle_exception`` and the rest are plain methods that return values, and
an extension may wrap or override them with plain functions (Flask-Cors
wraps ``app.handle_exception``) or with ``async def`` ones; the pipeline uses
what the override returns."""

from __future__ import annotations

import inspect
import threading
from typing import Any

import pytest
from kinds import as_kind, both_kinds
from werkzeug.exceptions import HTTPException, NotFound

from flaskish import Flask, Response, request
from flaskish.pipeline import PLAIN_METHODS
from flaskish.testing import FlaskClient


def _wrap(app: Flask, method: Any, header: str) -> Any:
    """A plain wrapper in Flask-Cors's style: call the original, then add a
    header to what it returned."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        response = app.make_response(method(*args, **kwargs))
        response.headers[header] = "yes"
        return response

    return wrapper


@both_kinds
def test_a_plain_wrapper_of_handle_user_exception_is_used(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    """As Flask-Cors does: the wrapper sees the handler's return value and
    what it returns is the response."""

    def missing() -> str:
        raise NotFound()

    app.route("/")(as_kind(kind, missing))
    app.handle_user_exception = _wrap(app, app.handle_user_exception, "X-Wrapped")  # type: ignore[method-assign]
    response = client.get("/")
    assert response.status_code == 404
    assert response.headers["X-Wrapped"] == "yes"


@both_kinds
def test_a_plain_wrapper_of_handle_exception_is_used_for_a_500(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken() -> str:
        raise RuntimeError("boom")

    app.route("/")(as_kind(kind, broken))
    app.handle_exception = _wrap(app, app.handle_exception, "X-Wrapped")  # type: ignore[method-assign]
    response = client.get("/")
    assert response.status_code == 500
    assert response.headers["X-Wrapped"] == "yes"


@both_kinds
def test_a_def_subclass_override_of_full_dispatch_request_gets_the_response(
    kind: str,
) -> None:
    class App(Flask):
        def full_dispatch_request(self) -> Any:
            response = super().full_dispatch_request()
            assert isinstance(response, Response)
            response.headers["X-Override"] = request.path
            return response

    app = App(__name__)
    app.route("/page")(as_kind(kind, lambda: "body"))
    response = app.test_client().get("/page")
    assert response.text == "body"
    assert response.headers["X-Override"] == "/page"


@both_kinds
def test_an_async_subclass_override_awaits_the_plain_method(kind: str) -> None:
    class App(Flask):
        async def handle_http_exception(self, e: HTTPException) -> Any:
            rv = await super().handle_http_exception(e)
            return f"handled {type(rv).__name__}", 410

    app = App(__name__)

    def missing() -> str:
        raise NotFound()

    app.route("/")(as_kind(kind, missing))
    response = app.test_client().get("/")
    assert (response.status_code, response.text) == (410, "handled NotFound")


@both_kinds
def test_a_plain_preprocess_request_override_can_end_the_request(kind: str) -> None:
    class App(Flask):
        def preprocess_request(self) -> Any:
            if request.args.get("stop"):
                return "stopped early"
            return super().preprocess_request()

    app = App(__name__)
    calls: list[str] = []
    app.before_request(as_kind(kind, lambda: calls.append("before")))
    app.route("/")(as_kind(kind, lambda: "view"))
    client = app.test_client()
    assert client.get("/?stop=1").text == "stopped early"
    assert calls == []
    assert client.get("/").text == "view"
    assert calls == ["before"]


@both_kinds
def test_plain_process_response_and_finalize_request_overrides(kind: str) -> None:
    seen: list[Any] = []

    class App(Flask):
        def process_response(self, response: Response) -> Any:
            response = super().process_response(response)
            response.headers["X-Processed"] = "1"
            return response

        def finalize_request(self, rv: Any, from_error_handler: bool = False) -> Any:
            seen.append((rv, from_error_handler))
            return super().finalize_request(rv, from_error_handler)

    app = App(__name__)
    app.after_request(as_kind(kind, lambda r: r))
    app.route("/")(as_kind(kind, lambda: "view"))
    response = app.test_client().get("/")
    assert response.headers["X-Processed"] == "1"
    assert seen == [("view", False)]


@both_kinds
def test_plain_teardown_overrides_get_the_error(kind: str) -> None:
    seen: list[Any] = []

    class App(Flask):
        def do_teardown_request(self, exc: BaseException | None = None) -> Any:
            seen.append(("request", exc))
            return super().do_teardown_request(exc)

        def do_teardown_appcontext(self, exc: BaseException | None = None) -> Any:
            seen.append(("app", exc))
            return super().do_teardown_appcontext(exc)

    app = App(__name__)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    error = RuntimeError("boom")

    def broken() -> str:
        raise error

    app.route("/")(as_kind(kind, broken))
    app.test_client().get("/")
    assert seen == [("request", error), ("app", error)]


def test_a_def_override_keeps_every_sync_step_on_one_thread() -> None:
    """Thread affinity holds through a plain override: the hooks it runs
    through ``super()`` run on the request's one worker thread."""
    threads: dict[str, int] = {}

    class App(Flask):
        def full_dispatch_request(self) -> Any:
            threads["override"] = threading.get_ident()
            return super().full_dispatch_request()

    app = App(__name__)

    @app.before_request
    def before() -> None:
        threads["before"] = threading.get_ident()

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        threads["teardown"] = threading.get_ident()

    @app.route("/")
    def index() -> str:
        threads["view"] = threading.get_ident()
        return "ok"

    assert app.test_client().get("/").text == "ok"
    assert len(set(threads.values())) == 1, threads
    assert threads["view"] != threading.get_ident()


def test_an_override_assigned_after_the_first_request_is_used(
    app: Flask, client: FlaskClient
) -> None:
    app.route("/")(lambda: "plain")
    assert client.get("/").text == "plain"
    original = app.dispatch_request
    app.dispatch_request = lambda: original().upper()  # type: ignore[method-assign]
    assert client.get("/").text == "PLAIN"
    del app.dispatch_request
    assert client.get("/").text == "plain"


def test_the_methods_work_plainly_in_a_test_request_context(app: Flask) -> None:
    """Flask's testing idiom: call the methods directly, get values."""
    app.before_request(lambda: None)
    app.route("/hello")(lambda: "hello")
    with app.test_request_context("/hello"):
        assert app.preprocess_request() is None
        rv = app.dispatch_request()
        assert rv == "hello"
        response = app.full_dispatch_request()
        assert isinstance(response, Response)
        assert response.get_data() == b"hello"
        assert app.handle_http_exception(NotFound()).code == 404


def test_an_async_hook_runs_when_a_plain_method_is_called_outside_a_loop(app: Flask) -> None:
    async def before() -> str:
        return "from async hook"

    app.before_request(before)
    with app.test_request_context("/"):
        assert app.preprocess_request() == "from async hook"


@pytest.mark.parametrize("name", sorted(PLAIN_METHODS))
def test_every_plain_method_is_a_plain_function(app: Flask, name: str) -> None:
    """Not a coroutine function: a wrapper written for Flask gets values."""
    assert not inspect.iscoroutinefunction(getattr(app, name))
