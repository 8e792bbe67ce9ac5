"""Websocket connections for the test client:
``with client.websocket("/chat") as ws: ws.send("hi"); ws.receive()``.

One implementation, on an event loop: in an async test (``async with
client.websocket(...) as ws: await ws.send("hi")``) the test's own; in a
sync test a portal's (the client's in ``with client:``, where the lifespan
ran, else one for the connection), each call made through it, as for the
client's HTTP requests. Either way it has the client's cookies; a
refusal before the connection is accepted raises :class:`WebsocketDenied`
with the HTTP response, and the app closing the connection raises
:class:`~flaskish.exceptions.WebSocketDisconnect` from ``receive()``.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Awaitable, Callable, MutableMapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import unquote

import anyio

from .concurrency import blocking_portal, on_event_loop
from .exceptions import WebSocketDisconnect

if TYPE_CHECKING:
    import httpx2 as httpx
    from anyio.from_thread import BlockingPortal
    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
    from starlette.types import Message, Receive, Scope, Send

__all__ = ["TestWebsocket", "WebsocketDenied", "connect"]

T = TypeVar("T")


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
        self,
        app: Callable[[Scope, Receive, Send], Awaitable[None]],
        scope: Callable[[], Scope],
        portal: Callable[[], BlockingPortal | None],
    ) -> None:
        self._client: object = None  # the test client, kept alive while this is
        self._app = app
        self._make_scope = scope
        self._client_portal = portal
        self._async: _AsyncSession | None = None
        self._accepted: Message = {}
        self._portal: BlockingPortal | None = None  # a sync test's
        self._held: contextlib.ExitStack | None = None

    # -- sync: the same connection, on a portal's loop --------------------------

    def __enter__(self) -> TestWebsocket:
        if on_event_loop():
            raise RuntimeError(
                "client.websocket() in async code is entered with `async with "
                "client.websocket(...) as ws:` (and its methods awaited); `with` would block "
                "the event loop."
            )
        with contextlib.ExitStack() as held:
            portal = self._client_portal()
            if portal is None:
                portal = held.enter_context(blocking_portal())
            # One task of the portal's runs the connection, start to end.
            held.enter_context(portal.wrap_async_context_manager(self._connection()))
            self._held = held.pop_all()
        self._portal = portal
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        held, self._held, self._portal = self._held, None, None
        if held is not None:
            held.__exit__(exc_type, exc, tb)

    @contextlib.asynccontextmanager
    async def _connection(self) -> Any:
        await self.__aenter__()
        try:
            yield
        finally:
            await self.__aexit__(None, None, None)

    def _run(self, func: Callable[..., Awaitable[T]], *args: Any) -> Any:
        """*func*'s awaitable in an async test; its result, through the
        portal, in a sync one."""
        if self._portal is not None:
            return self._portal.call(func, *args)
        return func(*args)

    # -- async: the app on the test's loop ----------------------------------------

    async def __aenter__(self) -> TestWebsocket:
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
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._async = self._async, None
        if connection is not None:
            await connection.stop(self.end_timeout)

    # -- the connection ---------------------------------------------------------------

    def _check_open(self) -> _AsyncSession:
        if self._async is None:
            raise RuntimeError(
                "The test websocket is not connected: use it as "
                "`with client.websocket('/path') as ws:` (`async with` in async code)."
            )
        return self._async

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
        return self._run(self._receive_async, self._check_open())

    async def _receive_async(self, connection: _AsyncSession) -> str | bytes:
        return _message_data(await connection.receive())

    def receive_json(self) -> Any:
        """The app's next message, parsed as JSON."""
        if self._portal is not None:
            return json.loads(self.receive())
        return self._receive_json_async()

    async def _receive_json_async(self) -> Any:
        return json.loads(await self.receive())

    def close(self, code: int = 1000, reason: str = "") -> Any:
        """Close the connection from the client's side (the app's
        ``receive()`` raises ``WebSocketDisconnect`` with *code*)."""
        return self._to_app({"type": "websocket.disconnect", "code": code, "reason": reason})

    def _to_app(self, message: Message) -> Any:
        return self._run(self._check_open().send, message)


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
        headers = {  # names in lower case, as httpx gives them
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in first.get("headers", [])
        }
        return WebsocketDenied(first["status"], headers, body)
    return WebSocketDisconnect(first.get("code", 1000), first.get("reason") or "")


def connect(
    http: httpx.AsyncClient,
    app: Callable[[Scope, Receive, Send], Awaitable[None]],
    url: str,
    subprotocols: list[str] | None,
    headers: dict[str, str] | None,
    portal: Callable[[], BlockingPortal | None],
) -> TestWebsocket:
    """The test websocket of ``client.websocket()``: *app* run with the
    scope of a request *http* (the client's httpx client, with its cookies)
    would send to *url*; in a sync test on *portal* (the client's, when it
    has one)."""
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
            "headers": [
                (k.lower().encode("latin-1"), v.encode("latin-1"))
                for k, v in request.headers.multi_items()
            ],
            "client": list(http._transport.client),  # type: ignore[attr-defined]
            "server": [request.url.host, request.url.port or 80],
            "subprotocols": offered_list if offered else [],
            "state": {},
            "extensions": {"websocket.http.response": {}},
        }

    return TestWebsocket(app, scope, portal)
