"""Websockets through the test client: ``@app.websocket`` handlers, ``def``
and ``async def``, the ``websocket`` proxy, messages, accepting and
refusing, errors, disconnects and the hooks around a connection.
(``test_websockets_live.py`` runs them on a real uvicorn.)"""

from __future__ import annotations

import threading
from typing import Any

import anyio
import pytest

from flaskish import Blueprint, Flask, abort, g, request, session, url_for, websocket
from flaskish.exceptions import WebSocketDisconnect
from flaskish.testing import FlaskClient, WebsocketDenied
from tests.kinds import both_kinds


def echo_handler(app: Flask, kind: str, rule: str = "/ws") -> None:
    """An echo handler of *kind* at *rule*."""
    if kind == "def":

        @app.websocket(rule)
        def echo() -> None:
            while True:
                websocket.send(websocket.receive())

    else:

        @app.websocket(rule)
        async def echo() -> None:
            while True:
                await websocket.send(await websocket.receive())


@both_kinds
def test_echo_of_text_and_binary_messages(app: Flask, client: FlaskClient, kind: str) -> None:
    echo_handler(app, kind)
    with client.websocket("/ws") as ws:
        ws.send("hello")
        assert ws.receive() == "hello"
        ws.send(b"\x00\xff")
        assert ws.receive() == b"\x00\xff"


@both_kinds
def test_json_messages_both_ways(app: Flask, client: FlaskClient, kind: str) -> None:
    if kind == "def":

        @app.websocket("/ws")
        def handler() -> None:
            data = websocket.receive_json()
            websocket.send_json({"got": data, "n": len(data)})

    else:

        @app.websocket("/ws")
        async def handler() -> None:
            data = await websocket.receive_json()
            await websocket.send_json({"got": data, "n": len(data)})

    with client.websocket("/ws") as ws:
        ws.send_json([1, "two"])
        assert ws.receive_json() == {"got": [1, "two"], "n": 2}


@both_kinds
def test_the_proxy_has_the_handshake_request(app: Flask, client: FlaskClient, kind: str) -> None:
    """``path``, ``args``, ``headers``, ``cookies``, ``scheme``, the
    subprotocols offered, the view arguments; ``request`` is the same
    object, and ``g`` and ``session`` can be read."""

    @app.before_websocket
    def before() -> None:
        g.user = "ann"

    def describe(room: int) -> dict[str, Any]:
        return {
            "path": websocket.path, "room": room, "args": websocket.args.to_dict(),
            "header": websocket.headers.get("X-Token"),
            "cookie": websocket.cookies.get("flavour"), "scheme": websocket.scheme,
            "offered": websocket.requested_subprotocols,
            "also": websocket.subprotocols, "same": request._get_current_object() is (
                websocket._get_current_object()  # type: ignore[attr-defined]
            ),
            "g": g.user, "session": session.get("uid"), "endpoint": websocket.endpoint,
        }

    if kind == "def":

        @app.websocket("/rooms/<int:room>")
        def room(room: int) -> None:
            websocket.send_json(describe(room))

    else:

        @app.websocket("/rooms/<int:room>")
        async def room(room: int) -> None:
            await websocket.send_json(describe(room))

    with client.session_transaction() as sess:
        sess["uid"] = 7
    client.set_cookie("flavour", "mint")
    with client.websocket(
        "/rooms/12", subprotocols=["a", "b"], headers={"X-Token": "t1"},
        query_string={"q": "x"},
    ) as ws:
        assert ws.receive_json() == {
            "path": "/rooms/12", "room": 12, "args": {"q": "x"}, "header": "t1",
            "cookie": "mint", "scheme": "ws", "offered": ["a", "b"], "also": ["a", "b"],
            "same": True, "g": "ann", "session": 7, "endpoint": "room",
        }
    with client.websocket("/rooms/1?q=y") as ws:
        assert ws.receive_json()["args"] == {"q": "y"}


@both_kinds
def test_accept_with_a_subprotocol_and_headers(app: Flask, client: FlaskClient, kind: str) -> None:
    if kind == "def":

        @app.websocket("/ws")
        def handler() -> None:
            websocket.accept(headers={"X-Room": "7"}, subprotocol="b")
            websocket.send(websocket.subprotocol or "")

    else:

        @app.websocket("/ws")
        async def handler() -> None:
            await websocket.accept(headers=[("X-Room", "7")], subprotocol="b")
            await websocket.send(websocket.subprotocol or "")

    with client.websocket("/ws", subprotocols=["a", "b"]) as ws:
        assert ws.subprotocol == "b"
        assert ws.headers["x-room"] == "7"
        assert ws.receive() == "b"


