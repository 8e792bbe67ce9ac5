"""How a websocket's messages reach the handler: ``receive()`` awaiting the
server itself, the watcher that reads while no task is receiving (and hands
back to the next ``receive()``), two tasks receiving at once, the inbox's
bound, and ordering through all of it."""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import Any

import anyio
import pytest

from flaskish import Flask, websocket
from flaskish.exceptions import WebSocketDisconnect
from flaskish.testing import FlaskClient
from flaskish.websocket import QUEUE_SIZE, Websocket

#: The watch's period in these tests (WATCH_EVERY is 0.2 s): a handler busy
#: for a few of these is sure to be watched.
QUICK = 0.01


@pytest.fixture
def quick_watch(monkeypatch: pytest.MonkeyPatch) -> None:
    # (The module: ``flaskish.websocket`` is the proxy.)
    monkeypatch.setattr(sys.modules["flaskish.websocket"], "WATCH_EVERY", QUICK)


def current() -> Websocket:
    ws: Websocket = websocket._get_current_object()  # type: ignore[attr-defined]
    return ws


def test_an_async_handler_receives_from_the_server_directly(
    app: Flask, client: FlaskClient
) -> None:
    """No watcher runs while the handler is in ``receive()``."""
    seen: list[Any] = []

    @app.websocket("/ws")
    async def handler() -> None:
        ws = current()
        for _ in range(3):
            message = await websocket.receive()
            seen.append((message, ws._watching, ws._receiving))
            await websocket.send(message)

    with client.websocket("/ws") as ws:
        for n in range(3):
            ws.send(str(n))
            assert ws.receive() == str(n)
    assert seen == [("0", False, 0), ("1", False, 0), ("2", False, 0)]


@pytest.mark.usefixtures("quick_watch")
def test_messages_sent_while_the_handler_is_busy_arrive_in_order_then_it_reads_directly(
    app: Flask, client: FlaskClient
) -> None:
    """The watcher reads what comes while the handler awaits something else,
    hands the next message to the handler's ``receive()`` and stops."""
    seen: list[Any] = []

    @app.websocket("/ws")
    async def handler() -> None:
        ws = current()
        await websocket.receive()  # "go"
        await anyio.sleep(20 * QUICK)  # busy: the watcher reads meanwhile
        seen.append(("watching", ws._watching, len(ws._inbox or ())))
        got = [await websocket.receive() for _ in range(5)]
        await websocket.send(",".join(got))
        got.append(await websocket.receive())  # waits for the watcher, which then stops
        seen.append(("watching", ws._watching))
        got.append(await websocket.receive())  # read directly again
        await websocket.send(",".join(got))

    with client.websocket("/ws") as ws:
        ws.send("go")
        for n in range(5):
            ws.send(str(n))
        assert ws.receive() == "0,1,2,3,4"
        ws.send("5")
        ws.send("6")
        assert ws.receive() == "0,1,2,3,4,5,6"
    assert seen == [("watching", True, 5), ("watching", False)]


@pytest.mark.usefixtures("quick_watch")
@pytest.mark.parametrize("busy", [False, True], ids=["direct", "watched"])
def test_two_tasks_receiving_at_once_each_get_different_messages_none_lost(
    app: Flask, client: FlaskClient, busy: bool
) -> None:
    """Each message goes to one of the two tasks, and each task sees its
    messages in the order they were sent (with the watcher reading too,
    when the tasks pause between receives)."""
    got: dict[int, list[int]] = {1: [], 2: []}

    @app.websocket("/ws")
    async def handler() -> None:
        async def take(n: int) -> None:
            while (message := await websocket.receive()) != "end":
                got[n].append(int(message))
                if busy and int(message) % 10 == n:
                    await anyio.sleep(3 * QUICK)

        async with anyio.create_task_group() as tg:
            tg.start_soon(take, 1)
            tg.start_soon(take, 2)
        await websocket.send("done")

    with client.websocket("/ws") as ws:
        for n in range(100):
            ws.send(str(n))
        ws.send("end")
        ws.send("end")
        assert ws.receive() == "done"
    assert sorted(got[1] + got[2]) == list(range(100))
    assert got[1] == sorted(got[1]) and got[2] == sorted(got[2])


