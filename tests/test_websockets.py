"""Websockets through the test client: ``@app.websocket`` handlers, ``def``
and ``async def``, the ``websocket`` proxy, messages, accepting and
refusing, errors, disconnects and the hooks around a connection.
(``test_websockets_live.py`` runs them on a real uvicorn.)"""

from __future__ import annotations

import threading
from typing import Any

import anyio
import pytest

from flaskish import Blueprint, Flask, g, request, session, websocket
from flaskish.exceptions import WebSocketDisconnect
from flaskish.testing import FlaskClient
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
            "path": websocket.path,
            "room": room,
            "args": websocket.args.to_dict(),
            "header": websocket.headers.get("X-Token"),
            "cookie": websocket.cookies.get("flavour"),
            "scheme": websocket.scheme,
            "offered": websocket.requested_subprotocols,
            "also": websocket.subprotocols,
            "same": request._get_current_object()
            is (
                websocket._get_current_object()  # type: ignore[attr-defined]
            ),
            "g": g.user,
            "session": session.get("uid"),
            "endpoint": websocket.endpoint,
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
        "/rooms/12",
        subprotocols=["a", "b"],
        headers={"X-Token": "t1"},
        query_string={"q": "x"},
    ) as ws:
        assert ws.receive_json() == {
            "path": "/rooms/12",
            "room": 12,
            "args": {"q": "x"},
            "header": "t1",
            "cookie": "mint",
            "scheme": "ws",
            "offered": ["a", "b"],
            "also": ["a", "b"],
            "same": True,
            "g": "ann",
            "session": 7,
            "endpoint": "room",
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


def test_json_from_a_thread_the_handler_started_uses_the_apps_provider(
    app: Flask, client: FlaskClient
) -> None:
    """The thread has no app context; ``send_json`` still serializes with
    the app's provider (Flask's sorts keys), and ``receive_json`` parses
    with it."""

    @app.websocket("/ws")
    def handler() -> None:
        ws = websocket._get_current_object()  # type: ignore[attr-defined]
        sender = threading.Thread(target=lambda: ws.send_json({"b": 1, "a": 2}))
        sender.start()
        sender.join(5)
        websocket.send_json({"got": websocket.receive_json()})

    with client.websocket("/ws") as ws:
        assert ws.receive() == '{"a": 2, "b": 1}'
        ws.send('{"z": 0, "y": 1}')
        assert ws.receive() == '{"got": {"y": 1, "z": 0}}'


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
        "app before",
        "app-wide before",
        "bp before",
        "bp teardown",
        "app-wide teardown",
        "app teardown",
        "teardown_appcontext",
        "before_request",
        "after_request",
        "teardown_request",
        "teardown_appcontext",
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