def test_accepting_a_subprotocol_the_client_did_not_offer_is_an_error(
    app: Flask, client: FlaskClient
) -> None:
    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept(subprotocol="c")

    with pytest.raises(ValueError, match=r"did not offer the subprotocol 'c'.*\['a'\]"):
        with client.websocket("/ws", subprotocols=["a"]):
            pass  # pragma: no cover


@both_kinds
def test_receive_with_a_timeout_gives_none(app: Flask, client: FlaskClient, kind: str) -> None:
    if kind == "def":

        @app.websocket("/ws")
        def handler() -> None:
            websocket.send(repr(websocket.receive(timeout=0.01)))
            websocket.send(repr(websocket.receive_json(timeout=5)))

    else:

        @app.websocket("/ws")
        async def handler() -> None:
            await websocket.send(repr(await websocket.receive(timeout=0.01)))
            await websocket.send(repr(await websocket.receive_json(timeout=5)))

    with client.websocket("/ws") as ws:
        assert ws.receive() == "None"
        ws.send_json({"a": 1})
        assert ws.receive() == "{'a': 1}"


@both_kinds
def test_the_app_closing_is_seen_by_the_client(app: Flask, client: FlaskClient, kind: str) -> None:
    if kind == "def":

        @app.websocket("/ws")
        def handler() -> None:
            websocket.send("bye")
            websocket.close(4000, "done")
            websocket.close()  # closing again does nothing

    else:

        @app.websocket("/ws")
        async def handler() -> None:
            await websocket.send("bye")
            await websocket.close(4000, "done")
            await websocket.close()

    with client.websocket("/ws") as ws:
        assert ws.receive() == "bye"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive()
        assert (closed.value.code, closed.value.reason) == (4000, "done")


