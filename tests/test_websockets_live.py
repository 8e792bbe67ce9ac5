"""Websockets on a real uvicorn on 127.0.0.1, with the ``websockets``
client library: what a browser-like client sees (echo, subprotocols,
refusals as HTTP statuses, close codes), teardown after disconnects,
isolation of 200 concurrent connections, and worker-thread accounting
for ``def`` handlers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import anyio
import httpx2 as httpx
import pytest
from websockets.asyncio.client import connect as async_connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from flaskish import Flask, g, session, websocket
from flaskish.exceptions import WebSocketDisconnect
from tests.conftest import LiveServer
from tests.kinds import both_kinds
from tests.test_websockets import echo_handler

TIMEOUT = 5


@pytest.fixture
def served(app: Flask) -> Iterator[LiveServer]:
    """The test's app on uvicorn (routes are added before the first
    connection, so the server can start first)."""
    app.config["PROPAGATE_EXCEPTIONS"] = False  # uvicorn would log the re-raised error

    @app.route("/stats")
    async def stats() -> Any:
        s = app.worker_threads
        return {"busy": s.busy, "waiting": s.waiting, "parked": s.parked}

    with LiveServer(app) as server:
        yield server


def ws_url(server: LiveServer, path: str) -> str:
    return f"ws://127.0.0.1:{server.port}{path}"


def open_ws(server: LiveServer, path: str, **kwargs: Any) -> ClientConnection:
    """A connection; use it with ``with``, or close it (``websockets``
    warns about a connection used outside ``with`` unless it is told
    ``legacy=True``)."""
    return connect(ws_url(server, path), proxy=None, open_timeout=TIMEOUT, **kwargs)


def open_now(server: LiveServer, path: str) -> ClientConnection:
    """An open connection, closed by the test."""
    return open_ws(server, path).__enter__()


def wait_for(check: Any, what: str) -> None:
    """Poll *check* until it is true, for at most TIMEOUT seconds."""
    deadline = time.monotonic() + TIMEOUT
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


@both_kinds
def test_echo_of_text_binary_and_json(app: Flask, served: LiveServer, kind: str) -> None:
    echo_handler(app, kind)
    with open_ws(served, "/ws") as ws:
        ws.send("hello")
        assert ws.recv(TIMEOUT) == "hello"
        ws.send(b"\x00\xff")
        assert ws.recv(TIMEOUT) == b"\x00\xff"
        ws.send('{"a": [1, 2]}')
        assert ws.recv(TIMEOUT) == '{"a": [1, 2]}'


@both_kinds
def test_json_helpers(app: Flask, served: LiveServer, kind: str) -> None:
    if kind == "def":
        app.websocket("/ws")(lambda: websocket.send_json({"got": websocket.receive_json()}))
    else:

        @app.websocket("/ws")
        async def handler() -> None:
            await websocket.send_json({"got": await websocket.receive_json()})

    with open_ws(served, "/ws") as ws:
        ws.send('{"n": 1}')
        assert ws.recv(TIMEOUT) == '{"got": {"n": 1}}'  # app.json.dumps: Flask's spacing


@both_kinds
def test_subprotocol_negotiation(app: Flask, served: LiveServer, kind: str) -> None:
    def choose() -> str | None:
        offered = websocket.requested_subprotocols
        return "v2" if "v2" in offered else None

    if kind == "def":
        app.websocket("/ws")(lambda: websocket.accept(subprotocol=choose()))
    else:

        @app.websocket("/ws")
        async def handler() -> None:
            await websocket.accept(subprotocol=choose(), headers={"X-Server": "flaskish"})

    with open_ws(served, "/ws", subprotocols=["v1", "v2"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "v2"
        if kind == "async def":
            assert ws.response is not None
            assert ws.response.headers["X-Server"] == "flaskish"


@both_kinds
def test_a_refusal_before_accept_is_an_http_status_for_the_client(
    app: Flask, served: LiveServer, kind: str
) -> None:
    def check() -> Any:
        if websocket.args.get("token") != "ok":
            return "no token", 401, {"WWW-Authenticate": "Token"}
        return None

    if kind == "def":
        app.before_websocket(check)
    else:

        @app.before_websocket
        async def async_check() -> Any:
            return check()

    echo_handler(app, kind)
    with pytest.raises(InvalidStatus) as refused:
        open_ws(served, "/ws")
    response = refused.value.response
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
    assert response.body == b"no token"
    with open_ws(served, "/ws?token=ok") as ws:
        ws.send("in")
        assert ws.recv(TIMEOUT) == "in"


def test_a_cross_site_handshake_gets_403(app: Flask, served: LiveServer) -> None:
    echo_handler(app, "async def")
    with pytest.raises(InvalidStatus) as refused:
        open_ws(served, "/ws", origin="http://evil.example")  # type: ignore[arg-type]
    assert refused.value.response.status_code == 403
    same_site = f"http://127.0.0.1:{served.port}"
    with open_ws(served, "/ws", origin=same_site) as ws:  # type: ignore[arg-type]
        ws.send("in")
        assert ws.recv(TIMEOUT) == "in"


def test_unknown_paths_and_http_only_rules_are_refused(app: Flask, served: LiveServer) -> None:
    app.add_url_rule("/page", "page", lambda: "page")
    echo_handler(app, "def")
    for path, status in (("/nowhere", 404), ("/page", 400)):
        with pytest.raises(InvalidStatus) as refused:
            open_ws(served, path)
        assert refused.value.response.status_code == status
    assert httpx.get(served.url + "/ws").status_code == 400


@both_kinds
def test_an_error_after_accept_closes_with_1011(
    app: Flask, served: LiveServer, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    handled: list[str] = []
    app.errorhandler(KeyError)(lambda e: handled.append(repr(e)) or ("", 500))
    if kind == "def":

        @app.websocket("/ws")
        def handler() -> None:
            websocket.receive()
            raise KeyError("boom")

    else:

        @app.websocket("/ws")
        async def handler() -> None:
            await websocket.receive()
            raise KeyError("boom")

    with open_ws(served, "/ws") as ws:
        ws.send("go")
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(TIMEOUT)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1011
    assert handled == ["KeyError('boom')"]


@both_kinds
def test_a_message_over_the_limit_closes_with_1009(
    app: Flask, served: LiveServer, kind: str
) -> None:
    app.config["WEBSOCKET_MAX_MESSAGE_SIZE"] = 1000
    echo_handler(app, kind)
    with open_ws(served, "/ws") as ws:
        ws.send(b"x" * 1000)
        assert ws.recv(TIMEOUT) == b"x" * 1000
        ws.send(b"x" * 1001)
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(TIMEOUT)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009


# -- disconnects and teardown --------------------------------------------------


@both_kinds
def test_teardown_runs_within_a_second_of_the_client_leaving(
    app: Flask, served: LiveServer, kind: str
) -> None:
    """A ``def`` handler blocked in ``receive()`` gets the disconnect; an
    ``async def`` one busy with something else is cancelled."""
    accepted, torn_down = threading.Event(), threading.Event()
    seen: list[Any] = []

    @app.teardown_websocket
    def teardown(exc: BaseException | None) -> None:
        seen.append(exc)
        torn_down.set()

    if kind == "def":

        @app.websocket("/ws")
        def handler() -> None:
            websocket.accept()
            accepted.set()
            try:
                websocket.receive()
            except WebSocketDisconnect as exc:
                seen.append(exc.code)
                raise

    else:

        @app.websocket("/ws")
        async def handler() -> None:
            await websocket.accept()
            accepted.set()
            await anyio.sleep(60)

    ws = open_now(served, "/ws")
    assert accepted.wait(TIMEOUT)
    ws.close(4002)
    assert torn_down.wait(1), "teardown did not run within 1 s of the client leaving"
    assert seen == ([4002, None] if kind == "def" else [None])
    wait_for(lambda: app_stats(served)["parked"] == 0, "the handler's thread to be let go")


def test_a_client_vanishing_without_a_close_frame_ends_the_handler(
    app: Flask, served: LiveServer
) -> None:
    accepted, torn_down = threading.Event(), threading.Event()
    app.teardown_websocket(lambda exc: torn_down.set())

    @app.websocket("/ws")
    def handler() -> None:
        websocket.accept()
        accepted.set()
        while True:
            websocket.receive()

    ws = open_now(served, "/ws")
    assert accepted.wait(TIMEOUT)
    ws.socket.close()  # no closing handshake: the TCP connection just goes
    assert torn_down.wait(1)
    wait_for(lambda: app_stats(served)["parked"] == 0, "the handler's thread to be let go")


# -- isolation and threads ------------------------------------------------------


def app_stats(server: LiveServer) -> dict[str, int]:
    stats: dict[str, int] = httpx.get(server.url + "/stats", timeout=TIMEOUT).json()
    return stats


def test_200_concurrent_connections_each_see_only_their_own_state(
    app: Flask, served: LiveServer
) -> None:
    """``websocket``, ``g`` and ``session`` are each connection's own, in
    ``def`` and ``async def`` handlers open at the same time."""

    @app.before_websocket
    def before() -> None:
        g.who = websocket.args["who"]

    def answer(message: str) -> str:
        return f"{websocket.args['who']}|{g.who}|{session.get('who')}|{message}"

    @app.websocket("/def")
    def sync_handler() -> None:
        for _ in range(3):
            websocket.send(answer(websocket.receive()))

    @app.websocket("/async")
    async def async_handler() -> None:
        for _ in range(3):
            await websocket.send(answer(await websocket.receive()))

    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    cookies = {n: serializer.dumps({"who": str(n)}) for n in range(200)}
    failures: list[str] = []

    async def one(n: int, everyone_open: anyio.Event, opened: list[int]) -> None:
        path = "/def" if n % 2 else "/async"
        url = ws_url(served, f"{path}?who={n}")
        headers = {"Cookie": f"session={cookies[n]}"}
        async with async_connect(
            url, proxy=None, additional_headers=headers, open_timeout=TIMEOUT * 4
        ) as ws:
            opened.append(n)
            if len(opened) == 200:
                everyone_open.set()
            await everyone_open.wait()
            for i in range(3):
                await ws.send(f"m{i}")
                got = await ws.recv()
                if got != f"{n}|{n}|{n}|m{i}":
                    failures.append(f"{n} got {got!r}")

    async def main() -> None:
        everyone_open = anyio.Event()
        opened: list[int] = []
        with anyio.fail_after(TIMEOUT * 6):
            async with anyio.create_task_group() as tg:
                for n in range(200):
                    tg.start_soon(one, n, everyone_open, opened)

    anyio.run(main)
    assert failures == []


def test_def_handlers_waiting_in_receive_are_counted_as_parked(
    app: Flask, served: LiveServer
) -> None:
    """They hold their thread but not a ``THREAD_POOL_SIZE`` slot: more of
    them than the pool size are open at once, and they answer."""
    app.config["THREAD_POOL_SIZE"] = 2
    echo_handler(app, "def")
    sockets = [open_now(served, "/ws") for _ in range(5)]
    try:
        for ws in sockets:  # each handler has accepted and waits in receive()
            ws.send("hi")
            assert ws.recv(TIMEOUT) == "hi"
        wait_for(lambda: app_stats(served)["parked"] == 5, "5 parked handlers")
        assert app_stats(served)["busy"] == 0
        for n, ws in enumerate(sockets):
            ws.send(str(n))
            assert ws.recv(TIMEOUT) == str(n)
    finally:
        for ws in sockets:
            ws.close()
    wait_for(lambda: app_stats(served)["parked"] == 0, "the threads to be let go")


def test_thread_pool_parked_bounds_def_handlers_without_a_deadlock(
    app: Flask, served: LiveServer
) -> None:
    """With 1 running + 1 parked thread, a third ``def`` handler waits for
    a thread (its handshake is not answered yet), and the two open ones
    keep answering meanwhile: the waiting one holds no running slot they
    need to resume. When one leaves, the third is served."""
    app.config.update(THREAD_POOL_SIZE=1, THREAD_POOL_PARKED=1)
    echo_handler(app, "def")
    first, second = open_now(served, "/ws"), open_now(served, "/ws")
    for ws in (first, second):
        ws.send("in")
        assert ws.recv(TIMEOUT) == "in"
    third: list[Any] = []
    connecting = threading.Thread(target=lambda: third.append(open_now(served, "/ws")))
    connecting.start()
    try:
        wait_for(lambda: app_stats(served)["parked"] == 2, "2 parked handlers")
        for n in range(3):
            first.send(f"still {n}")
            assert first.recv(TIMEOUT) == f"still {n}"
        assert third == []
        second.close()
        connecting.join(TIMEOUT)
        assert len(third) == 1
        third[0].send("third")
        assert third[0].recv(TIMEOUT) == "third"
    finally:
        connecting.join(TIMEOUT)
        for ws in (first, second, *third):
            ws.close()


@pytest.mark.parametrize("where", ["before_websocket", "handler"])
def test_no_thread_or_task_is_left_when_the_client_leaves_mid_way(
    app: Flask, served: LiveServer, where: str
) -> None:
    """A ``def`` hook holding the connection's thread while an ``async
    def`` handler sleeps, or a ``def`` hook itself blocked in ``receive()``
    (reading a login message): the client leaving ends both, runs teardown
    and lets the thread go."""
    waiting, torn_down = threading.Event(), threading.Event()
    ended: list[str] = []

    @app.before_websocket
    def login() -> None:
        g.started = True
        if where == "before_websocket":
            websocket.accept()
            waiting.set()
            websocket.receive()  # the client leaves instead of logging in
            ended.append("hook went on")  # pragma: no cover

    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept()
        waiting.set()
        try:
            await anyio.sleep(60)
        finally:
            ended.append("handler cancelled")

    @app.teardown_websocket
    def teardown(exc: BaseException | None) -> None:
        ended.append(f"teardown {type(exc).__name__}")
        torn_down.set()

    ws = open_now(served, "/ws")
    assert waiting.wait(TIMEOUT)
    wait_for(lambda: app_stats(served)["parked"] == 1, "the connection's thread to park")
    ws.close()
    assert torn_down.wait(1)
    wait_for(lambda: app_stats(served)["parked"] == 0, "the thread to be let go")
    assert app_stats(served)["busy"] == 0
    if where == "handler":
        assert ended == ["handler cancelled", "teardown NoneType"]
    else:
        assert ended == ["teardown NoneType"]