@pytest.mark.anyio
async def test_the_first_sends_of_two_tasks_accept_once_before_either_message() -> None:
    """The accept is sent in turn with the messages: a server whose send
    takes a while for it sees it first, and once."""
    sent: list[str] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "websocket.accept":
            await anyio.sleep(0.01)
        sent.append(message["type"])

    async def receive() -> dict[str, Any]:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")  # pragma: no cover

    scope = {"type": "websocket", "path": "/ws", "query_string": b"", "headers": []}
    ws = Websocket(scope, receive, send)
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(ws._send_message, "one")
            tg.start_soon(ws._send_message, "two")
    finally:
        ws._release()
    assert sent == ["websocket.accept", "websocket.send", "websocket.send"]


@pytest.mark.usefixtures("quick_watch")
def test_order_is_kept_when_the_handler_goes_from_busy_to_receiving_and_back(
    app: Flask, client: FlaskClient
) -> None:
    @app.websocket("/ws")
    async def handler() -> None:
        got: list[str] = []
        while (message := await websocket.receive()) != "end":
            got.append(message)
            if len(got) % 25 == 0:
                await anyio.sleep(3 * QUICK)  # the watcher takes over for a while
        await websocket.send(" ".join(got))

    with client.websocket("/ws") as ws:
        for n in range(300):
            ws.send(str(n))
        ws.send("end")
        assert ws.receive() == " ".join(str(n) for n in range(300))


@pytest.mark.usefixtures("quick_watch")
def test_the_watcher_reads_at_most_queue_size_messages_ahead(
    app: Flask, client: FlaskClient
) -> None:
    """Backpressure: the rest wait on the server's side (then the client's)."""
    ahead: list[int] = []

    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept()
        await anyio.sleep(30 * QUICK)
        ahead.append(len(current()._inbox or ()))
        got = [await websocket.receive() for _ in range(40)]
        await websocket.send(",".join(got))

    with client.websocket("/ws") as ws:
        for n in range(40):
            ws.send(str(n))
        assert ws.receive() == ",".join(str(n) for n in range(40))
    assert ahead == [QUEUE_SIZE]


@pytest.mark.usefixtures("quick_watch")
def test_receive_with_a_timeout_while_the_watcher_reads(app: Flask, client: FlaskClient) -> None:
    waiting = threading.Event()

    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept()
        await anyio.sleep(5 * QUICK)  # the watcher reads from now on
        timed_out = await websocket.receive(timeout=QUICK)
        waiting.set()
        message = await websocket.receive(timeout=5)
        await websocket.send(f"{timed_out!r} {message!r}")

    with client.websocket("/ws") as ws:
        assert waiting.wait(5)
        ws.send("late")
        assert ws.receive() == "None 'late'"


@pytest.mark.usefixtures("quick_watch")
def test_a_message_over_the_limit_while_the_handler_is_busy_closes_with_1009(
    app: Flask, client: FlaskClient
) -> None:
    app.config["WEBSOCKET_MAX_MESSAGE_SIZE"] = 10
    ended: list[str] = []

    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept()
        try:
            await anyio.sleep(30)
        finally:
            ended.append("cancelled")

    with client.websocket("/ws") as ws:
        ws.send("x" * 11)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive()
    assert closed.value.code == 1009
    assert ended == ["cancelled"]


@pytest.mark.usefixtures("quick_watch")
def test_the_app_closing_wakes_a_task_waiting_on_the_watcher(
    app: Flask, client: FlaskClient
) -> None:
    seen: list[Any] = []

    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept()
        await anyio.sleep(5 * QUICK)  # the watcher reads from now on

        async def receiver() -> None:
            try:
                await websocket.receive()
            except WebSocketDisconnect as exc:
                seen.append(exc.code)

        async with anyio.create_task_group() as tg:
            tg.start_soon(receiver)
            await anyio.sleep(QUICK)
            await websocket.close(4000)

    with client.websocket("/ws") as ws, pytest.raises(WebSocketDisconnect):
        ws.receive()
    assert seen == [4000]


def test_a_message_handed_over_as_its_receive_is_cancelled_is_not_lost(
    app: Flask, client: FlaskClient
) -> None:
    """The watcher gave it to a ``receive()`` whose task was cancelled in
    the same moment: the next ``receive()`` gets it."""

    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept()
        ws = current()
        ws._watching = True  # as if a watcher read the connection
        waiting = asyncio.ensure_future(ws._receive_message(None))
        await anyio.sleep(0.01)  # it waits for the watcher
        ws._hand_over("kept")
        waiting.cancel()  # before it could resume with the message
        with pytest.raises(asyncio.CancelledError):
            await waiting
        ws._watching = False
        await websocket.send(await websocket.receive())

    with client.websocket("/ws") as ws:
        assert ws.receive() == "kept"