@both_kinds
def test_a_handler_that_returns_closes_with_1000(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    if kind == "def":
        app.websocket("/ws")(lambda: websocket.send("only"))
    else:

        @app.websocket("/ws")
        async def handler() -> None:
            await websocket.send("only")

    with client.websocket("/ws") as ws:
        assert ws.receive() == "only"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive()
        assert closed.value.code == 1000


def test_send_takes_str_or_bytes_only(app: Flask, client: FlaskClient) -> None:
    @app.websocket("/ws")
    async def handler() -> None:
        try:
            await websocket.send(42)  # type: ignore[arg-type]
        except TypeError as exc:
            await websocket.send(str(exc))

    with client.websocket("/ws") as ws:
        assert "send_json(obj)" in str(ws.receive())


# -- disconnects ------------------------------------------------------------


@both_kinds
def test_the_client_closing_raises_websocket_disconnect_with_its_code(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    seen: list[Any] = []
    done = threading.Event()

    @app.teardown_websocket
    def teardown(exc: BaseException | None) -> None:
        seen.append(("teardown", exc))
        done.set()

    if kind == "def":

        @app.websocket("/ws")
        def handler() -> None:
            try:
                websocket.receive()
            except WebSocketDisconnect as exc:
                seen.append(exc.code)
                raise

    else:

        @app.websocket("/ws")
        async def handler() -> None:
            try:
                await websocket.receive()
            except WebSocketDisconnect as exc:
                seen.append(exc.code)
                raise

    with client.websocket("/ws") as ws:
        ws.close(4001)
        assert done.wait(5)
    assert seen == [4001, ("teardown", None)]


def test_an_async_handler_ignoring_the_disconnect_is_cancelled(
    app: Flask, client: FlaskClient
) -> None:
    """It awaits something else than the connection: 0.25 s after the
    client left it is cancelled, and teardown runs."""
    started, done = threading.Event(), threading.Event()
    reached: list[str] = []

    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept()
        started.set()
        await anyio.sleep(30)
        reached.append("after sleep")  # pragma: no cover

    @app.teardown_websocket
    def teardown(exc: BaseException | None) -> None:
        done.set()

    with client.websocket("/ws") as ws:
        assert started.wait(5)
        ws.close(1001)
        assert done.wait(1)
    assert reached == []


def test_a_def_handler_gets_the_disconnect_at_its_next_send(
    app: Flask, client: FlaskClient
) -> None:
    started, go, done = threading.Event(), threading.Event(), threading.Event()
    seen: list[Any] = []

    @app.websocket("/ws")
    def handler() -> None:
        websocket.accept()
        started.set()
        go.wait(5)  # busy with something else than the connection
        try:
            websocket.send("late")
        except WebSocketDisconnect as exc:
            seen.append(exc.code)
        done.set()

    with client.websocket("/ws") as ws:
        assert started.wait(5)
        ws.close(1001)
        # The reader has seen the disconnect once receive() says so.
        go.set()
        assert done.wait(5)
    assert seen == [1001]


# -- concurrency inside one connection -----------------------------------------


def test_an_async_handler_receives_in_one_task_while_another_sends(
    app: Flask, client: FlaskClient
) -> None:
    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept()
        ticks = anyio.Event()

        async def ticker() -> None:
            for i in range(3):
                await websocket.send(f"tick {i}")
            ticks.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(ticker)
            message = await websocket.receive()
            await ticks.wait()
            await websocket.send(f"got {message}")

    with client.websocket("/ws") as ws:
        ws.send("ping")
        assert [ws.receive() for _ in range(4)] == ["tick 0", "tick 1", "tick 2", "got ping"]


def test_a_def_handler_sends_from_a_thread_it_started(app: Flask, client: FlaskClient) -> None:
    @app.websocket("/ws")
    def handler() -> None:
        websocket.accept()
        ws = websocket._get_current_object()  # type: ignore[attr-defined]
        sender = threading.Thread(target=lambda: [ws.send(f"from thread {i}") for i in range(3)])
        sender.start()
        message = websocket.receive()
        sender.join(5)
        websocket.send(f"got {message}")

    with client.websocket("/ws") as ws:
        ws.send("ping")
        received = [ws.receive() for _ in range(4)]
    assert received[-1] == "got ping"
    assert sorted(received[:3]) == ["from thread 0", "from thread 1", "from thread 2"]


# -- hooks ----------------------------------------------------------------------


@both_kinds
def test_websocket_hooks_run_in_order_and_http_hooks_do_not(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    calls: list[str] = []
    bp = Blueprint("bp", __name__)
    other = Blueprint("other", __name__)
    for scaffold, name in ((app, "app"), (bp, "bp")):

        def hooks(scaffold: Any, name: str) -> None:
            scaffold.before_websocket(lambda: calls.append(f"{name} before"))
            scaffold.after_websocket(lambda rv: calls.append(f"{name} after") or rv)
            scaffold.teardown_websocket(lambda exc: calls.append(f"{name} teardown"))

        hooks(scaffold, name)
    other.before_app_websocket(lambda: calls.append("app-wide before"))
    other.after_app_websocket(lambda rv: calls.append("app-wide after") or rv)
    other.teardown_app_websocket(lambda exc: calls.append("app-wide teardown"))
    app.before_request(lambda: calls.append("before_request"))
    app.after_request(lambda rv: calls.append("after_request") or rv)
    app.teardown_request(lambda exc: calls.append("teardown_request"))
    app.teardown_appcontext(lambda exc: calls.append("teardown_appcontext"))
    echo_handler(bp, kind)  # type: ignore[arg-type]
    app.register_blueprint(bp)
    app.register_blueprint(other)
    app.route("/http")(lambda: "http")

    with client.websocket("/ws") as ws:
        ws.send("x")
        assert ws.receive() == "x"
        ws.close()
    client.get("/http")  # the connection's teardown has run before the next request
    assert calls == [
        "app before", "app-wide before", "bp before",
        "bp teardown", "app-wide teardown", "app teardown", "teardown_appcontext",
        "before_request", "after_request", "teardown_request", "teardown_appcontext",
    ]


@both_kinds
def test_after_websocket_runs_when_the_handler_returns(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    calls: list[Any] = []

    @app.after_websocket
    def after(rv: Any) -> Any:
        calls.append(rv)
        return rv

    if kind == "def":
        app.websocket("/ws")(lambda: websocket.send("hi"))
    else:

        @app.websocket("/ws")
        async def handler() -> None:
            await websocket.send("hi")

    with client.websocket("/ws") as ws:
        assert ws.receive() == "hi"
    assert calls == [None]


def test_def_hooks_and_handler_share_one_thread(app: Flask, client: FlaskClient) -> None:
    threads: list[int] = []
    app.before_websocket(lambda: threads.append(threading.get_ident()))
    app.teardown_websocket(lambda exc: threads.append(threading.get_ident()))

    @app.websocket("/ws")
    def handler() -> None:
        threads.append(threading.get_ident())
        websocket.send(websocket.receive())
        threads.append(threading.get_ident())

    with client.websocket("/ws") as ws:
        ws.send("x")
        assert ws.receive() == "x"
    assert len(threads) == 4
    assert len(set(threads)) == 1


# -- refusing ---------------------------------------------------------------------


@both_kinds
def test_abort_before_accept_refuses_with_that_status(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    torn_down: list[Any] = []
    app.teardown_websocket(lambda exc: torn_down.append(exc))
    if kind == "def":

        @app.websocket("/ws")
        def handler() -> None:
            abort(403)

    else:

        @app.websocket("/ws")
        async def handler() -> None:
            abort(403)

    with pytest.raises(WebsocketDenied) as denied:
        with client.websocket("/ws"):
            pass  # pragma: no cover
    assert denied.value.status_code == 403
    assert "Forbidden" in denied.value.text
    assert denied.value.headers["content-type"].startswith("text/html")
    assert torn_down == [None]  # an HTTP error, handled: as in Flask's teardown_request


@both_kinds
def test_a_before_websocket_return_value_refuses_with_that_response(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    reached: list[str] = []

    def before() -> Any:
        if websocket.args.get("token") != "ok":
            return {"error": "bad token"}, 401, {"X-Why": "token"}
        return None

    if kind == "def":
        app.before_websocket(before)
    else:

        @app.before_websocket
        async def async_before() -> Any:
            return before()

    @app.websocket("/ws")
    async def handler() -> None:
        reached.append("handler")
        await websocket.send("in")

    with pytest.raises(WebsocketDenied) as denied:
        with client.websocket("/ws"):
            pass  # pragma: no cover
    assert denied.value.status_code == 401
    assert denied.value.headers["x-why"] == "token"
    assert denied.value.data == b'{"error":"bad token"}\n'
    assert reached == []
    with client.websocket("/ws?token=ok") as ws:
        assert ws.receive() == "in"


def test_an_error_handler_response_refuses_the_handshake(app: Flask, client: FlaskClient) -> None:
    @app.errorhandler(403)
    def forbidden(e: Exception) -> Any:
        return "go away", 403

    @app.websocket("/ws")
    def handler() -> None:
        abort(403)

    with pytest.raises(WebsocketDenied) as denied:
        with client.websocket("/ws"):
            pass  # pragma: no cover
    assert (denied.value.status_code, denied.value.text) == (403, "go away")


@both_kinds
def test_closing_before_accept_refuses(app: Flask, client: FlaskClient, kind: str) -> None:
    if kind == "def":
        app.websocket("/ws")(lambda: websocket.close())
    else:

        @app.websocket("/ws")
        async def handler() -> None:
            await websocket.close()

    with pytest.raises(WebSocketDisconnect):
        with client.websocket("/ws"):
            pass  # pragma: no cover


def test_an_unknown_path_is_refused_with_404(app: Flask, client: FlaskClient) -> None:
    with pytest.raises(WebsocketDenied) as denied:
        with client.websocket("/nowhere"):
            pass  # pragma: no cover
    assert denied.value.status_code == 404


def test_a_websocket_to_an_http_rule_is_refused_and_http_to_a_websocket_rule_is_400(
    app: Flask, client: FlaskClient
) -> None:
    app.route("/page")(lambda: "page")
    echo_handler(app, "async def")
    with pytest.raises(WebsocketDenied) as denied:
        with client.websocket("/page"):
            pass  # pragma: no cover
    assert denied.value.status_code == 400
    assert client.get("/ws").status_code == 400
    assert client.get("/page").text == "page"


def test_a_refused_connection_without_the_denial_extension_is_closed_with_1008() -> None:
    """Servers without the ASGI denial extension: the client sees a 403."""
    app = Flask(__name__)

    @app.websocket("/ws")
    def handler() -> None:
        abort(401)

    sent: list[dict[str, Any]] = []
    messages = [{"type": "websocket.connect"}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/ws", "headers": [(b"host", b"x")],
             "query_string": b"", "root_path": "", "scheme": "ws", "asgi": {"version": "3.0"}}
    anyio.run(app, scope, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": ""}]


# -- errors after accept --------------------------------------------------------------


@both_kinds
def test_an_error_after_accept_closes_with_1011_and_is_logged(
    app: Flask, client: FlaskClient, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    torn_down: list[Any] = []
    app.teardown_websocket(lambda exc: torn_down.append(exc))
    if kind == "def":

        @app.websocket("/ws")
        def handler() -> None:
            websocket.send("first")
            raise LookupError("broken")

    else:

        @app.websocket("/ws")
        async def handler() -> None:
            await websocket.send("first")
            raise LookupError("broken")

    with client.websocket("/ws") as ws:
        assert ws.receive() == "first"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive()
    assert closed.value.code == 1011
    assert [type(e) for e in torn_down] == [LookupError]
    assert "Exception on /ws" in caplog.text
    assert "LookupError: broken" in caplog.text


@both_kinds
def test_error_handlers_are_called_for_errors_after_accept(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    handled: list[str] = []

    @app.errorhandler(LookupError)
    def lookup(e: Exception) -> Any:
        handled.append(f"lookup: {e}")
        return "ignored: the connection is open", 500

    @app.errorhandler(500)
    def internal(e: Any) -> Any:
        handled.append(f"500: {e.original_exception}")
        return "ignored", 500

    app.config["PROPAGATE_EXCEPTIONS"] = False
    if kind == "def":

        @app.websocket("/ws/<what>")
        def handler(what: str) -> None:
            websocket.accept()
            raise (LookupError if what == "lookup" else ValueError)(what)

    else:

        @app.websocket("/ws/<what>")
        async def handler(what: str) -> None:
            await websocket.accept()
            raise (LookupError if what == "lookup" else ValueError)(what)

    for what in ("lookup", "value"):
        with client.websocket(f"/ws/{what}") as ws:
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive()
            assert closed.value.code == 1011
    assert handled == ["lookup: lookup", "500: value"]


@both_kinds
def test_with_propagate_exceptions_the_test_sees_the_error(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    if kind == "def":

        @app.websocket("/ws")
        def handler() -> None:
            websocket.accept()
            raise LookupError("for the test")

    else:

        @app.websocket("/ws")
        async def handler() -> None:
            await websocket.accept()
            raise LookupError("for the test")

    with pytest.raises(LookupError, match="for the test"):
        with client.websocket("/ws") as ws:
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive()
            assert closed.value.code == 1011


def test_an_error_before_accept_is_a_500_denial(app: Flask, client: FlaskClient) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.before_websocket
    def before() -> None:
        raise LookupError("no")

    echo_handler(app, "def")
    with pytest.raises(WebsocketDenied) as denied:
        with client.websocket("/ws"):
            pass  # pragma: no cover
    assert denied.value.status_code == 500


# -- limits ----------------------------------------------------------------------------


@both_kinds
def test_a_message_over_the_size_limit_closes_with_1009(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    app.config["WEBSOCKET_MAX_MESSAGE_SIZE"] = 10
    seen: list[int] = []
    if kind == "def":

        @app.websocket("/ws")
        def handler() -> None:
            try:
                while True:
                    websocket.send(websocket.receive())
            except WebSocketDisconnect as exc:
                seen.append(exc.code)

    else:

        @app.websocket("/ws")
        async def handler() -> None:
            try:
                while True:
                    await websocket.send(await websocket.receive())
            except WebSocketDisconnect as exc:
                seen.append(exc.code)

    with client.websocket("/ws") as ws:
        ws.send("x" * 10)
        assert ws.receive() == "x" * 10
        ws.send("é" * 6)  # 12 bytes in UTF-8: the limit counts bytes
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive()
    assert closed.value.code == 1009
    assert seen == [1009]


def test_the_default_message_size_limit_is_one_mib(app: Flask, client: FlaskClient) -> None:
    echo_handler(app, "async def")
    assert app.config["WEBSOCKET_MAX_MESSAGE_SIZE"] == 1024 * 1024
    with client.websocket("/ws") as ws:
        ws.send(b"x" * (1024 * 1024))
        assert len(ws.receive()) == 1024 * 1024
        ws.send(b"x" * (1024 * 1024 + 1))
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive()
    assert closed.value.code == 1009


@pytest.mark.parametrize(
    ("allowed", "origin", "ok"),
    [
        (None, None, True),
        (None, "http://localhost", True),
        (None, "https://LOCALHOST", True),
        (None, "http://evil.example", False),
        (None, "null", False),
        (["https://app.example"], "https://app.example", True),
        (["https://app.example/"], "https://app.example", True),
        (["https://app.example"], "http://localhost", False),
        (["https://app.example"], None, False),
        (["*"], "http://evil.example", True),
    ],
)
def test_the_origin_is_checked(
    app: Flask, client: FlaskClient, allowed: Any, origin: str | None, ok: bool
) -> None:
    app.config["WEBSOCKET_ALLOWED_ORIGINS"] = allowed
    echo_handler(app, "async def")
    headers = {"Origin": origin} if origin is not None else {}
    if ok:
        with client.websocket("/ws", headers=headers) as ws:
            ws.send("in")
            assert ws.receive() == "in"
        return
    with pytest.raises(WebsocketDenied) as denied:
        with client.websocket("/ws", headers=headers):
            pass  # pragma: no cover
    assert denied.value.status_code == 403


def test_allowed_origins_as_a_string_is_refused_with_what_to_write(
    app: Flask, client: FlaskClient
) -> None:
    app.config["WEBSOCKET_ALLOWED_ORIGINS"] = "https://app.example"
    echo_handler(app, "async def")
    with pytest.raises(TypeError, match=r"must be a list of origins, e.g. \['https://app"):
        with client.websocket("/ws"):
            pass  # pragma: no cover


# -- routing and registration --------------------------------------------------------------


def test_url_for_builds_ws_and_wss_urls(app: Flask) -> None:
    echo_handler(app, "async def", "/live/<int:room>")
    app.add_url_rule("/page", "page", lambda: "")
    bp = Blueprint("bp", __name__, url_prefix="/bp")
    bp.add_url_rule("/feed", "feed", lambda: None, websocket=True)
    app.register_blueprint(bp)
    with app.test_request_context("/", base_url="http://example.com"):
        assert url_for("echo", room=3) == "/live/3"
        assert url_for("echo", room=3, _external=True) == "ws://example.com/live/3"
        assert url_for("bp.feed", _external=True) == "ws://example.com/bp/feed"
        assert url_for("page", _external=True) == "http://example.com/page"
    with app.test_request_context("/", base_url="https://example.com"):
        assert url_for("echo", room=3, _external=True) == "wss://example.com/live/3"


def test_url_for_inside_a_websocket_handler(app: Flask, client: FlaskClient) -> None:
    app.add_url_rule("/page", "page", lambda: "")

    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.send_json([
            url_for("handler", _external=True), url_for("page", _external=True),
        ])

    with client.websocket("/ws") as ws:
        assert ws.receive_json() == ["ws://localhost/ws", "http://localhost/page"]


def test_a_blueprint_websocket_and_add_url_rule(app: Flask, client: FlaskClient) -> None:
    bp = Blueprint("chat", __name__, url_prefix="/chat")

    @bp.websocket("/<name>")
    async def room(name: str) -> None:
        await websocket.send(f"{websocket.blueprint}:{name}")

    app.register_blueprint(bp)

    async def plain() -> None:
        await websocket.send("plain")

    app.add_url_rule("/plain", view_func=plain, websocket=True)
    with client.websocket("/chat/lobby") as ws:
        assert ws.receive() == "chat:lobby"
    with client.websocket("/plain") as ws:
        assert ws.receive() == "plain"


def test_registering_after_the_first_websocket_is_refused(
    app: Flask, client: FlaskClient
) -> None:
    echo_handler(app, "async def")
    with client.websocket("/ws") as ws:
        ws.send("x")
        assert ws.receive() == "x"
    with pytest.raises(AssertionError, match="already handled its first request"):
        app.route("/late")(lambda: "")


def test_the_proxy_outside_a_handler_says_what_to_use(app: Flask) -> None:
    with pytest.raises(RuntimeError, match="outside of a websocket handler"):
        websocket.path  # noqa: B018
    with app.test_request_context("/"):
        with pytest.raises(RuntimeError, match="In a view, use `request`"):
            websocket.path  # noqa: B018


@both_kinds
def test_leaving_the_with_block_lets_the_handler_and_teardown_finish(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    """The client closes with 1000 and waits for the app: an ``async def``
    teardown that awaits (closing a database pool) is not cut short."""
    done: list[str] = []

    @app.teardown_websocket
    async def teardown(exc: BaseException | None) -> None:
        await anyio.sleep(0.05)
        done.append("teardown")

    echo_handler(app, kind)
    with client.websocket("/ws") as ws:
        ws.send("x")
        assert ws.receive() == "x"
    assert done == ["teardown"]
