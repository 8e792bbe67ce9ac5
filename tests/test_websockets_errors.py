"""Websockets refused, failing and limited: denial before accept (an HTTP
response), errors after it (1011, logged, error handlers), the message
size limit (1009), the Origin check, and websocket routing (``url_for``,
404 / 400)."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from flaskish import Blueprint, Flask, abort, url_for, websocket
from flaskish.exceptions import WebSocketDisconnect
from flaskish.testing import FlaskClient, WebsocketDenied
from tests.kinds import both_kinds
from tests.test_websockets import echo_handler

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

    scope = {
        "type": "websocket",
        "path": "/ws",
        "headers": [(b"host", b"x")],
        "query_string": b"",
        "root_path": "",
        "scheme": "ws",
        "asgi": {"version": "3.0"},
    }
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
        await websocket.send_json(
            [
                url_for("handler", _external=True),
                url_for("page", _external=True),
            ]
        )

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


def test_registering_after_the_first_websocket_is_refused(app: Flask, client: FlaskClient) -> None:
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
