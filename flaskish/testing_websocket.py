"""Websocket connections for the test client:
``with client.websocket("/chat") as ws: ws.send("hi"); ws.receive()``.

In a sync test the connection runs over Starlette's test transport (the
app on an event loop of the client's, as for HTTP requests); in an async
test (``async with client.websocket(...) as ws: await ws.send("hi")``) the
app runs on the test's own loop. Either way it has the client's cookies; a
refusal before the connection is accepted raises :class:`WebsocketDenied`
with the HTTP response, and the app closing the connection raises
:class:`~flaskish.exceptions.WebSocketDisconnect` from ``receive()``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote

import anyio
from starlette.testclient import WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect as StarletteDisconnect

from .concurrency import on_event_loop
from .exceptions import WebSocketDisconnect

if TYPE_CHECKING:
    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
    from starlette.testclient import TestClient, WebSocketTestSession
    from starlette.types import Message, Receive, Scope, Send

__all__ = ["TestWebsocket", "WebsocketDenied", "connect", "serve"]


class WebsocketDenied(Exception):
    """The app refused the websocket with an HTTP response (``abort(403)``
    before accepting, a ``before_websocket`` function's return value...).

    :param status_code: the response's status.
    :param headers: its headers.
    :param data: its body.
    """

    def __init__(self, status_code: int, headers: dict[str, str], data: bytes) -> None:
        super().__init__(f"The websocket was refused with {status_code}.")
        self.status_code = status_code
        self.headers = headers
        self.data = data

    @property
    def text(self) -> str:
        """The body as text."""
        return self.data.decode("utf-8", "replace")


class TestWebsocket:
    """One test connection; use it as a context manager: ``with`` in a
    sync test, ``async with`` in an async one (the app then runs on the
    test's own event loop, and the methods are awaited). Leaving the block
    closes the connection with 1000 and lets the app end it (the handler
    sees the disconnect, teardown runs)."""

    __test__ = False  # not a pytest test class

    #: Seconds leaving the block waits for the app to end the connection
    #: once the client has closed it, before the app is cancelled.
    end_timeout = 5.0

    def __init__(
        self, connect: Any, ended: threading.Event | None = None,
        app: Callable[[Scope, Receive, Send], Awaitable[None]] | None = None,
        scope: Callable[[], Scope] | None = None,
    ) -> None:
        self._connect = connect
        self._client: object = None  # the test client, kept alive while this is
        self._ended = ended
        self._session: WebSocketTestSession | None = None
        self._app = app
        self._make_scope = scope
        self._async: _AsyncSession | None = None
        self._accepted: Message = {}

    # -- sync: Starlette's session, the app on a portal's loop ------------------

    def __enter__(self) -> TestWebsocket:
        if on_event_loop():
            raise RuntimeError(
                "client.websocket() in async code is entered with `async with "
                "client.websocket(...) as ws:` (and its methods awaited); `with` would block "
                "the event loop."
            )
        try:
            self._session = self._connect().__enter__()
        except WebSocketDenialResponse as denied:
            raise WebsocketDenied(
                denied.status_code, dict(denied.headers), denied.content
            ) from None
        except StarletteDisconnect as closed:
            raise WebSocketDisconnect(closed.code, closed.reason or "") from None
        self._accepted = {
            "subprotocol": self._session.accepted_subprotocol,
            "headers": self._session.extra_headers or [],
        }
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self._session
        if session is None:
            return
        self._session = None
        if self._ended is not None and not self._ended.is_set():
            # Close, then let the app end the connection (its handler sees the
            # disconnect, teardown runs) before Starlette's session cancels it.
            with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
                session.close(1000)
            self._ended.wait(self.end_timeout)
        session.__exit__(exc_type, exc, tb)

    # -- async: the app on the test's loop ----------------------------------------

    async def __aenter__(self) -> TestWebsocket:
        if self._app is None or self._make_scope is None:  # pragma: no cover - the client's
            raise RuntimeError("This test websocket was made without an app to run.")
        connection = _AsyncSession(self._app, self._make_scope())
        first = await connection.start()
        if first["type"] != "websocket.accept":
            denied = first["type"] == "websocket.http.response.start"
            body = await connection.body() if denied else b""
            await connection.stop(self.end_timeout)  # the app's error, if it raised, first
            raise _refusal(first, body)
        self._async = connection
        self._accepted = first
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._async = self._async, None
        if connection is not None:
            await connection.stop(self.end_timeout)

    # -- the connection ---------------------------------------------------------------

    def _check_open(self) -> None:
        if self._session is None and self._async is None:
            raise RuntimeError(
                "The test websocket is not connected: use it as "
                "`with client.websocket('/path') as ws:` (`async with` in async code)."
            )

    def _sync_session(self) -> WebSocketTestSession:
        """The connection of a sync test (after :meth:`_check_open`)."""
        if self._session is None:
            self._check_open()
            raise RuntimeError("The test websocket was opened with `async with`: await it.")
        return self._session

    @property
    def subprotocol(self) -> str | None:
        """The subprotocol the app accepted the connection with."""
        self._check_open()
        return cast("str | None", self._accepted.get("subprotocol"))

    @property
    def headers(self) -> dict[str, str]:
        """The extra headers the app accepted the connection with."""
        self._check_open()
        raw: list[tuple[bytes, bytes]] = self._accepted.get("headers") or []
        return {name.decode("latin-1"): value.decode("latin-1") for name, value in raw}

    def send(self, data: str | bytes) -> Any:
        """Send a text (``str``) or binary (``bytes``) message to the app
        (awaited with ``async with``)."""
        if isinstance(data, str):
            message: Message = {"type": "websocket.receive", "text": data}
        elif isinstance(data, bytes):
            message = {"type": "websocket.receive", "bytes": data}
        else:
            raise TypeError(
                f"send() takes str or bytes, not {type(data).__name__}; "
                "use send_json(obj) for other objects."
            )
        return self._to_app(message)

    def send_json(self, obj: Any) -> Any:
        """Send *obj* as a JSON text message."""
        return self.send(json.dumps(obj))

    def receive(self) -> Any:
        """The app's next message, ``str`` or ``bytes`` (awaited with
        ``async with``).

        :raises WebSocketDisconnect: the app closed the connection.
        """
        self._check_open()
        if self._async is not None:
            return self._receive_async(self._async)
        return _message_data(self._sync_session().receive())

    async def _receive_async(self, connection: _AsyncSession) -> str | bytes:
        return _message_data(await connection.receive())

    def receive_json(self) -> Any:
        """The app's next message, parsed as JSON."""
        if self._async is not None:
            return self._receive_json_async()
        return json.loads(self.receive())

    async def _receive_json_async(self) -> Any:
        return json.loads(await self.receive())

    def close(self, code: int = 1000, reason: str = "") -> Any:
        """Close the connection from the client's side (the app's
        ``receive()`` raises ``WebSocketDisconnect`` with *code*)."""
        return self._to_app({"type": "websocket.disconnect", "code": code, "reason": reason})

    def _to_app(self, message: Message) -> Any:
        self._check_open()
        if self._async is not None:
            return self._async.send(message)
        self._sync_session().send(message)
        return None


def _message_data(message: Message) -> str | bytes:
    if message["type"] == "websocket.close":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason") or "")
    if message.get("text") is not None:
        return str(message["text"])
    return bytes(message.get("bytes") or b"")


class _AsyncSession:
    """The app on the current event loop, with a queue each way."""

    def __init__(
        self, app: Callable[[Scope, Receive, Send], Awaitable[None]], scope: Scope
    ) -> None:
        self._app = app
        self._scope = scope
        to_app = anyio.create_memory_object_stream[MutableMapping[str, Any]](math.inf)
        from_app = anyio.create_memory_object_stream[MutableMapping[str, Any]](math.inf)
        self._to_app: MemoryObjectSendStream[Message] = to_app[0]
        self._app_inbox: MemoryObjectReceiveStream[Message] = to_app[1]
        self._app_outbox: MemoryObjectSendStream[Message] = from_app[0]
        self._from_app: MemoryObjectReceiveStream[Message] = from_app[1]
        self._tasks = anyio.create_task_group()
        self._ended = anyio.Event()
        self._error: Exception | None = None

    async def start(self) -> Message:
        await self._tasks.__aenter__()
        self._tasks.start_soon(self._run)
        await self._to_app.send({"type": "websocket.connect"})
        return await self.receive()

    async def _run(self) -> None:
        try:
            await self._app(self._scope, self._app_inbox.receive, self._app_outbox.send)
        except Exception as exc:
            # Kept for stop() to raise: raised here, it would cancel the task
            # group, and with it the test's own code inside ``async with``
            # (a receive() of the close the app just sent).
            self._error = exc
        finally:
            self._ended.set()
            self._app_outbox.close()  # a receive() waiting for the app ends

    async def send(self, message: Message) -> None:
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            await self._to_app.send(message)  # the app may have ended

    async def receive(self) -> Message:
        try:
            message: Message = await self._from_app.receive()
            return message
        except anyio.EndOfStream:
            return {"type": "websocket.close", "code": 1006, "reason": "The app ended."}

    async def body(self) -> bytes:
        """The body of a denial response."""
        chunks: list[bytes] = []
        while True:
            message = await self.receive()
            if message["type"] != "websocket.http.response.body":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def stop(self, timeout: float) -> None:
        """Close (if the app has not ended it), let the app end, and raise
        its error if it raised."""
        if not self._ended.is_set():
            await self.send({"type": "websocket.disconnect", "code": 1000, "reason": ""})
            with anyio.move_on_after(timeout):
                await self._ended.wait()
            self._tasks.cancel_scope.cancel()
        try:
            await self._tasks.__aexit__(None, None, None)
            error, self._error = self._error, None
            if error is not None:
                raise error  # the app's error, as in a sync test
        finally:
            for stream in (self._to_app, self._app_inbox, self._app_outbox, self._from_app):
                stream.close()


def _refusal(first: Message, body: bytes) -> Exception:
    if first["type"] == "websocket.http.response.start":
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in first.get("headers", [])}
        return WebsocketDenied(first["status"], headers, body)
    return WebSocketDisconnect(first.get("code", 1000), first.get("reason") or "")


