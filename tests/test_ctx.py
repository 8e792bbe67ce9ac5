"""Application and request contexts: pushing them with ``with`` and
``async with``, the context globals (``current_app``, ``g``, ``request``,
``session``), teardown functions, and the helpers that carry a request
context elsewhere (``copy_current_request_context``, ``stream_with_context``,
``after_this_request``)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

import flaskish
from flaskish import (
    Flask,
    after_this_request,
    copy_current_request_context,
    current_app,
    g,
    has_app_context,
    has_request_context,
    request,
    session,
    stream_with_context,
)
from flaskish.ctx import AppContext, RequestContext
from flaskish.globals import app_ctx, request_ctx

NO_APP = "^Working outside of application context"
NO_REQUEST = "^Working outside of request context"


# -- app_context() -------------------------------------------------------------


def test_app_context_makes_current_app_and_g_available(app: Flask) -> None:
    with app.app_context() as ctx:
        assert isinstance(ctx, AppContext)
        assert ctx.app is app
        assert current_app._get_current_object() is app  # type: ignore[attr-defined]
        assert current_app.name == app.name
        g.value = 42
        assert g.value == 42
    assert not has_app_context()


def test_async_with_app_context(app: Flask) -> None:
    seen: list[Any] = []

    async def main() -> None:
        async with app.app_context() as ctx:
            assert ctx.app is app
            g.value = "async"
            seen.append((current_app.name, g.value, has_app_context()))
        seen.append(has_app_context())

    anyio.run(main)
    assert seen == [(app.name, "async", True), False]


def test_each_app_context_has_its_own_g(app: Flask) -> None:
    with app.app_context():
        g.outer = 1
        with app.app_context():
            assert "outer" not in g
            g.inner = 2
        assert g.outer == 1
        assert "inner" not in g


def test_nested_app_contexts_of_two_apps_restore_the_outer_app(app: Flask) -> None:
    other = Flask("other_app")
    with app.app_context():
        assert current_app.name == app.name
        with other.app_context():
            assert current_app.name == "other_app"
        assert current_app.name == app.name
    assert not has_app_context()


def test_nested_async_app_contexts_of_two_apps_restore_the_outer_app(app: Flask) -> None:
    other = Flask("other_app")
    names: list[str] = []

    async def main() -> None:
        async with app.app_context():
            names.append(current_app.name)
            async with other.app_context():
                names.append(current_app.name)
            names.append(current_app.name)

    anyio.run(main)
    assert names == [app.name, "other_app", app.name]


# -- test_request_context() ------------------------------------------------------


def test_request_context_makes_request_and_session_available(app: Flask) -> None:
    with app.test_request_context("/hello") as ctx:
        assert isinstance(ctx, RequestContext)
        assert has_request_context()
        assert has_app_context()
        assert request.path == "/hello"
        assert request.method == "GET"
        assert request.url == "http://localhost/hello"
        assert request.remote_addr == "127.0.0.1"
        assert current_app.name == app.name
        session["user"] = "ada"
        assert session["user"] == "ada"
    assert not has_request_context()
    assert not has_app_context()


def test_request_context_with_method_headers_and_query_string(app: Flask) -> None:
    with app.test_request_context(
        "/search", method="PUT", headers={"X-Token": "abc"}, query_string={"q": "flask"}
    ):
        assert request.method == "PUT"
        assert request.headers["X-Token"] == "abc"
        assert request.headers["x-token"] == "abc"
        assert request.args["q"] == "flask"
        assert request.path == "/search"


def test_request_context_query_string_as_text_or_in_the_path(app: Flask) -> None:
    with app.test_request_context("/p?a=1"):
        assert request.args["a"] == "1"
    with app.test_request_context("/p", query_string="b=2&b=3"):
        assert request.args.getlist("b") == ["2", "3"]
    # Not both, as in Flask (Werkzeug's EnvironBuilder).
    with pytest.raises(ValueError, match="Query string is defined in the path and as an"):
        app.test_request_context("/p?a=1", query_string="b=2")


def test_request_context_form_data_is_readable_in_a_sync_block(app: Flask) -> None:
    with app.test_request_context("/", method="POST", data={"a": "1", "b": "two"}):
        assert request.form["a"] == "1"
        assert request.form["b"] == "two"
        assert request.mimetype == "application/x-www-form-urlencoded"


def test_request_context_json_is_readable_in_a_sync_block(app: Flask) -> None:
    with app.test_request_context("/", method="POST", json={"x": 1}):
        assert request.is_json
        assert request.get_json() == {"x": 1}
        assert request.json == {"x": 1}


def test_request_context_body_is_awaited_in_an_async_block(app: Flask) -> None:
    seen: list[Any] = []

    async def main() -> None:
        async with app.test_request_context("/", method="POST", data={"a": "1"}):
            form = await request.form
            seen.append(form["a"])
        async with app.test_request_context("/", method="POST", json={"x": 1}):
            data = await request.get_json()
            seen.append(data)

    anyio.run(main)
    assert seen == ["1", {"x": 1}]


def test_reading_the_body_in_async_code_without_await_says_to_await(app: Flask) -> None:
    async def main() -> None:
        async with app.test_request_context("/", method="POST", data={"a": "1"}):
            with pytest.raises(RuntimeError, match=r"await request\.form"):
                request.form["a"]
            assert (await request.form)["a"] == "1"
            # Once loaded, plain access works too.
            assert request.form["a"] == "1"

    anyio.run(main)


def test_request_is_an_instance_of_flaskish_request_inside_a_context(app: Flask) -> None:
    assert not isinstance(request, flaskish.Request)
    with app.test_request_context():
        assert isinstance(request, flaskish.Request)
        assert isinstance(request._get_current_object(), flaskish.Request)  # type: ignore[attr-defined]


def test_nested_request_contexts_restore_the_outer_request(app: Flask) -> None:
    with app.test_request_context("/outer"):
        g.marker = "outer"
        with app.test_request_context("/inner"):
            assert request.path == "/inner"
            # Same app: the request context reuses the app context (and g).
            assert g.marker == "outer"
        assert request.path == "/outer"
    assert not has_request_context()


def test_nested_request_contexts_of_two_apps_restore_app_and_request(app: Flask) -> None:
    other = Flask("other_app")
    with app.test_request_context("/first"):
        g.marker = "first"
        with other.test_request_context("/second"):
            assert current_app.name == "other_app"
            assert request.path == "/second"
            assert "marker" not in g
        assert current_app.name == app.name
        assert request.path == "/first"
        assert g.marker == "first"
    assert not has_app_context()


def test_nested_async_request_contexts_restore_the_outer_request(app: Flask) -> None:
    other = Flask("other_app")
    seen: list[tuple[str, str]] = []

    async def main() -> None:
        async with app.test_request_context("/outer"):
            seen.append((current_app.name, request.path))
            async with other.test_request_context("/inner"):
                seen.append((current_app.name, request.path))
            seen.append((current_app.name, request.path))

    anyio.run(main)
    assert seen == [
        (app.name, "/outer"),
        ("other_app", "/inner"),
        (app.name, "/outer"),
    ]


def test_request_context_inside_an_app_context_shares_its_g(app: Flask) -> None:
    with app.app_context():
        g.db = "connection"
        with app.test_request_context():
            assert g.db == "connection"
        assert has_app_context()
        assert not has_request_context()


def test_a_request_context_pushed_and_popped_by_hand(app: Flask) -> None:
    ctx = app.test_request_context("/manual")
    ctx.push()
    try:
        assert request.path == "/manual"
    finally:
        ctx.pop()
    assert not has_request_context()
    assert not has_app_context()


# -- outside of any context ---------------------------------------------------


def test_current_app_outside_a_context_raises(app: Flask) -> None:
    with pytest.raises(RuntimeError, match=NO_APP):
        current_app.name  # noqa: B018


def test_g_outside_a_context_raises(app: Flask) -> None:
    with pytest.raises(RuntimeError, match=NO_APP):
        g.value = 1
    with pytest.raises(RuntimeError, match=NO_APP):
        g.get("value")


def test_request_outside_a_context_raises(app: Flask) -> None:
    with pytest.raises(RuntimeError, match=NO_REQUEST):
        request.path  # noqa: B018
    with app.app_context(), pytest.raises(RuntimeError, match=NO_REQUEST):
        request.args  # noqa: B018


def test_session_outside_a_context_raises(app: Flask) -> None:
    with pytest.raises(RuntimeError, match=NO_REQUEST):
        session.get("user")
    with app.app_context(), pytest.raises(RuntimeError, match=NO_REQUEST):
        session["user"] = "ada"


def test_has_request_context_and_has_app_context(app: Flask) -> None:
    assert not has_app_context()
    assert not has_request_context()
    with app.app_context():
        assert has_app_context()
        assert not has_request_context()
    with app.test_request_context():
        assert has_app_context()
        assert has_request_context()
    assert not has_app_context()
    assert not has_request_context()


def test_unbound_proxies_are_falsy(app: Flask) -> None:
    assert not current_app
    assert not request
    with app.test_request_context():
        assert current_app
        assert request


# -- g ---------------------------------------------------------------------------


def test_g_attribute_access(app: Flask) -> None:
    with app.app_context():
        g.user = "ada"
        assert g.user == "ada"
        del g.user
        with pytest.raises(AttributeError):
            g.user  # noqa: B018


def test_g_get_with_and_without_default(app: Flask) -> None:
    with app.app_context():
        g.user = "ada"
        assert g.get("user") == "ada"
        assert g.get("missing") is None
        assert g.get("missing", "fallback") == "fallback"


def test_g_pop(app: Flask) -> None:
    with app.app_context():
        g.db = "conn"
        assert g.pop("db") == "conn"
        assert "db" not in g
        assert g.pop("db", None) is None
        assert g.pop("db", "default") == "default"
        with pytest.raises(KeyError):
            g.pop("db")


def test_g_setdefault(app: Flask) -> None:
    with app.app_context():
        assert g.setdefault("items", []) == []
        g.items.append(1)
        assert g.setdefault("items", ["other"]) == [1]
        assert g.setdefault("nothing") is None
        assert "nothing" in g


def test_g_contains_and_iteration(app: Flask) -> None:
    with app.app_context():
        assert list(g) == []
        g.a = 1
        g.b = 2
        assert "a" in g
        assert "c" not in g
        assert sorted(g) == ["a", "b"]


def test_g_repr_names_the_app(app: Flask) -> None:
    with app.app_context():
        assert app.name in repr(g)


# -- app_ctx / request_ctx proxies -------------------------------------------------


def test_app_ctx_and_request_ctx_proxies(app: Flask) -> None:
    with app.test_request_context("/proxy") as ctx:
        assert request_ctx._get_current_object() is ctx  # type: ignore[attr-defined]
        assert request_ctx.request is request._get_current_object()  # type: ignore[attr-defined]
        assert app_ctx.app is app
        assert app_ctx.g is g._get_current_object()  # type: ignore[attr-defined]
        assert isinstance(app_ctx, AppContext)
        assert isinstance(request_ctx, RequestContext)


def test_app_ctx_and_request_ctx_proxies_outside_a_context_raise(app: Flask) -> None:
    with pytest.raises(RuntimeError, match=NO_APP):
        app_ctx.app  # noqa: B018
    with pytest.raises(RuntimeError, match=NO_REQUEST):
        request_ctx.request  # noqa: B018


# -- teardown --------------------------------------------------------------------


def test_teardown_appcontext_runs_when_leaving_with(app: Flask) -> None:
    calls: list[Any] = []

    @app.teardown_appcontext
    def sync_teardown(exc: BaseException | None) -> None:
        calls.append(("sync", exc, current_app.name))

    @app.teardown_appcontext
    async def async_teardown(exc: BaseException | None) -> None:
        calls.append(("async", exc))

    with app.app_context():
        assert calls == []
    # Run in reverse order of registration, with the app context still pushed.
    assert calls == [("async", None), ("sync", None, app.name)]


def test_teardown_appcontext_runs_when_leaving_async_with(app: Flask) -> None:
    calls: list[Any] = []

    @app.teardown_appcontext
    def sync_teardown(exc: BaseException | None) -> None:
        calls.append(("sync", exc))

    @app.teardown_appcontext
    async def async_teardown(exc: BaseException | None) -> None:
        calls.append(("async", exc, g.get("resource")))

    async def main() -> None:
        async with app.app_context():
            g.resource = "db"
        calls.append("after")

    anyio.run(main)
    assert calls == [("async", None, "db"), ("sync", None), "after"]


def test_teardown_appcontext_receives_the_exception_that_ended_the_block(app: Flask) -> None:
    seen: list[BaseException | None] = []

    @app.teardown_appcontext
    def teardown(exc: BaseException | None) -> None:
        seen.append(exc)

    error = ValueError("boom")
    with pytest.raises(ValueError, match="boom"), app.app_context():
        raise error
    assert seen == [error]


def test_teardown_appcontext_gets_none_when_an_app_context_is_popped_by_hand(
    app: Flask,
) -> None:
    seen: list[Any] = []

    @app.teardown_appcontext
    def teardown(exc: BaseException | None) -> None:
        seen.append(exc)

    ctx = app.app_context()
    ctx.push()
    ctx.pop()
    assert seen == [None]


def test_teardown_appcontext_receives_the_exception_leaving_async_with(app: Flask) -> None:
    seen: list[BaseException | None] = []

    @app.teardown_appcontext
    async def teardown(exc: BaseException | None) -> None:
        seen.append(exc)

    error = ValueError("async boom")

    async def main() -> None:
        with pytest.raises(ValueError, match="async boom"):
            async with app.app_context():
                raise error

    anyio.run(main)
    assert seen == [error]


def test_teardown_request_receives_the_exception_that_ended_the_block(app: Flask) -> None:
    seen: list[Any] = []

    @app.teardown_request
    def teardown_request(exc: BaseException | None) -> None:
        seen.append(("request", exc))

    @app.teardown_appcontext
    def teardown_app(exc: BaseException | None) -> None:
        seen.append(("app", exc))

    error = KeyError("missing")
    with pytest.raises(KeyError), app.test_request_context():
        raise error
    assert seen == [("request", error), ("app", error)]


def test_teardown_appcontext_runs_once_for_a_context_pushed_twice(app: Flask) -> None:
    calls: list[Any] = []

    @app.teardown_appcontext
    def teardown(exc: BaseException | None) -> None:
        calls.append(exc)

    ctx = app.app_context()
    with ctx:
        with ctx:
            pass
        assert calls == []
    assert calls == [None]


def test_teardown_request_and_appcontext_run_when_leaving_a_request_context(
    app: Flask,
) -> None:
    calls: list[str] = []

    @app.teardown_request
    def teardown_request(exc: BaseException | None) -> None:
        calls.append(f"request {request.path}")

    @app.teardown_appcontext
    def teardown_app(exc: BaseException | None) -> None:
        calls.append("app")

    with app.test_request_context("/bye"):
        pass
    assert calls == ["request /bye", "app"]


def test_async_teardown_when_leaving_a_sync_with_on_the_event_loop_says_use_async_with(
    app: Flask,
) -> None:
    @app.teardown_appcontext
    async def teardown(exc: BaseException | None) -> None:
        pass  # pragma: no cover - never reached

    async def main() -> None:
        with pytest.raises(RuntimeError, match="async with"), app.app_context():
            pass
        # The context was still popped.
        assert not has_app_context()

    anyio.run(main)


def test_sync_teardown_when_leaving_a_sync_with_on_the_event_loop_runs(app: Flask) -> None:
    calls: list[str] = []

    @app.teardown_appcontext
    def teardown(exc: BaseException | None) -> None:
        calls.append("sync")

    async def main() -> None:
        with app.app_context():
            pass

    anyio.run(main)
    assert calls == ["sync"]


# -- copy_current_request_context --------------------------------------------------


def test_copy_current_request_context_in_a_thread(app: Flask) -> None:
    seen: list[Any] = []

    with app.test_request_context("/threaded?x=1"):
        session["user"] = "ada"

        @copy_current_request_context
        def work() -> None:
            seen.append((request.path, request.args["x"], current_app.name, session["user"]))

        thread = threading.Thread(target=work)
        thread.start()
        thread.join()

    assert seen == [("/threaded", "1", app.name, "ada")]


def test_a_thread_without_copy_current_request_context_has_no_request(app: Flask) -> None:
    seen: list[bool] = []

    with app.test_request_context("/"):
        thread = threading.Thread(target=lambda: seen.append(has_request_context()))
        thread.start()
        thread.join()

    assert seen == [False]


def test_copy_current_request_context_for_an_async_function_in_another_task(
    app: Flask,
) -> None:
    seen: list[Any] = []

    async def main() -> None:
        async with app.test_request_context("/task?x=2"):

            @copy_current_request_context
            async def work(suffix: str) -> str:
                await anyio.sleep(0)
                seen.append((request.path, request.args["x"], current_app.name))
                return "done" + suffix

        assert not has_request_context()
        results: list[str] = []

        async def run() -> None:
            results.append(await work("!"))

        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
        assert results == ["done!"]
        assert not has_request_context()

    anyio.run(main)
    assert seen == [("/task", "2", app.name)]


def test_copy_current_request_context_outside_a_request_raises(app: Flask) -> None:
    def work() -> None:  # pragma: no cover - never called
        pass

    with pytest.raises(RuntimeError):
        copy_current_request_context(work)


# -- after_this_request ----------------------------------------------------------------


def test_after_this_request_outside_a_request_raises(app: Flask) -> None:
    def add_header(response: Any) -> Any:  # pragma: no cover - never called
        return response

    with pytest.raises(RuntimeError):
        after_this_request(add_header)
    with app.app_context(), pytest.raises(RuntimeError):
        after_this_request(add_header)


def test_after_this_request_changes_the_response_of_the_current_request(app: Flask) -> None:
    @app.route("/")
    def index() -> str:
        @after_this_request
        def add_header(response: Any) -> Any:
            response.headers["X-Foo"] = "Parachute"
            return response

        return "hello"

    @app.route("/other")
    def other() -> str:
        return "other"

    client = app.test_client()
    assert client.get("/").headers["X-Foo"] == "Parachute"
    assert "X-Foo" not in client.get("/other").headers


# -- stream_with_context -------------------------------------------------------------


def test_stream_with_context_on_a_generator_keeps_the_request(app: Flask) -> None:
    @app.route("/stream")
    def stream() -> Any:
        def generate() -> Iterator[str]:
            yield "Hello "
            yield request.args["name"]
            yield "!"

        return stream_with_context(generate())

    response = app.test_client().get("/stream?name=World")
    assert response.text == "Hello World!"


def test_stream_with_context_as_a_decorator_keeps_the_request(app: Flask) -> None:
    @app.route("/stream")
    def stream() -> Any:
        @stream_with_context
        def generate(greeting: str) -> Iterator[str]:
            yield greeting
            yield request.args["name"]
            yield session.get("missing", "!")

        return generate("Hello ")

    response = app.test_client().get("/stream?name=World")
    assert response.text == "Hello World!"


def test_stream_with_context_in_an_async_view(app: Flask) -> None:
    @app.route("/stream")
    async def stream() -> Any:
        @stream_with_context
        async def generate() -> Any:
            yield "path="
            yield request.path

        return generate()

    assert app.test_client().get("/stream").text == "path=/stream"


def test_stream_with_context_generator_keeps_the_request_after_the_block_ends(
    app: Flask,
) -> None:
    def generate() -> Iterator[str]:
        yield request.path

    with app.test_request_context("/captured"):
        gen = stream_with_context(generate())
    assert list(gen) == ["/captured"]


def test_stream_with_context_rejects_what_is_not_a_generator(app: Flask) -> None:
    def not_a_generator() -> str:
        return "text"

    with app.test_request_context():
        with pytest.raises(TypeError):
            stream_with_context(42)  # type: ignore[type-var]
        with pytest.raises(TypeError):
            stream_with_context(not_a_generator)
