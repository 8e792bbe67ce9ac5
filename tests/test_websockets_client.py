"""The test client's websockets: ``with client.websocket(...)`` in sync
tests, ``async with`` in async ones (the app on the test's own loop),
refusals as :class:`~flaskish.testing.WebsocketDenied`, the app's errors
seen by the test."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from flaskish import Flask, abort, session, websocket
from flaskish.exceptions import WebSocketDisconnect
from flaskish.testing import FlaskClient, WebsocketDenied
from tests.kinds import both_kinds
from tests.test_websockets import echo_handler

pytestmark = pytest.mark.anyio


@both_kinds
async def test_async_with_runs_the_app_on_the_tests_loop(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    echo_handler(app, kind)
    async with client.websocket("/ws") as ws:
        await ws.send("hi")
        assert await ws.receive() == "hi"
        await ws.send(b"\x01")
        assert await ws.receive() == b"\x01"
        await ws.send_json({"a": 1})
        assert await ws.receive_json() == {"a": 1}


async def test_async_with_shares_the_tests_event_loop(app: Flask, client: FlaskClient) -> None:
    """The handler and the test can share anyio objects (an Event made in
    the test is set by the handler), which only works on one loop."""
    reached = anyio.Event()

    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept()
        reached.set()
        await websocket.receive()

    async with client.websocket("/ws"):
        with anyio.fail_after(5):
            await reached.wait()


async def test_async_with_subprotocol_headers_query_and_cookies(
    app: Flask, client: FlaskClient
) -> None:
    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept(subprotocol="b", headers={"X-A": "1"})
        await websocket.send_json(
            [
                websocket.args.get("q"),
                websocket.headers.get("X-T"),
                session.get("uid"),
                websocket.requested_subprotocols,
            ]
        )

    with client.session_transaction() as sess:
        sess["uid"] = 3
    async with client.websocket(
        "/ws", subprotocols=["a", "b"], headers={"X-T": "t"}, query_string={"q": "x"}
    ) as ws:
        assert ws.subprotocol == "b"
        assert ws.headers == {"x-a": "1"}
        assert await ws.receive_json() == ["x", "t", 3, ["a", "b"]]


async def test_async_with_a_refusal_raises_websocket_denied(
    app: Flask, client: FlaskClient
) -> None:
    @app.websocket("/ws")
    async def handler() -> None:
        abort(403)

    with pytest.raises(WebsocketDenied) as denied:
        async with client.websocket("/ws"):
            pass  # pragma: no cover
    assert denied.value.status_code == 403
    assert "Forbidden" in denied.value.text


async def test_async_with_the_app_closing_and_the_client_closing(
    app: Flask, client: FlaskClient
) -> None:
    seen: list[int] = []
    torn_down = anyio.Event()
    app.teardown_websocket(lambda exc: torn_down.set())

    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept()
        if websocket.args.get("close"):
            await websocket.close(4000, "bye")
            return
        try:
            await websocket.receive()
        except WebSocketDisconnect as exc:
            seen.append(exc.code)

    async with client.websocket("/ws?close=1") as ws:
        with pytest.raises(WebSocketDisconnect) as closed:
            await ws.receive()
        assert (closed.value.code, closed.value.reason) == (4000, "bye")
    async with client.websocket("/ws") as ws:
        await ws.close(4001)
        with anyio.fail_after(5):
            await torn_down.wait()
    assert seen == [4001]


@both_kinds
async def test_async_with_the_apps_error_propagates(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    if kind == "def":

        @app.websocket("/ws")
        def handler() -> None:
            websocket.accept()
            raise LookupError("seen by the test")

    else:

        @app.websocket("/ws")
        async def handler() -> None:
            await websocket.accept()
            raise LookupError("seen by the test")

    with pytest.raises(LookupError, match="seen by the test"):
        async with client.websocket("/ws") as ws:
            with pytest.raises(WebSocketDisconnect) as closed:
                await ws.receive()
            assert closed.value.code == 1011


async def test_async_with_leaving_the_block_lets_teardown_finish(
    app: Flask, client: FlaskClient
) -> None:
    done: list[str] = []

    @app.teardown_websocket
    async def teardown(exc: BaseException | None) -> None:
        await anyio.sleep(0.05)
        done.append("teardown")

    echo_handler(app, "def")
    async with client.websocket("/ws") as ws:
        await ws.send("x")
        assert await ws.receive() == "x"
    assert done == ["teardown"]


async def test_plain_with_in_async_code_says_to_write_async_with(
    app: Flask, client: FlaskClient
) -> None:
    echo_handler(app, "async def")
    with pytest.raises(RuntimeError, match=r"async with client\.websocket"):
        with client.websocket("/ws"):
            pass  # pragma: no cover


def test_using_a_websocket_outside_its_block_says_how(app: Flask, client: FlaskClient) -> None:
    echo_handler(app, "async def")
    ws = client.websocket("/ws")
    with pytest.raises(RuntimeError, match=r"not connected: use it as `with client.websocket"):
        ws.send("x")


def test_websocket_denied_has_the_response(app: Flask, client: FlaskClient) -> None:
    @app.before_websocket
    def refuse() -> Any:
        return "nope", 429, {"Retry-After": "3"}

    echo_handler(app, "def")
    with pytest.raises(WebsocketDenied) as denied:
        with client.websocket("/ws"):
            pass  # pragma: no cover
    refused = denied.value
    assert (refused.status_code, refused.data, refused.text) == (429, b"nope", "nope")
    assert refused.headers["retry-after"] == "3"
    assert "refused with 429" in str(refused)


def test_query_string_in_the_path_and_as_an_argument_is_refused(client: FlaskClient) -> None:
    with pytest.raises(ValueError, match="Query string is defined in the path and as an argument"):
        client.websocket("/ws?a=1", query_string={"b": "2"})