#: Names a test websocket, for the client to know when the app has ended it.
_ENDED_HEADER = "x-flaskish-test-websocket"
_keys = itertools.count()
_ended: dict[str, threading.Event] = {}


def connect(
    http: TestClient, app: Callable[[Scope, Receive, Send], Awaitable[None]], url: str,
    subprotocols: list[str] | None, headers: dict[str, str] | None,
) -> TestWebsocket:
    """The test websocket of ``client.websocket()``: over *http* (the
    client's Starlette test client) in a sync test, *app* run on the test's
    loop in an async one."""
    key = str(next(_keys))
    ended = threading.Event()
    offered = {"sec-websocket-protocol": ", ".join(subprotocols)} if subprotocols else {}

    def scope() -> Scope:
        request = http.build_request("GET", url, headers={**(headers or {}), **offered})
        offered_list = [p.strip() for p in offered.get("sec-websocket-protocol", "").split(",")]
        return {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "path": unquote(request.url.path),
            "raw_path": request.url.raw_path.split(b"?", 1)[0],
            "root_path": "",
            "scheme": request.url.scheme,
            "query_string": request.url.query,
            "headers": [(k.lower().encode("latin-1"), v.encode("latin-1"))
                        for k, v in request.headers.multi_items()],
            "client": list(http._transport.client),  # type: ignore[attr-defined]
            "server": [request.url.host, request.url.port or 80],
            "subprotocols": offered_list if offered else [],
            "state": {},
            "extensions": {"websocket.http.response": {}},
        }

    def session() -> WebSocketTestSession:
        _ended[key] = ended  # popped by serve(), when the app gets the connection
        return http.websocket_connect(
            url, subprotocols=subprotocols, headers={**(headers or {}), _ENDED_HEADER: key},
        )

    return TestWebsocket(session, ended, app, scope)


async def serve(
    app: Callable[[Scope, Receive, Send], Awaitable[None]], scope: Scope, receive: Receive,
    send: Send,
) -> None:
    """Run *app* for a sync test's websocket, then tell its ``with`` block
    the connection has ended."""
    name = _ENDED_HEADER.encode()
    key = next((v.decode() for k, v in scope.get("headers", ()) if k == name), None)
    scope["headers"] = [(k, v) for k, v in scope.get("headers", ()) if k != name]
    ended = _ended.pop(key, None) if key is not None else None
    try:
        await app(scope, receive, send)
    finally:
        if ended is not None:
            ended.set()