@pytest.mark.usefixtures("quick_watch")
def test_a_receive_that_times_out_lets_the_next_one_have_the_message(
    app: Flask, client: FlaskClient
) -> None:
    """A timed-out ``receive()`` (direct or via the watcher) takes nothing."""
    ready = threading.Event()

    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept()
        results = [await websocket.receive(timeout=QUICK)]  # direct
        await anyio.sleep(5 * QUICK)
        results.append(await websocket.receive(timeout=QUICK))  # via the watcher
        ready.set()
        results.append(await websocket.receive())
        await websocket.send(repr(results))

    with client.websocket("/ws") as ws:
        assert ready.wait(5)
        ws.send("one")
        assert ws.receive() == "[None, None, 'one']"


@pytest.mark.anyio
async def test_the_watch_task_ends_with_the_last_connection(
    app: Flask, client: FlaskClient, quick_watch: None, anyio_backend: str
) -> None:
    """(On asyncio: elsewhere a watcher reads each connection all along.)"""
    if anyio_backend != "asyncio":
        pytest.skip("the watch is asyncio's")

    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.send(await websocket.receive())

    def watch_tasks() -> list[asyncio.Task[Any]]:
        return [t for t in asyncio.all_tasks() if t.get_name() == "flaskish websocket watch"]

    for _ in range(2):  # started again by the next connection
        async with client.websocket("/ws") as ws:
            await ws.send("hi")
            assert await ws.receive() == "hi"
            assert len(watch_tasks()) == 1
        with anyio.fail_after(5):
            while watch_tasks():
                await anyio.sleep(QUICK)


def bare_websocket(send: Any, receive: Any = None) -> Websocket:
    """A connection outside any app, on fake ASGI callables."""

    async def never() -> dict[str, Any]:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")  # pragma: no cover

    scope = {"type": "websocket", "path": "/ws", "query_string": b"", "headers": []}
    return Websocket(scope, receive or never, send)


@pytest.mark.anyio
async def test_senders_waiting_for_a_slow_send_go_in_the_order_they_came() -> None:
    sent: list[str] = []
    slow = anyio.Event()

    async def send(message: dict[str, Any]) -> None:
        if message.get("text") == "first":
            await slow.wait()
        sent.append(message.get("text") or message["type"])

    ws = bare_websocket(send)
    try:
        await ws._accept(None, None)
        async with anyio.create_task_group() as tg:
            for text in ("first", "second", "third"):
                tg.start_soon(ws._send_message, text)
                await anyio.sleep(0.01)
            assert len(ws._send_turns or ()) == 2  # second and third wait
            slow.set()
    finally:
        ws._release()
    assert sent == ["websocket.accept", "first", "second", "third"]


@pytest.mark.anyio
async def test_a_sender_cancelled_while_waiting_for_its_turn_sends_nothing() -> None:
    sent: list[str] = []
    slow = anyio.Event()

    async def send(message: dict[str, Any]) -> None:
        if message.get("text") == "first":
            await slow.wait()
        sent.append(message.get("text") or message["type"])

    ws = bare_websocket(send)
    try:
        await ws._accept(None, None)
        async with anyio.create_task_group() as tg:
            tg.start_soon(ws._send_message, "first")
            await anyio.sleep(0.01)
            async with anyio.create_task_group() as cancelled:
                cancelled.start_soon(ws._send_message, "never")
                await anyio.sleep(0.01)
                cancelled.cancel_scope.cancel()
            tg.start_soon(ws._send_message, "third")
            await anyio.sleep(0.01)
            slow.set()
    finally:
        ws._release()
    assert sent == ["websocket.accept", "first", "third"]


@pytest.mark.anyio
async def test_an_error_from_the_servers_receive_in_the_watcher_is_raised_by_the_app(
    app: Flask, quick_watch: None, anyio_backend: str
) -> None:
    """The handler, busy elsewhere, is cancelled; the app raises the error
    as it is once the connection has ended."""
    ended: list[str] = []

    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept()
        try:
            await anyio.sleep(30)
        finally:
            ended.append("cancelled")

    messages = [{"type": "websocket.connect"}]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        raise RuntimeError("the server broke")

    async def send(message: dict[str, Any]) -> None:
        pass

    scope = {
        "type": "websocket",
        "path": "/ws",
        "raw_path": b"/ws",
        "query_string": b"",
        "headers": [(b"host", b"localhost")],
        "scheme": "ws",
        "server": ("localhost", 80),
        "root_path": "",
        "subprotocols": [],
        "extensions": {},
    }
    with anyio.fail_after(5), pytest.raises(RuntimeError, match="the server broke"):
        await app(scope, receive, send)
    assert ended == ["cancelled"]
