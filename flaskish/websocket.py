"""One websocket connection, available in a handler as
:data:`flaskish.websocket` (and as :data:`flaskish.request`: the handshake
is a request, so ``request.args``, ``session`` and extensions that read
them work as in a view).

Its I/O methods are dual, like the request body: in an ``async def``
handler they are awaited (``await websocket.receive()``); in a ``def``
handler they block that handler's thread only (``websocket.receive()``),
which meanwhile gives up its ``THREAD_POOL_SIZE`` slot. They may also be
called from a thread the ``def`` handler started (to send while it
receives). ``receive()`` and ``send()`` accept the connection first if the
handler has not.

Once accepted, a reader task takes messages off the connection into a
small queue, so a disconnect is seen at once: ``receive()`` and ``send()``
raise :class:`~flaskish.exceptions.WebSocketDisconnect`, and an ``async
def`` handler that has not ended a moment later (it awaits something
else) is cancelled.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .concurrency import current_loop, on_loop_thread, run_in_loop_of
from .exceptions import WebSocketDisconnect
from .request import Request

if TYPE_CHECKING:
    from anyio.abc import TaskGroup
    from starlette.types import Receive, Scope, Send

__all__ = ["Websocket"]

#: How many received messages wait for the handler before the reader stops
#: reading (the client then waits: backpressure, not memory).
QUEUE_SIZE = 16

#: Seconds an ``async def`` handler has to end once the client is gone,
#: before it is cancelled.
CANCEL_AFTER = 0.25

_NORMAL, _POLICY, _TOO_BIG = 1000, 1008, 1009


class Websocket(Request):
    """A websocket connection: the handshake request (``path``, ``args``,
    ``headers``, ``cookies``, ``scheme``...) and the connection's I/O.

    :param scope: the ASGI websocket scope.
    :param receive: the ASGI receive callable of the connection.
    :param send: the ASGI send callable of the connection.
    :param max_message_size: ``WEBSOCKET_MAX_MESSAGE_SIZE``: a larger
        message closes the connection with 1009.
    """

    _is_websocket = True
    #: The app's JSON provider (set by the app): ``send_json`` and
    #: ``receive_json`` use it from whatever thread they are called on.
    _json: Any = None

    def __init__(
        self, scope: Scope, receive: Receive, send: Send, max_message_size: int | None = None
    ) -> None:
        self.scope = scope
        self._receive = _no_body
        self.method = "GET"
        self.scheme = scope.get("scheme", "ws")
        self._asgi_receive = receive
        self._asgi_send = send
        self._max_message_size = max_message_size
        #: Whether the connection was accepted.
        self.accepted = False
        #: Whether it was closed (by the app, or by the client going away).
        self.closed = False
        #: The subprotocol the connection was accepted with.
        self.subprotocol: str | None = None
        self._disconnect: WebSocketDisconnect | None = None
        self._loop = current_loop()
        # The event loop's thread: a call from it returns an awaitable (a
        # thread check, cheaper than asking anyio for the current task).
        self._loop_thread = threading.get_ident()
        # Uncontended (one sender), taking the lock costs no trip through
        # the event loop.
        self._send_lock = anyio.Lock(fast_acquire=True)
        self._inbox: MemoryObjectReceiveStream[str | bytes] | None = None
        self._inbox_writer: MemoryObjectSendStream[str | bytes] | None = None
        #: Set by the app: where the reader task runs (the connection's).
        self._task_group: TaskGroup | None = None
        #: Set by the app while an ``async def`` handler runs: cancelled
        #: when the client goes away.
        self._handler_scope: anyio.CancelScope | None = None

    @property
    def requested_subprotocols(self) -> list[str]:
        """The subprotocols the client offered, in its order."""
        return list(self.scope.get("subprotocols", ()))

    #: The same: the subprotocols the client offered.
    subprotocols = requested_subprotocols

    # -- the dual API -------------------------------------------------------

    def _io(self, func: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> Any:
        """*func(*args)*: awaitable on the event loop, done at once (blocking
        this thread) in sync code."""
        if threading.get_ident() == self._loop_thread or on_loop_thread():
            # (The second test: another event loop's thread, e.g. the test
            # client's, where each sync test connection has a loop of its own.)
            return func(*args)
        return run_in_loop_of(self._loop, func, *args)

    def accept(
        self, headers: dict[str, str] | list[tuple[str, str]] | None = None,
        subprotocol: str | None = None,
    ) -> Any:
        """Accept the connection, with extra response *headers* and one of
        :attr:`requested_subprotocols`. ``receive()`` and ``send()`` accept
        it (without either) if the handler has not."""
        return self._io(self._accept, headers, subprotocol)

    def receive(self, timeout: float | None = None) -> Any:
        """The next message (``str`` or ``bytes``); ``None`` if *timeout*
        seconds pass without one (Flask-Sock's rule).

        :raises WebSocketDisconnect: the client went away.
        """
        return self._io(self._receive_message, timeout)

    def send(self, data: str | bytes) -> Any:
        """Send a text (``str``) or binary (``bytes``) message.

        :raises WebSocketDisconnect: the client went away.
        """
        return self._io(self._send_message, data)

    def receive_json(self, timeout: float | None = None) -> Any:
        """The next message, parsed as JSON (``None`` after *timeout*)."""
        return self._io(self._receive_json, timeout)

    def send_json(self, obj: Any) -> Any:
        """Send *obj* as a JSON text message (with the app's JSON provider)."""
        dumps = self._json.dumps if self._json is not None else json.dumps
        return self._io(self._send_message, dumps(obj))

    def _close_body(self) -> None:
        """Close what a request closes at its end (a handshake has no
        uploads); :meth:`close` closes the connection."""
        Request.close(self)

    def close(self, code: int = _NORMAL, reason: str = "") -> Any:
        """Close the connection with *code* (before it is accepted: refuse
        it; the client sees a 403). Closing a closed connection does
        nothing."""
        return self._io(self._close, code, reason)

    # -- the ASGI side (on the event loop) ----------------------------------

    async def _accept(
        self, headers: dict[str, str] | list[tuple[str, str]] | None, subprotocol: str | None
    ) -> None:
        if self.accepted:
            raise RuntimeError(
                "The websocket is already accepted (receive() and send() accept it first). "
                "Call websocket.accept(...) before them to pass headers or a subprotocol."
            )
        if self.closed:
            raise WebSocketDisconnect(*self._closed_as())
        if subprotocol is not None and subprotocol not in self.requested_subprotocols:
            raise ValueError(
                f"The client did not offer the subprotocol {subprotocol!r}; it offered "
                f"{self.requested_subprotocols}. Accept one of those, or None."
            )
        items = headers.items() if isinstance(headers, dict) else (headers or ())
        try:
            await self._asgi_send({
                "type": "websocket.accept", "subprotocol": subprotocol,
                "headers": [(name.lower().encode("latin-1"), value.encode("latin-1"))
                            for name, value in items],
            })
        except OSError as exc:  # the client left during the handshake (ClientDisconnected)
            self._gone(1006, str(exc))
            raise WebSocketDisconnect(1006, "The connection was lost.") from None
        self.accepted = True
        self.subprotocol = subprotocol
        self._inbox_writer, self._inbox = anyio.create_memory_object_stream[str | bytes](
            QUEUE_SIZE
        )
        if self._task_group is not None:
            self._task_group.start_soon(self._read)

    async def _read(self) -> None:
        """Take messages off the connection until the client goes away."""
        writer = self._inbox_writer
        if writer is None:  # pragma: no cover - started by _accept, which makes it
            raise RuntimeError("The websocket's reader started before the connection was accepted.")
        with writer:
            while True:
                message = await self._asgi_receive()
                kind = message["type"]
                if kind == "websocket.disconnect":
                    self._gone(message.get("code", 1005), message.get("reason") or "")
                    return
                if kind != "websocket.receive":  # pragma: no cover - not sent by servers
                    continue
                data = message.get("text")
                if data is None:
                    data = message.get("bytes") or b""
                limit = self._max_message_size
                if limit is not None and _too_big(data, limit):
                    await self._close(_TOO_BIG, f"A message is over {limit} bytes.")
                    self._gone(_TOO_BIG, f"A message is over {limit} bytes.")
                    return
                try:
                    writer.send_nowait(data)  # room in the queue: no extra loop pass
                except anyio.WouldBlock:
                    await writer.send(data)

    def _gone(self, code: int, reason: str) -> None:
        self.closed = True
        if self._disconnect is None:
            self._disconnect = WebSocketDisconnect(code, reason)
        if self._inbox_writer is not None:
            self._inbox_writer.close()  # a waiting receive() raises WebSocketDisconnect
        scope = self._handler_scope
        if scope is not None:
            # An async def handler that does not end by itself (it awaits
            # something else) is cancelled after a moment.
            scope.deadline = min(scope.deadline, anyio.current_time() + CANCEL_AFTER)

    def _closed_as(self) -> tuple[int, str]:
        gone = self._disconnect
        return (gone.code, gone.reason) if gone is not None else (_NORMAL, "")

    async def _receive_message(self, timeout: float | None) -> str | bytes | None:
        if not self.accepted and not self.closed:
            await self._accept(None, None)
        inbox = self._inbox
        if inbox is None:
            raise WebSocketDisconnect(*self._closed_as())
        try:
            try:
                return inbox.receive_nowait()  # already here: no extra loop pass
            except anyio.WouldBlock:
                pass
            if timeout is None:
                return await inbox.receive()
            with anyio.move_on_after(timeout):
                return await inbox.receive()
            return None
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            raise WebSocketDisconnect(*self._closed_as()) from None

    async def _receive_json(self, timeout: float | None) -> Any:
        data = await self._receive_message(timeout)
        if data is None:
            return None
        return self._json.loads(data) if self._json is not None else json.loads(data)

    async def _send_message(self, data: str | bytes) -> None:
        if isinstance(data, str):
            message: dict[str, Any] = {"type": "websocket.send", "text": data}
        elif isinstance(data, (bytes, bytearray, memoryview)):
            message = {"type": "websocket.send", "bytes": bytes(data)}
        else:
            raise TypeError(
                f"websocket.send() takes str (a text message) or bytes (a binary one), not "
                f"{type(data).__name__}; send other objects with websocket.send_json(obj)."
            )
        if not self.accepted and not self.closed:
            await self._accept(None, None)
        if self.closed:
            raise WebSocketDisconnect(*self._closed_as())
        async with self._send_lock:
            try:
                await self._asgi_send(message)
            except OSError as exc:  # the server could not send: the client is gone
                self._gone(1006, str(exc))
                raise WebSocketDisconnect(1006, "The connection was lost.") from None

    async def _close(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        if self._disconnect is None:
            self._disconnect = WebSocketDisconnect(code, reason)
        async with self._send_lock:
            try:
                await self._asgi_send({"type": "websocket.close", "code": code, "reason": reason})
            except OSError:  # pragma: no cover - the client left first
                pass
        if self._inbox_writer is not None:
            self._inbox_writer.close()

    def _release(self) -> None:
        """The connection has ended: close the message queue's streams."""
        self.closed = True
        for stream in (self._inbox_writer, self._inbox):
            if stream is not None:
                stream.close()

    async def _deny(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        """Refuse the handshake with an HTTP response, where the server
        supports it (the ASGI websocket denial extension); else close with
        1008 (the client sees a 403)."""
        self.closed = True
        try:
            if "websocket.http.response" not in self.scope.get("extensions", {}):
                await self._asgi_send({"type": "websocket.close", "code": _POLICY, "reason": ""})
                return
            await self._asgi_send({
                "type": "websocket.http.response.start", "status": status, "headers": headers,
            })
            await self._asgi_send({"type": "websocket.http.response.body", "body": body})
        except OSError:  # the client left before hearing it
            pass

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url!r}>"


def _too_big(data: str | bytes, limit: int) -> bool:
    """Whether a message is over *limit* bytes (a text message's size is
    its UTF-8 length, as on the wire)."""
    if isinstance(data, bytes) or len(data) > limit or len(data) * 4 <= limit:
        return len(data) > limit
    return len(data.encode("utf-8", "surrogatepass")) > limit


async def _no_body() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}
