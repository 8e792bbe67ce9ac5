"""Class-based views: :class:`~flaskish.views.View` and
:class:`~flaskish.views.MethodView` as in Flask, with ``def`` and
``async def`` handlers; where each kind of handler runs."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from typing import Any, ClassVar

import pytest
from kinds import both_kinds

from flaskish import Flask, g, make_response, request
from flaskish.blueprints import Blueprint
from flaskish.concurrency import in_worker_thread
from flaskish.response import Response
from flaskish.testing import FlaskClient
from flaskish.views import MethodView, View, http_method_funcs


def allowed(client: FlaskClient, path: str = "/") -> list[str]:
    response = client.open(path, method="OPTIONS")
    return sorted(method.strip() for method in response.headers["Allow"].split(","))


def check_get_post_view(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/").data == b"GET"
    assert client.post("/").data == b"POST"
    response = client.put("/")
    assert response.status_code == 405
    assert sorted(response.headers["Allow"].split(", ")) == ["GET", "HEAD", "OPTIONS", "POST"]
    assert allowed(client) == ["GET", "HEAD", "OPTIONS", "POST"]


def make_view(kind: str) -> type[View]:
    if kind == "def":

        class Index(View):
            methods = ("GET", "POST")

            def dispatch_request(self) -> str:
                return request.method

    else:

        class Index(View):  # type: ignore[no-redef]
            methods = ("GET", "POST")

            async def dispatch_request(self) -> str:
                return request.method

    return Index


def make_method_view(kind: str) -> type[MethodView]:
    if kind == "def":

        class Index(MethodView):
            def get(self) -> str:
                return "GET"

            def post(self) -> str:
                return "POST"

    elif kind == "async def":

        class Index(MethodView):  # type: ignore[no-redef]
            async def get(self) -> str:
                return "GET"

            async def post(self) -> str:
                return "POST"

    else:

        class Index(MethodView):  # type: ignore[no-redef]
            async def get(self) -> str:
                return "GET"

            def post(self) -> str:
                return "POST"

    return Index


three_kinds = pytest.mark.parametrize("kind", ["def", "async def", "mixed"])


# -- View ------------------------------------------------------------------------


@both_kinds
def test_a_view_dispatches_its_methods(app: Flask, kind: str) -> None:
    app.add_url_rule("/", view_func=make_view(kind).as_view("index"))
    check_get_post_view(app)


@both_kinds
def test_the_url_variables_are_the_keyword_arguments(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    class Hello(View):
        def dispatch_request(self, name: str, n: int) -> str:
            return f"Hello {name} {n + 1}"

    class AsyncHello(View):
        async def dispatch_request(self, name: str, n: int) -> str:
            return f"Hello {name} {n + 1}"

    cls = Hello if kind == "def" else AsyncHello
    app.add_url_rule("/hello/<name>/<int:n>", view_func=cls.as_view("hello"))
    assert client.get("/hello/ada/1").data == b"Hello ada 2"


def test_the_default_method_is_get(app: Flask, client: FlaskClient) -> None:
    class Index(View):
        def dispatch_request(self) -> str:
            return "ok"

    app.add_url_rule("/", view_func=Index.as_view("index"))
    assert client.get("/").data == b"ok"
    assert client.post("/").status_code == 405
    assert allowed(client) == ["GET", "HEAD", "OPTIONS"]


def test_a_view_without_dispatch_request_says_what_to_write(
    app: Flask, client: FlaskClient
) -> None:
    app.add_url_rule("/", view_func=View.as_view("index"))
    with pytest.raises(NotImplementedError, match=r"must define dispatch_request"):
        client.get("/")


@both_kinds
def test_as_view_arguments_are_passed_to_the_class(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    class Greeting(View):
        def __init__(self, greeting: str, *, punctuation: str = ".") -> None:
            self.text = f"{greeting}{punctuation}"

        def dispatch_request(self) -> str:
            return self.text

    class AsyncGreeting(Greeting):
        async def dispatch_request(self) -> str:
            return self.text

    cls = Greeting if kind == "def" else AsyncGreeting
    app.add_url_rule("/hi", view_func=cls.as_view("hi", "Hi"))
    app.add_url_rule("/hey", view_func=cls.as_view("hey", "Hey", punctuation="!"))
    assert client.get("/hi").data == b"Hi."
    assert client.get("/hey").data == b"Hey!"


@both_kinds
@pytest.mark.parametrize("init_every_request", [True, False])
def test_init_every_request(
    app: Flask, client: FlaskClient, kind: str, init_every_request: bool
) -> None:
    instances: list[View] = []

    class Count(View):
        def __init__(self) -> None:
            instances.append(self)

        def dispatch_request(self) -> str:
            return str(len(instances))

    class AsyncCount(Count):
        async def dispatch_request(self) -> str:
            return str(len(instances))

    cls = Count if kind == "def" else AsyncCount
    cls.init_every_request = init_every_request
    view = cls.as_view("index")
    assert len(instances) == (0 if init_every_request else 1)
    app.add_url_rule("/", view_func=view)
    assert client.get("/").data == b"1"
    expected = b"2" if init_every_request else b"1"
    assert client.get("/").data == expected


def test_the_view_function_carries_the_class(app: Flask, client: FlaskClient) -> None:
    class Index(View):
        """The index page."""

        methods = ("GET", "POST")
        provide_automatic_options = False

        def dispatch_request(self) -> str:
            return "index"

    view = Index.as_view("index")
    assert view.view_class is Index  # type: ignore[attr-defined]
    assert view.__name__ == "index"
    assert view.__doc__ == "The index page."
    assert view.__module__ == __name__
    assert view.methods == ("GET", "POST")  # type: ignore[attr-defined]
    assert view.provide_automatic_options is False  # type: ignore[attr-defined]
    app.add_url_rule("/", view_func=view)
    assert "index" in app.view_functions


@both_kinds
def test_replacing_view_class_changes_the_class_instantiated(app: Flask, kind: str) -> None:
    index = make_method_view(kind)

    class Broken(MethodView):
        def get(self) -> str:
            raise ZeroDivisionError

        def post(self) -> str:
            raise ZeroDivisionError

    view = Broken.as_view("index")
    view.view_class = index  # type: ignore[attr-defined]
    app.add_url_rule("/", view_func=view)
    check_get_post_view(app)


@both_kinds
def test_decorators_are_applied_in_order(app: Flask, client: FlaskClient, kind: str) -> None:
    """The first decorator is the innermost, as if written last with @."""
    calls: list[str] = []

    def tracing(label: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def decorator(f: Callable[..., Any]) -> Callable[..., Any]:
            if inspect.iscoroutinefunction(f):

                async def async_wrapper(**kwargs: Any) -> Any:
                    calls.append(label)
                    return await f(**kwargs)

                return async_wrapper

            def wrapper(**kwargs: Any) -> Any:
                calls.append(label)
                return f(**kwargs)

            return wrapper

        return decorator

    base = make_view(kind)

    class Index(base):  # type: ignore[valid-type, misc]
        decorators: ClassVar[list[Callable[..., Any]]] = [tracing("inner"), tracing("outer")]

    view = Index.as_view("index")
    assert view.__name__ == "index"
    app.add_url_rule("/", view_func=view)
    assert client.get("/").data == b"GET"
    assert calls == ["outer", "inner"]


@pytest.mark.parametrize("kind", ["def", "mixed"])
def test_a_decorator_sees_the_views_result(app: Flask, client: FlaskClient, kind: str) -> None:
    """A plain ``def`` decorator post-processing the result (Flask's
    ``X-Parachute`` test) works, even for a class mixing ``async def``
    handlers with ``def`` ones."""

    def add_x_parachute(f: Callable[..., Any]) -> Callable[..., Any]:
        def new_function(*args: Any, **kwargs: Any) -> Response:
            resp = make_response(f(*args, **kwargs))
            resp.headers["X-Parachute"] = "awesome"
            return resp

        return new_function

    base = make_method_view(kind)

    class Index(base):  # type: ignore[valid-type, misc]
        decorators: ClassVar[list[Callable[..., Any]]] = [add_x_parachute]

    app.add_url_rule("/", view_func=Index.as_view("index"))
    for method in ("get", "post"):
        response = getattr(client, method)("/")
        assert response.headers["X-Parachute"] == "awesome"
        assert response.data == method.upper().encode()


def test_a_checking_def_decorator_works_on_an_all_async_class(
    app: Flask, client: FlaskClient
) -> None:
    """A ``login_required``-style decorator returns ``view(**kwargs)``
    unchanged: the coroutine of an async view is awaited on the event loop."""

    def login_required(f: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(**kwargs: Any) -> Any:
            if request.args.get("user") is None:
                return "log in first", 401
            return f(**kwargs)

        return wrapper

    base = make_method_view("async def")

    class Index(base):  # type: ignore[valid-type, misc]
        decorators: ClassVar[list[Callable[..., Any]]] = [login_required]

    app.add_url_rule("/", view_func=Index.as_view("index"))
    assert client.get("/").status_code == 401
    assert client.get("/?user=ada").data == b"GET"
    assert client.post("/?user=ada").data == b"POST"


def test_provide_automatic_options(app: Flask) -> None:
    class NoOptions(View):
        provide_automatic_options = False

        def dispatch_request(self) -> str:
            return "Hello World!"

    class OnlyOptions(View):
        methods = ("OPTIONS",)
        provide_automatic_options = True

        def dispatch_request(self) -> str:
            return "Hello World!"

    class Default(View):
        def dispatch_request(self) -> str:
            return "Hello World!"

    app.add_url_rule("/no", view_func=NoOptions.as_view("no"))
    app.add_url_rule("/only", view_func=OnlyOptions.as_view("only"))
    app.add_url_rule("/default", view_func=Default.as_view("default"))
    client = app.test_client()
    assert client.open("/no", method="OPTIONS").status_code == 405
    assert allowed(client, "/only") == ["OPTIONS"]
    assert "OPTIONS" in allowed(client, "/default")


def test_registering_another_view_under_an_endpoint_raises(app: Flask) -> None:
    index = make_view("def")
    app.add_url_rule("/", view_func=index.as_view("index"))
    with pytest.raises(AssertionError, match="overwriting an existing endpoint"):
        app.add_url_rule("/", view_func=index.as_view("index"))
    check_get_post_view(app)


@both_kinds
def test_a_view_in_a_blueprint(app: Flask, client: FlaskClient, kind: str) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/bp")
    bp.add_url_rule("/", view_func=make_method_view(kind).as_view("index"))
    app.register_blueprint(bp)
    assert client.get("/bp/").data == b"GET"
    assert client.post("/bp/").data == b"POST"
    assert "bp.index" in app.view_functions


# -- MethodView ------------------------------------------------------------------


@three_kinds
def test_a_method_view_dispatches_to_its_methods(app: Flask, kind: str) -> None:
    index = make_method_view(kind)
    assert index.methods == {"GET", "POST"}
    app.add_url_rule("/", view_func=index.as_view("index"))
    check_get_post_view(app)


@both_kinds
def test_methods_are_inherited(app: Flask, client: FlaskClient, kind: str) -> None:
    class BetterIndex(make_method_view(kind)):  # type: ignore[misc]
        def delete(self) -> str:
            return "DELETE"

    assert BetterIndex.methods == {"GET", "POST", "DELETE"}
    app.add_url_rule("/", view_func=BetterIndex.as_view("index"))
    assert allowed(client) == ["DELETE", "GET", "HEAD", "OPTIONS", "POST"]
    assert client.delete("/").data == b"DELETE"
    assert client.get("/").data == b"GET"


@both_kinds
def test_methods_listed_on_a_base_are_kept(app: Flask, client: FlaskClient, kind: str) -> None:
    """A method outside Flask's list (PROPFIND) handled by a ``def``
    handler next to an ``async def`` ``get``."""

    class BaseView(MethodView):
        methods = ("GET", "PROPFIND")

    class ChildView(BaseView):
        def get(self) -> str:
            return "GET"

        def propfind(self) -> str:
            return "PROPFIND"

    class MixedChildView(BaseView):
        async def get(self) -> str:
            return "GET"

        def propfind(self) -> str:
            return "PROPFIND"

    cls = ChildView if kind == "def" else MixedChildView
    app.add_url_rule("/", view_func=cls.as_view("index"))
    assert client.get("/").data == b"GET"
    assert client.open("/", method="PROPFIND").data == b"PROPFIND"
    assert cls.methods == {"PROPFIND", "GET"}


def test_multiple_inheritance(app: Flask, client: FlaskClient) -> None:
    class GetView(MethodView):
        async def get(self) -> str:
            return "GET"

    class DeleteView(MethodView):
        def delete(self) -> str:
            return "DELETE"

    class GetDeleteView(GetView, DeleteView):
        pass

    app.add_url_rule("/", view_func=GetDeleteView.as_view("index"))
    assert client.get("/").data == b"GET"
    assert client.delete("/").data == b"DELETE"
    assert sorted(GetDeleteView.methods or ()) == ["DELETE", "GET"]


def test_setting_methods_removes_a_base_method(app: Flask, client: FlaskClient) -> None:
    class GetView(MethodView):
        def get(self) -> str:
            return "GET"

    class OtherView(MethodView):
        def post(self) -> str:
            return "POST"

    class OnlyGet(GetView, OtherView):
        methods = ("GET",)

    app.add_url_rule("/", view_func=OnlyGet.as_view("index"))
    assert client.get("/").data == b"GET"
    assert client.post("/").status_code == 405
    assert sorted(OnlyGet.methods) == ["GET"]


@both_kinds
def test_an_unimplemented_method_is_405_with_allow(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    app.add_url_rule("/", view_func=make_method_view(kind).as_view("index"))
    for method in ("PUT", "DELETE", "PATCH"):
        response = client.open("/", method=method)
        assert response.status_code == 405
        assert sorted(response.headers["Allow"].split(", ")) == ["GET", "HEAD", "OPTIONS", "POST"]


def test_a_listed_method_without_a_handler_says_what_to_write(
    app: Flask, client: FlaskClient
) -> None:
    class Index(MethodView):
        methods = ("GET", "POST")

        def get(self) -> str:
            return "GET"

    app.add_url_rule("/", view_func=Index.as_view("index"))
    with pytest.raises(AssertionError, match=r"no 'post' method.*def post\(self\)"):
        client.post("/")


@both_kinds
def test_head_falls_back_to_get(app: Flask, client: FlaskClient, kind: str) -> None:
    def get(self: Any) -> Response:
        return Response("Blub", headers={"X-Method": request.method})

    async def async_get(self: Any) -> Response:
        return get(self)

    index = type("Index", (MethodView,), {"get": get if kind == "def" else async_get})
    assert index.methods == {"GET"}
    app.add_url_rule("/", view_func=index.as_view("index"))
    response = client.get("/")
    assert response.data == b"Blub"
    assert response.headers["X-Method"] == "GET"
    response = client.head("/")
    assert response.data == b""
    assert response.headers["X-Method"] == "HEAD"


@three_kinds
def test_an_explicit_head_is_used(app: Flask, client: FlaskClient, kind: str) -> None:
    class Index(make_method_view(kind)):  # type: ignore[misc]
        async def head(self) -> Response:
            return Response("", headers={"X-Method": "HEAD"})

    app.add_url_rule("/", view_func=Index.as_view("index"))
    assert client.get("/").data == b"GET"
    response = client.head("/")
    assert response.data == b""
    assert response.headers["X-Method"] == "HEAD"


def test_http_method_funcs_lists_flasks_methods() -> None:
    assert http_method_funcs == {
        "get",
        "post",
        "head",
        "options",
        "delete",
        "put",
        "trace",
        "patch",
    }


def test_an_overridden_dispatch_request_decides_the_kind(app: Flask, client: FlaskClient) -> None:
    """A ``def`` override calling ``super().dispatch_request()`` gets the
    result of an ``async def`` handler, as in Flask; an ``async def``
    override awaits it."""

    class SyncOverride(MethodView):
        async def get(self) -> str:
            return "GET"

        def dispatch_request(self, **kwargs: Any) -> Any:
            return f"sync override: {super().dispatch_request(**kwargs)}"

    class AsyncOverride(MethodView):
        async def get(self) -> str:
            return "GET"

        async def dispatch_request(self, **kwargs: Any) -> Any:
            return f"async override: {await super().dispatch_request(**kwargs)}"

    sync_view = SyncOverride.as_view("sync")
    async_view = AsyncOverride.as_view("async")
    assert not inspect.iscoroutinefunction(sync_view)
    assert inspect.iscoroutinefunction(async_view)
    app.add_url_rule("/sync", view_func=sync_view)
    app.add_url_rule("/async", view_func=async_view)
    assert client.get("/sync").data == b"sync override: GET"
    assert client.get("/async").data == b"async override: GET"


# -- where handlers run ----------------------------------------------------------


def record_thread(name: str) -> None:
    g.threads[name] = (threading.current_thread(), in_worker_thread())


def test_an_all_async_class_never_uses_a_worker_thread(app: Flask, client: FlaskClient) -> None:
    class AsyncView(View):
        async def dispatch_request(self) -> str:
            record_thread("view")
            return "ok"

    class AsyncMethods(MethodView):
        async def get(self) -> str:
            record_thread("view")
            return "ok"

        async def post(self) -> str:
            record_thread("view")
            return "ok"

    @app.before_request
    async def loop_thread() -> None:
        g.threads = {}
        record_thread("loop")

    @app.after_request
    async def check(response: Response) -> Response:
        loop, loop_in_worker = g.threads["loop"]
        view, view_in_worker = g.threads["view"]
        assert not loop_in_worker and not view_in_worker
        assert view is loop
        response.headers["X-Checked"] = "yes"
        return response

    for cls in (AsyncView, AsyncMethods):
        view = cls.as_view(cls.__name__)
        assert inspect.iscoroutinefunction(view)
        app.add_url_rule(f"/{cls.__name__}", view_func=view)
    assert client.get("/AsyncView").headers["X-Checked"] == "yes"
    assert client.get("/AsyncMethods").headers["X-Checked"] == "yes"
    assert client.post("/AsyncMethods").headers["X-Checked"] == "yes"


def test_sync_handlers_run_on_the_requests_worker_thread(app: Flask, client: FlaskClient) -> None:
    """In a class mixing kinds, ``def`` handlers run on the request's worker
    thread and ``async def`` ones on the event loop."""

    class SyncView(View):
        def dispatch_request(self) -> str:
            record_thread("view")
            return "sync view"

    class Mixed(MethodView):
        async def get(self) -> str:
            record_thread("view")
            return "async get"

        def post(self) -> str:
            record_thread("view")
            return "sync post"

    @app.before_request
    async def loop_thread() -> None:
        g.threads = {}
        record_thread("loop")

    @app.before_request
    def worker_thread() -> None:
        record_thread("worker")

    @app.after_request
    def report(response: Response) -> Response:
        loop, _ = g.threads["loop"]
        worker, worker_in_worker = g.threads["worker"]
        view, view_in_worker = g.threads["view"]
        assert worker_in_worker and worker is not loop
        where = "loop" if view is loop else "worker" if view is worker else "elsewhere"
        response.headers["X-Where"] = f"{where} {view_in_worker}"
        return response

    for cls in (SyncView, Mixed):
        view = cls.as_view(cls.__name__)
        assert not inspect.iscoroutinefunction(view)
        app.add_url_rule(f"/{cls.__name__}", view_func=view)
    assert client.get("/SyncView").headers["X-Where"] == "worker True"
    assert client.post("/Mixed").headers["X-Where"] == "worker True"
    assert client.get("/Mixed").headers["X-Where"] == "loop False"
    assert client.get("/Mixed").data == b"async get"
