"""``flaskish.sock``: a Flask-Sock app migrates by changing its import."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from flaskish import Blueprint, Flask, request, session
from flaskish.exceptions import WebSocketDisconnect
from flaskish.sock import ConnectionClosed, Sock


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__, static_folder=None)
    app.secret_key = "sock"
    return app


def test_a_flask_sock_echo_with_rule_variables_and_the_request(app: Flask) -> None:
    """Flask-Sock's README example: ``def echo(ws)`` with a blocking loop;
    the rule's variables come after ``ws``; ``request`` is the handshake."""
    sock = Sock(app)

    @sock.route("/echo/<name>")
    def echo(ws: Any, name: str) -> None:
        while True:
            data = ws.receive()
            ws.send(f"{name} {data} {request.args['x']}")

    with app.test_client().websocket("/echo/ann?x=1") as ws:
        ws.send("hi")
        assert ws.receive() == "ann hi 1"
        ws.send(b"bytes")
        assert ws.receive() == "ann b'bytes' 1"


def test_receive_with_a_timeout_gives_none(app: Flask) -> None:
    sock = Sock(app)

    @sock.route("/wait")
    def wait(ws: Any) -> None:
        ws.send(repr(ws.receive(timeout=0.05)))

    with app.test_client().websocket("/wait") as ws:
        assert ws.receive() == "None"


def test_close_ends_the_connection_and_closing_twice_raises_connection_closed(
    app: Flask,
) -> None:
    sock = Sock(app)
    seen: list[Any] = []

    @sock.route("/bye")
    def bye(ws: Any) -> None:
        assert ws.connected
        ws.close(1001, "going")
        seen.append(ws.connected)
        with pytest.raises(ConnectionClosed) as again:
            ws.close()
        seen.append(again.value.reason)
        with pytest.raises(ConnectionClosed):
            ws.send("after close")

    with app.test_client().websocket("/bye") as ws:
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive()
    assert (closed.value.code, closed.value.reason) == (1001, "going")
    assert seen == [False, 1001]


def test_the_client_leaving_ends_the_handler_quietly_and_teardown_runs(app: Flask) -> None:
    """Flask-Sock catches ``ConnectionClosed`` out of the handler."""
    sock = Sock(app)
    raised: list[BaseException] = []
    torn_down = threading.Event()

    @sock.route("/listen")
    def listen(ws: Any) -> None:
        try:
            while True:
                ws.receive()
        except ConnectionClosed as gone:
            raised.append(gone)
            raise

    @app.teardown_websocket
    def teardown(exc: BaseException | None) -> None:
        assert exc is None  # a quiet end, not an error
        torn_down.set()

    with app.test_client().websocket("/listen") as ws:
        ws.close(1001)
    assert torn_down.wait(5)
    assert [(type(e), e.reason) for e in raised] == [(ConnectionClosed, 1001)]


def test_an_async_handler_awaits_the_same_methods(app: Flask) -> None:
    sock = Sock(app)

    @sock.route("/async")
    async def echo(ws: Any) -> None:
        data = await ws.receive()
        await ws.send(data * 2)
        try:
            await ws.receive()
        except ConnectionClosed:
            session_user = session.get("user")
            assert session_user is None
            raise

    with app.test_client().websocket("/async") as ws:
        ws.send("ab")
        assert ws.receive() == "abab"


def test_routes_on_a_blueprint_and_before_init_app(app: Flask) -> None:
    sock = Sock()
    bp = Blueprint("chat", __name__)

    @sock.route("/early")
    def early(ws: Any) -> None:
        ws.send("early")

    @sock.route("/room", bp=bp)
    def room(ws: Any) -> None:
        ws.send("room")

    app.register_blueprint(bp, url_prefix="/chat")
    sock.init_app(app)
    client = app.test_client()
    with client.websocket("/early") as ws:
        assert ws.receive() == "early"
    with client.websocket("/chat/room") as ws:
        assert ws.receive() == "room"
