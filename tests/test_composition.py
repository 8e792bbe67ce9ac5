"""Composition (``flaskish.composition``): ``app.mount()`` of ASGI and WSGI
apps with their lifespans, ``app.add_middleware()`` with Starlette's
middleware, ``app.state`` and ``request.state``, and a flaskish app inside
an outer Starlette app with ``lifespan=app.lifespan``."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from types import ModuleType
from typing import Any

import anyio
import httpx2 as httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request as StarletteRequest
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from flaskish import Flask, ProxyFix, current_app, g, request, url_for


def starlette_app(events: list[str] | None = None, name: str = "api") -> Starlette:
    """A Starlette app with a page naming its own URLs, a websocket echo,
    and a lifespan that records itself and puts ``db`` in the state."""

    async def page(req: StarletteRequest) -> JSONResponse:
        return JSONResponse(
            {
                "path": req.url.path,
                "root_path": req.scope["root_path"],
                "item": req.path_params.get("item"),
                "url": str(req.url_for("item", item=7)),
                "db": getattr(req.state, "db", None),
            }
        )

    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("echo " + await ws.receive_text())
        await ws.close()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        if events is not None:
            events.append(f"{name} up")
        yield {"db": f"{name} db"}
        if events is not None:
            events.append(f"{name} down")

    return Starlette(
        routes=[
            Route("/", page),
            Route("/items/{item:int}", page, name="item"),
            WebSocketRoute("/ws", echo),
        ],
        lifespan=lifespan,
    )


@pytest.fixture
def flask() -> ModuleType:
    return pytest.importorskip("flask")


# -- mounting ASGI apps ---------------------------------------------------------


def test_a_mounted_starlette_app_routes_below_its_prefix_and_builds_prefixed_urls(
    app: Flask,
) -> None:
    app.mount("/api", starlette_app())

    @app.route("/")
    def index() -> str:
        return "flaskish"

    with app.test_client() as client:
        assert client.get("/").text == "flaskish"
        page = client.get("/api/items/3").json
        assert page == {
            "path": "/api/items/3",
            "root_path": "/api",
            "item": 3,
            "url": "http://localhost/api/items/7",
            "db": "api db",
        }
        assert client.get("/api/").json["path"] == "/api/"
        assert client.get("/api/nothing").status_code == 404  # Starlette's own 404
        assert client.get("/apix").status_code == 404  # not below /api: flaskish's 404
        assert "Not Found" in client.get("/apix").text


def test_a_mounted_app_keeps_the_servers_root_path(app: Flask) -> None:
    app.mount("/api", starlette_app())
    with TestClient(app, root_path="/site") as client:
        page = client.get("/site/api/items/1").json()
    assert page["root_path"] == "/site/api"
    assert page["url"] == "http://testserver/site/api/items/7"


def test_the_longest_mount_path_wins(app: Flask) -> None:
    async def named(text: str) -> Any:
        async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
            await PlainTextResponse(f"{text} {scope['root_path']}")(scope, receive, send)

        return asgi

    app.mount("/a", anyio.run(named, "short"))
    app.mount("/a/b", anyio.run(named, "long"))
    client = app.test_client()
    assert client.get("/a/x").text == "short /a"
    assert client.get("/a/b/x").text == "long /a/b"
    assert client.get("/a/bc").text == "short /a"


def test_a_mounted_fastapi_app_routes_and_builds_urls(app: Flask) -> None:
    import fastapi

    api = fastapi.FastAPI()

    async def user(user_id, req):  # annotated below
        return {"id": user_id, "self": str(req.url_for("user", user_id=user_id))}

    # Real classes, not this module's postponed annotation strings, which
    # FastAPI would resolve in the module's globals.
    user.__annotations__ = {"user_id": int, "req": fastapi.Request, "return": dict}
    api.get("/users/{user_id}")(user)
    app.mount("/v1", api)
    client = app.test_client()
    assert client.get("/v1/users/5").json == {"id": 5, "self": "http://localhost/v1/users/5"}
    assert client.get("/v1/openapi.json").json["paths"].keys() == {"/users/{user_id}"}


def test_a_mounted_flaskish_app_builds_urls_under_the_mount_and_runs_its_hooks(
    app: Flask,
) -> None:
    inner = Flask("inner")
    events: list[str] = []

    @inner.before_serving
    def up() -> None:
        events.append("inner up")

    @inner.route("/hello/<name>")
    def hello(name: str) -> dict[str, str]:
        return {
            "url": url_for("hello", name="ada"),
            "root": request.root_path,
            "path": request.path,
            "app": current_app.name,
        }

    app.mount("/inner", inner)
    with app.test_client() as client:
        assert client.get("/inner/hello/bob").json == {
            "url": "/inner/hello/ada",
            "root": "/inner",
            "path": "/hello/bob",
            "app": "inner",
        }
    assert events == ["inner up"]


def test_a_websocket_reaches_a_mounted_starlette_route(app: Flask) -> None:
    app.mount("/api", starlette_app())
    with app.test_client().websocket("/api/ws") as ws:
        ws.send("hi")
        assert ws.receive() == "echo hi"


# -- mounting WSGI apps ---------------------------------------------------------


def test_a_mounted_flask_app_runs_through_a2wsgi_with_its_script_name(
    app: Flask, flask: ModuleType
) -> None:
    legacy = flask.Flask("legacy")

    @legacy.route("/page/<int:number>", methods=["GET", "POST"])
    def page(number: int) -> Any:
        req = flask.request
        return flask.jsonify(
            number=number,
            script_root=req.script_root,
            path=req.path,
            next=flask.url_for("page", number=number + 1),
            form=req.form.to_dict(),
            host=req.host,
        )

    app.mount("/legacy", legacy)
    client = app.test_client()
    assert client.get("/legacy/page/1").json == {
        "number": 1,
        "script_root": "/legacy",
        "path": "/page/1",
        "next": "/legacy/page/2",
        "form": {},
        "host": "localhost",
    }
    assert client.post("/legacy/page/4", data={"a": "b"}).json["form"] == {"a": "b"}
    assert client.get("/legacy/nothing").status_code == 404


def test_a_plain_wsgi_callable_is_mounted_as_wsgi(app: Flask) -> None:
    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"{environ['SCRIPT_NAME']}|{environ['PATH_INFO']}".encode()]

    app.mount("/w", wsgi)
    assert app.test_client().get("/w/a/b").text == "/w|/a/b"


# -- mounted lifespans -------------------------------------------------------------


def test_mounted_lifespans_run_inside_the_apps_own_in_order(app: Flask) -> None:
    events: list[str] = []
    app.mount("/one", starlette_app(events, "one"))
    app.mount("/two", starlette_app(events, "two"))

    @app.while_serving
    def serving() -> Iterator[None]:
        events.append("flaskish up")
        yield
        events.append("flaskish down")

    with app.test_client() as client:
        assert events == ["flaskish up", "one up", "two up"]
        assert client.get("/two/").json["db"] == "two db"
    assert events[3:] == ["two down", "one down", "flaskish down"]


def test_a_mounted_app_without_lifespan_support_is_skipped(app: Flask) -> None:
    async def no_lifespan(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise RuntimeError("only HTTP here")
        await PlainTextResponse("plain")(scope, receive, send)

    app.mount("/plain", no_lifespan)
    started: list[bool] = []
    app.before_serving(lambda: started.append(True))
    with app.test_client() as client:
        assert client.get("/plain/x").text == "plain"
    assert started == [True]


def test_a_mounted_app_that_fails_to_start_stops_startup_naming_the_mount(app: Flask) -> None:
    @asynccontextmanager
    async def broken(_: Starlette) -> AsyncIterator[None]:
        raise ConnectionError("no database")
        yield

    app.mount("/broken", Starlette(lifespan=broken))
    stopped: list[bool] = []
    app.after_serving(lambda: stopped.append(True))
    expected = "startup failed for the app mounted at '/broken'"
    with pytest.raises(RuntimeError, match=expected) as info, app.test_client():
        pass
    assert "no database" in str(info.value)
    assert stopped == [True]  # the app's own shutdown hooks still ran


@pytest.mark.anyio
async def test_an_async_client_raises_the_apps_own_startup_error(app: Flask) -> None:
    @app.before_serving
    def boom() -> None:
        raise LookupError("missing config")

    with pytest.raises(LookupError, match="missing config"):
        async with app.test_client():
            pass


@pytest.mark.anyio
async def test_the_async_client_passes_the_lifespan_state_to_requests(app: Flask) -> None:
    app.mount("/api", starlette_app())

    @app.route("/")
    def index() -> dict[str, Any]:
        return {"db": request.state.db}

    async with app.test_client() as client:
        assert (await client.get("/")).json == {"db": "api db"}
        assert (await client.get("/api/")).json["db"] == "api db"


# -- errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("api", "starts with '/'"),
        ("/api/", "no trailing slash"),
        ("/", "cannot be mounted at '/'"),
        ("/<name>", "without variables"),
        ("/a//b", "empty segments"),
    ],
)
def test_a_bad_mount_path_is_refused(app: Flask, path: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        app.mount(path, starlette_app())


def test_a_mount_over_a_rule_is_refused_whichever_comes_first(app: Flask) -> None:
    @app.route("/api/users")
    def users() -> str:
        return ""

    with pytest.raises(ValueError, match=r"The rule '/api/users' .* under the mount path '/api'"):
        app.mount("/api", starlette_app())
    with pytest.raises(ValueError, match="The rule '/static/<path:filename>'"):
        app.mount("/static", starlette_app())

    later = Flask("later")
    later.mount("/api", starlette_app())
    later.add_url_rule("/api/x", "x", lambda: "x")
    with pytest.raises(ValueError, match="The rule '/api/x'"):
        later.test_client().get("/")


def test_mounting_twice_at_one_path_or_a_non_app_is_refused(app: Flask) -> None:
    app.mount("/api", starlette_app())
    with pytest.raises(ValueError, match="'/api' is already mounted"):
        app.mount("/api", starlette_app())
    with pytest.raises(TypeError, match="neither"):
        app.mount("/x", "not an app")
    with pytest.raises(ValueError, match="in itself"):
        app.mount("/self", app)


def test_mounting_after_the_first_request_is_refused(app: Flask) -> None:
    app.test_client().get("/")
    with pytest.raises(RuntimeError, match="Apps must be mounted before the app serves"):
        app.mount("/api", starlette_app())


# -- middleware -----------------------------------------------------------------------


def test_cors_middleware_answers_preflights_and_marks_responses(app: Flask) -> None:
    app.add_middleware(
        CORSMiddleware, allow_origins=["https://example.com"], allow_methods=["GET", "POST"]
    )

    @app.post("/data")
    def data() -> dict[str, int]:
        return {"a": 1}

    client = app.test_client()
    preflight = client.options(
        "/data", headers={"Origin": "https://example.com", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://example.com"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    simple = client.post("/data", headers={"Origin": "https://example.com"})
    assert simple.json == {"a": 1}
    assert simple.headers["Access-Control-Allow-Origin"] == "https://example.com"
    assert "Access-Control-Allow-Origin" not in client.post("/data").headers


def test_gzip_middleware_compresses_large_responses_and_keeps_streams_streaming(
    app: Flask,
) -> None:
    app.add_middleware(GZipMiddleware, minimum_size=500)

    @app.route("/big")
    def big() -> str:
        return "x" * 10_000

    @app.route("/small")
    def small() -> str:
        return "x"

    @app.route("/stream")
    async def stream() -> Any:
        async def chunks() -> AsyncIterator[str]:
            for _ in range(3):
                yield "y" * 1000

        return chunks()

    seen: list[bytes] = []
    with TestClient(app) as client:
        response = client.get("/big", headers={"Accept-Encoding": "gzip"})
        assert response.headers["Content-Encoding"] == "gzip"
        assert response.text == "x" * 10_000
        assert "Content-Encoding" not in client.get("/small").headers
        with client.stream("GET", "/stream", headers={"Accept-Encoding": "gzip"}) as streamed:
            assert streamed.headers["Content-Encoding"] == "gzip"
            assert "Content-Length" not in streamed.headers
            seen.extend(streamed.iter_raw())
    assert gzip.decompress(b"".join(seen)) == b"y" * 3000


def test_trusted_host_middleware_refuses_other_hosts(app: Flask) -> None:
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["example.com"])
    app.add_url_rule("/", "index", lambda: "ok")
    client = app.test_client()
    assert client.get("/", base_url="http://example.com").text == "ok"
    refused = client.get("/", base_url="http://evil.test")
    assert (refused.status_code, refused.text) == (400, "Invalid host header")


class Recorder:
    """A pure ASGI middleware that records what passes and tags responses."""

    def __init__(self, app: Any, tag: str, seen: list[str]) -> None:
        self.app, self.tag, self.seen = app, tag, seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.seen.append(f"{self.tag} {scope['type']}")

        async def tagged(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"x-via", self.tag.encode())]
            await send(message)

        await self.app(scope, receive, tagged)


def test_the_last_middleware_added_is_the_outermost_and_sees_the_lifespan(app: Flask) -> None:
    seen: list[str] = []
    app.add_middleware(Recorder, "inner", seen)
    app.add_middleware(Recorder, tag="outer", seen=seen)
    app.add_url_rule("/", "index", lambda: "ok")
    with app.test_client() as client:
        response = client.get("/")
    assert response.headers.getlist("X-Via") == ["inner", "outer"]
    assert seen == ["outer lifespan", "inner lifespan", "outer http", "inner http"]


def test_middleware_wrap_mounted_apps_and_proxy_fix_on_asgi_app(app: Flask) -> None:
    seen: list[str] = []
    app.asgi_app = ProxyFix(app.asgi_app, x_for=1)
    app.add_middleware(Recorder, "mw", seen)
    app.mount("/api", starlette_app())

    @app.route("/")
    def index() -> str:
        return str(request.remote_addr)

    client = app.test_client()
    assert client.get("/", headers={"X-Forwarded-For": "203.0.113.9"}).text == "203.0.113.9"
    assert client.get("/api/").headers["X-Via"] == "mw"
    # Wrapping asgi_app after the first request still takes effect, inside the middleware.
    app.asgi_app = ProxyFix(app.asgi_app.app, x_for=0)
    response = client.get("/", headers={"X-Forwarded-For": "203.0.113.9"})
    assert (response.text, response.headers["X-Via"]) == ("127.0.0.1", "mw")


def test_the_header_limit_comes_before_middleware_and_wsgi_middleware_goes_outside(
    app: Flask,
) -> None:
    seen: list[str] = []
    app.add_middleware(Recorder, "asgi", seen)
    app.add_url_rule("/", "index", lambda: "ok")
    app.config["MAX_REQUEST_HEADERS"] = 5
    client = app.test_client()
    assert client.get("/", headers={f"X-{i}": "1" for i in range(10)}).status_code == 431
    assert seen == []

    def wsgi_middleware(wsgi: Any) -> Any:
        def call(environ: dict[str, Any], start_response: Any) -> Any:
            seen.append("wsgi")
            return wsgi(environ, start_response)

        return call

    app.wsgi_app = wsgi_middleware(app.wsgi_app)
    response = client.get("/")
    assert (response.text, response.headers["X-Via"]) == ("ok", "asgi")
    assert seen == ["wsgi", "asgi http"]


def test_adding_middleware_after_serving_started_is_refused(app: Flask) -> None:
    app.add_middleware(Recorder, "a", [])
    app.test_client().get("/")
    with pytest.raises(
        RuntimeError,
        match=r"Middleware must be added before the app serves its "
        r"first request .* add it at import time or in create_app",
    ):
        app.add_middleware(Recorder, "b", [])

    other = Flask("other")
    with other.test_client():  # the lifespan alone starts serving
        with pytest.raises(RuntimeError, match="Middleware must be added"):
            other.add_middleware(Recorder, "b", [])
    with pytest.raises(TypeError, match="takes the middleware class"):
        Flask("third").add_middleware("CORSMiddleware")


# -- state ------------------------------------------------------------------------------


def test_app_state_holds_process_wide_objects(app: Flask) -> None:
    @app.before_serving
    async def connect() -> None:
        app.state.pool = ["connection"]

    @app.route("/")
    def index() -> dict[str, Any]:
        return {"pool": current_app.state.pool}

    with app.test_client() as client:
        assert client.get("/").json == {"pool": ["connection"]}


def test_request_state_is_the_per_request_copy_of_the_lifespan_state(app: Flask) -> None:
    app.mount("/api", starlette_app())

    @app.route("/")
    def index() -> dict[str, Any]:
        before = getattr(request.state, "mark", None)
        request.state.mark = "set in this request"
        g.state = request.state
        return {"db": request.state.db, "mark": before}

    with app.test_client() as client:
        assert client.get("/").json == {"db": "api db", "mark": None}
        assert client.get("/").json == {"db": "api db", "mark": None}
    # Outside a server, the scope has no state: an empty one.
    with app.test_request_context("/"):
        assert getattr(request.state, "db", None) is None


# -- inside an outer Starlette app --------------------------------------------------------


def outer_flaskish(events: list[str]) -> Flask:
    inner = Flask("wrapped")

    @inner.before_serving
    def up() -> None:
        events.append("before_serving")

    @inner.route("/page")
    def page() -> dict[str, Any]:
        return {"url": url_for("page"), "events": events}

    return inner


def test_an_outer_starlette_app_drops_the_lifespan_unless_given_app_lifespan() -> None:
    events: list[str] = []
    inner = outer_flaskish(events)
    with TestClient(Starlette(routes=[Mount("/app", app=inner)])) as client:
        assert client.get("/app/page").json() == {"url": "/app/page", "events": []}

    outer = Starlette(routes=[Mount("/app", app=inner)], lifespan=inner.lifespan)
    with TestClient(outer) as client:
        assert client.get("/app/page").json() == {"url": "/app/page", "events": ["before_serving"]}


# -- a real server ------------------------------------------------------------------------


def test_mounts_middleware_and_state_under_a_real_server(
    app: Flask, live_server: Any, flask: ModuleType
) -> None:
    events: list[str] = []
    legacy = flask.Flask("legacy")
    legacy.add_url_rule("/", "home", lambda: flask.url_for("home"))
    app.mount("/api", starlette_app(events))
    app.mount("/legacy", legacy)
    app.add_middleware(GZipMiddleware, minimum_size=100)

    @app.route("/")
    async def index() -> dict[str, Any]:
        return {"db": request.state.db, "events": events, "pad": "x" * 200}

    with live_server(app) as server:
        home = httpx.get(server.url + "/", headers={"Accept-Encoding": "gzip"})
        assert home.headers["Content-Encoding"] == "gzip"
        assert home.json()["db"] == "api db"
        assert httpx.get(server.url + "/api/items/2").json()["url"] == (f"{server.url}/api/items/7")
        assert httpx.get(server.url + "/legacy/").text == "/legacy/"
    assert events == ["api up", "api down"]
