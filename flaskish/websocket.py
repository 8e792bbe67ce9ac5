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

``receive()`` awaits the server's ``receive`` itself, as Starlette's
does: a message costs no task of ours and no queue. While no task is in
``receive()`` (the handler awaits something else, or a ``def`` handler is
busy), nobody would see the client leave; so, every :data:`WATCH_EVERY`
seconds, one task per event loop (the *watch*) looks at the open
connections and starts a *watcher* task for each of those: it reads on
the handler's behalf into a small inbox, and hands over to the next
``receive()`` (which reads directly again). A ``def`` handler's
connection has a watcher all along. When the client goes away, ``receive()`` and
``send()`` raise :class:`~flaskish.exceptions.WebSocketDisconnect`, and an
``async def`` handler that has not ended :data:`CANCEL_AFTER` seconds
later (it awaits something else) is cancelled.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

import anyio
from anyio.lowlevel import RunVar

from .concurrency import current_loop, on_loop_thread, run_in_loop_of
from .exceptions import WebSocketDisconnect
from .must_await import DONE
from .request import Request

if TYPE_CHECKING:
    from anyio.abc import TaskGroup
    from starlette.types import Message, Receive, Scope, Send

__all__ = ["Websocket"]

#: How many messages the watcher reads ahead of the handler before it stops
#: reading (the client then waits: backpressure, not memory).
QUEUE_SIZE = 16

#: Seconds an ``async def`` handler has to end once the client is gone,
#: before it is cancelled.
CANCEL_AFTER = 0.25

#: Seconds between two looks at the connections no task is receiving on
#: (a disconnect is then seen within this, plus :data:`CANCEL_AFTER` for an
#: ``async def`` handler to be cancelled).
WATCH_EVERY = 0.2

_NORMAL, _POLICY, _TOO_BIG = 1000, 1008, 1009

#: What :meth:`Websocket._unpack` gives for a message over the size limit.
_OVER_LIMIT: Any = object()


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
        #: How many tasks are awaiting the server's receive right now.
        self._receiving = 0
        #: Whether a watcher task reads the connection (no task was in
        #: receive() at the last look).
        self._watching = False
        #: A message is being sent; others wait for their turn in order.
        self._sending = False

    # Set on the instance only when used (most connections never use them):
    # each attribute an instance has grows its __dict__, and past ~30 the
    # dict is no longer shared with the class's keys: 1.5 KB more for each
    # idle connection.

    #: Whether the watcher, started at accept, reads the connection for its
    #: whole life: for a ``def`` handler (set by the app), whose calls go
    #: through the loop anyway, so that a disconnect is seen at once while
    #: it is busy; and on trio, which has no watch.
    _always_watch = False
    #: Messages the watcher read that no receive() has taken yet.
    _inbox: deque[str | bytes] | None = None
    #: receive() calls waiting for the watcher's next message.
    _waiters: list[_Waiter] | None = None
    #: Set when the inbox has room again (the watcher waits on it).
    _room: anyio.Event | None = None
    #: Senders waiting for their turn.
    _send_turns: list[anyio.Event] | None = None
    #: The loop's watch, once the connection is accepted.
    _watch: _Watch | None = None
    #: The watcher's cancel scope while it runs (cancelled at the end).
    _reader: anyio.CancelScope | None = None
    #: What the server's receive raised in the watcher (the app raises it).
    _error: Exception | None = None
    #: Set by the app for a watcher that reads all along: the connection's
    #: own task group, where it runs.
    _task_group: TaskGroup | None = None
    #: Set by the app while an ``async def`` handler runs: cancelled when
    #: the client goes away.
    _handler_scope: anyio.CancelScope | None = None

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

    def _act(self, func: Callable[..., Coroutine[Any, Any, None]], *args: Any) -> Awaitable[None]:
        """:meth:`_io` for an action: in sync code it is done, and what it
        returns (:data:`~flaskish.must_await.DONE`) may still be awaited."""
        done = self._io(func, *args)
        return DONE if done is None else done

    def accept(
        self,
        headers: dict[str, str] | list[tuple[str, str]] | None = None,
        subprotocol: str | None = None,
    ) -> Awaitable[None]:
        """Accept the connection, with extra response *headers* and one of
        :attr:`requested_subprotocols`. ``receive()`` and ``send()`` accept
        it (without either) if the handler has not."""
        return self._act(self._accept, headers, subprotocol)

    # Any: str, bytes or None in def code, an awaitable of one in async
    # code; no one static type is both (None cannot be awaited).
    def receive(self, timeout: float | None = None) -> Any:
        """The next message (``str`` or ``bytes``); ``None`` if *timeout*
        seconds pass without one (Flask-Sock's rule).

        :raises WebSocketDisconnect: the client went away.
        """
        if threading.get_ident() == self._loop_thread:  # (_io's first test, written out)
            return self._receive_message(timeout)
        return self._io(self._receive_message, timeout)

    def send(self, data: str | bytes) -> Awaitable[None]:
        """Send a text (``str``) or binary (``bytes``) message.

        :raises WebSocketDisconnect: the client went away.
        """
        if threading.get_ident() == self._loop_thread:  # (_io's first test, written out)
            return self._send_message(data)
        return self._act(self._send_message, data)

    def receive_json(self, timeout: float | None = None) -> Any:
        """The next message, parsed as JSON (``None`` after *timeout*)."""
        return self._io(self._receive_json, timeout)

    def send_json(self, obj: Any) -> Awaitable[None]:
        """Send *obj* as a JSON text message (with the app's JSON provider)."""
        dumps = self._json.dumps if self._json is not None else json.dumps
        return self._act(self._send_message, dumps(obj))

    def _close_body(self) -> None:
        """Close what a request closes at its end (a handshake has no
        uploads); :meth:`close` closes the connection."""
        Request.close(self)

    # Not Request.close (that is _close_body): the connection, as in Flask-Sock.
    def close(  # type: ignore[override]
        self, code: int = _NORMAL, reason: str = ""
    ) -> Awaitable[None]:
        """Close the connection with *code* (before it is accepted: refuse
        it; the client sees a 403). Closing a closed connection does
        nothing."""
        return self._act(self._close, code, reason)

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
        # Accepted from now on: another task's receive() or send() (the
        # first call of two tasks) does not accept it a second time.
        self.accepted = True
        self.subprotocol = subprotocol
        try:
            await self._send_in_turn(
                {  # (another task's send waits for it)
                    "type": "websocket.accept",
                    "subprotocol": subprotocol,
                    "headers": [
                        (name.lower().encode("latin-1"), value.encode("latin-1"))
                        for name, value in items
                    ],
                }
            )
        except OSError as exc:  # the client left during the handshake (ClientDisconnected)
            self._gone(1006, str(exc))
            raise WebSocketDisconnect(1006, "The connection was lost.") from None
        watch = _Watch.here()
        if watch is not None:
            self._watch = watch
            watch.add(self)
        else:  # trio: no watch
            self._always_watch = True
        if self._always_watch and self._task_group is not None:
            self._watching = True
            self._task_group.start_soon(self._read)

    # -- receiving ----------------------------------------------------------

    async def _receive_message(self, timeout: float | None) -> str | bytes | None:
        while True:
            inbox = self._inbox
            if inbox:  # read ahead by the watcher: no wait
                data = inbox.popleft()
                room = self._room
                if room is not None:
                    self._room = None
                    room.set()
                return data
            if not self.accepted or self.closed:
                if self.closed:
                    raise WebSocketDisconnect(*self._closed_as())
                await self._accept(None, None)
                continue
            if self._watching:
                return await self._from_watcher(timeout)
            # The common case: await the server's receive here, in this task.
            self._receiving += 1
            try:
                if timeout is None:
                    message = await self._asgi_receive()
                else:
                    received: Message | None = None
                    with anyio.move_on_after(timeout):
                        received = await self._asgi_receive()
                    if received is None:
                        return None
                    message = received
            finally:
                self._receiving -= 1
            if message["type"] == "websocket.receive":  # (_unpack's first case, written out)
                got: str | bytes | None = message.get("text")
                if got is None:
                    got = message.get("bytes") or b""
                limit = self._max_message_size
                if limit is None or len(got) * 4 <= limit or not _too_big(got, limit):
                    return got
                await self._close_over_limit()
            else:
                self._unpack(message)
            if self.closed:
                raise WebSocketDisconnect(*self._closed_as())

    def _unpack(self, message: Message) -> Any:
        """The data of a message from the server; ``None`` for one that has
        none (the client left: the connection is then closed);
        :data:`_OVER_LIMIT` for one over ``WEBSOCKET_MAX_MESSAGE_SIZE``."""
        kind = message["type"]
        if kind == "websocket.receive":
            data = message.get("text")
            if data is None:
                data = message.get("bytes") or b""
            limit = self._max_message_size
            # (At most 4 bytes a character: most messages need no encoding.)
            if limit is not None and len(data) * 4 > limit and _too_big(data, limit):
                return _OVER_LIMIT
            return data
        if kind == "websocket.disconnect":
            self._gone(message.get("code", 1005), message.get("reason") or "")
        return None  # websocket.connect (read once accepted), or unknown: skipped

    async def _close_over_limit(self) -> None:
        reason = f"A message is over {self._max_message_size} bytes."
        await self._close(_TOO_BIG, reason)
        self._gone(_TOO_BIG, reason)

    async def _from_watcher(self, timeout: float | None) -> str | bytes | None:
        """The watcher's next message (it is reading the connection)."""
        waiter = _Waiter()
        waiters = self._waiters
        if waiters is None:
            waiters = self._waiters = []
        waiters.append(waiter)
        try:
            if timeout is None:
                await waiter.event.wait()
            else:
                with anyio.move_on_after(timeout):
                    await waiter.event.wait()
        except BaseException:
            if waiter.has_item:  # handed over as this task was cancelled: not lost
                self._put_back(waiter.item)
            raise
        finally:
            waiter.waiting = False
            if waiter in waiters:
                waiters.remove(waiter)
        if waiter.has_item:
            return waiter.item
        if self.closed:
            raise WebSocketDisconnect(*self._closed_as())
        return None  # timed out

    def _put_back(self, data: str | bytes) -> None:
        inbox = self._inbox
        if inbox is None:
            inbox = self._inbox = deque()
        inbox.appendleft(data)

    async def _read(self) -> None:
        """The watcher: read the connection while no task is in receive(),
        until one is again (it hands it the next message and ends) or the
        client goes away."""
        with anyio.CancelScope() as self._reader:
            try:
                while not self.closed:
                    data = self._unpack(await self._asgi_receive())
                    if data is _OVER_LIMIT:
                        await self._close_over_limit()
                        return
                    if data is None:
                        continue  # closed now, unless an unknown message
                    if self._hand_over(data) and not self._always_watch:
                        return  # a task is in receive() again: it reads from now on
                    inbox = self._inbox
                    while inbox is not None and len(inbox) >= QUEUE_SIZE and not self.closed:
                        self._room = room = anyio.Event()
                        await room.wait()
            except Exception as exc:
                # Not raised here, in the loop's watch (where it would end
                # every connection's watcher): the app raises it when the
                # connection has ended.
                self._error = exc
                self._gone(1011, "The server failed to receive the next message.")
            finally:
                self._watching = False
                self._reader = None

    def _hand_over(self, data: str | bytes) -> bool:
        """Give *data* to a waiting receive(), else keep it in the inbox.
        Whether it went to the last task waiting."""
        waiters = self._waiters
        while waiters:
            waiter = waiters.pop(0)
            if waiter.waiting:
                waiter.item, waiter.has_item = data, True
                waiter.event.set()
                return not waiters
        inbox = self._inbox
        if inbox is None:
            inbox = self._inbox = deque()
        inbox.append(data)
        return False

    def _look(self, group: TaskGroup) -> None:
        """Called by the loop's watch: start a watcher in *group* (the
        watch's) if no task is receiving."""
        if not self._receiving and not self._watching and not self.closed:
            self._watching = True
            group.start_soon(self._read)

    def _own_task_group(self) -> bool:
        """Whether the connection needs a task group of its own, for a
        watcher that reads it all along (a ``def`` handler's; on trio,
        every connection's). Else (an ``async def`` handler on asyncio, the
        usual case) the loop's watch runs its watchers: a task group costs
        an idle connection ~1 KB."""
        if _Watch.here() is None:
            self._always_watch = True
        return self._always_watch

    def _gone(self, code: int, reason: str) -> None:
        self.closed = True
        if self._disconnect is None:
            self._disconnect = WebSocketDisconnect(code, reason)
        self._wake_all()
        scope = self._handler_scope
        if scope is not None:
            # An async def handler that does not end by itself (it awaits
            # something else) is cancelled after a moment.
            scope.deadline = min(scope.deadline, anyio.current_time() + CANCEL_AFTER)

    def _wake_all(self) -> None:
        """Closed: every receive() waiting for the watcher raises, and the
        watcher stops waiting for room."""
        for waiter in self._waiters or ():
            waiter.event.set()
        room = self._room
        if room is not None:
            self._room = None
            room.set()

    def _closed_as(self) -> tuple[int, str]:
        gone = self._disconnect
        return (gone.code, gone.reason) if gone is not None else (_NORMAL, "")

    async def _receive_json(self, timeout: float | None) -> Any:
        data = await self._receive_message(timeout)
        if data is None:
            return None
        return self._json.loads(data) if self._json is not None else json.loads(data)

    # -- sending ------------------------------------------------------------

    async def _send_message(self, data: str | bytes) -> None:
        if type(data) is str:
            message: dict[str, Any] = {"type": "websocket.send", "text": data}
        elif isinstance(data, (bytes, bytearray, memoryview)):
            message = {"type": "websocket.send", "bytes": bytes(data)}
        elif isinstance(data, str):
            message = {"type": "websocket.send", "text": str(data)}
        else:
            raise TypeError(
                f"websocket.send() takes str (a text message) or bytes (a binary one), not "
                f"{type(data).__name__}; send other objects with websocket.send_json(obj)."
            )
        if not self.accepted or self.closed:
            if not self.closed:
                await self._accept(None, None)
            if self.closed:
                raise WebSocketDisconnect(*self._closed_as())
        # (As _send_in_turn, written out: this is every message's path.)
        if self._sending:  # another task is sending: one message at a time, in turn
            await self._wait_turn()
        self._sending = True
        try:
            await self._asgi_send(message)
        except OSError as exc:  # the server could not send: the client is gone
            self._gone(1006, str(exc))
            raise WebSocketDisconnect(1006, "The connection was lost.") from None
        finally:
            self._sending = False
            if self._send_turns:
                self._send_turns.pop(0).set()

    async def _wait_turn(self) -> None:
        """Wait until no other task is sending (a lock that costs nothing
        while there is one sender, the usual case)."""
        turns = self._send_turns
        if turns is None:
            turns = self._send_turns = []
        while self._sending:
            turn = anyio.Event()
            turns.append(turn)
            try:
                await turn.wait()
            except BaseException:
                if turn in turns:
                    turns.remove(turn)
                elif not self._sending and turns:
                    turns.pop(0).set()  # this task's turn came as it was cancelled: pass it on
                raise

    async def _close(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        if self._disconnect is None:
            self._disconnect = WebSocketDisconnect(code, reason)
        self._wake_all()
        try:
            await self._send_in_turn({"type": "websocket.close", "code": code, "reason": reason})
        except OSError:  # pragma: no cover - the client left first
            pass

    async def _send_in_turn(self, message: Message) -> None:
        """Send *message* once no other task is sending (what send() does,
        for accept and close)."""
        if self._sending:
            await self._wait_turn()
        self._sending = True
        try:
            await self._asgi_send(message)
        finally:
            self._sending = False
            if self._send_turns:
                self._send_turns.pop(0).set()

    def _release(self) -> None:
        """The connection has ended: the watcher, if any, is cancelled."""
        self.closed = True
        self._wake_all()
        if self._reader is not None:
            self._reader.cancel()
        if self._watch is not None:
            self._watch.discard(self)
            self._watch = None

    async def _deny(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        """Refuse the handshake with an HTTP response, where the server
        supports it (the ASGI websocket denial extension); else close with
        1008 (the client sees a 403)."""
        self.closed = True
        try:
            if "websocket.http.response" not in self.scope.get("extensions", {}):
                await self._asgi_send({"type": "websocket.close", "code": _POLICY, "reason": ""})
                return
            await self._asgi_send(
                {
                    "type": "websocket.http.response.start",
                    "status": status,
                    "headers": headers,
                }
            )
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


class _Waiter:
    """A receive() waiting for the watcher's next message."""

    __slots__ = ("event", "has_item", "item", "waiting")

    def __init__(self) -> None:
        self.event = anyio.Event()
        self.waiting = True
        self.has_item = False
        self.item: str | bytes = b""


class _Watch:
    """The open connections of one event loop, looked at every
    :data:`WATCH_EVERY` seconds by one task of the loop's: those that no
    task is receiving on get a watcher (:meth:`Websocket._look`), in the
    watch's task group, cancelled when its connection ends. The task ends
    when the last connection does, and the next one starts it again."""

    _here: RunVar[_Watch] = RunVar("flaskish.websocket.watch")

    def __init__(self) -> None:
        self.sockets: set[Websocket] = set()
        self.task: asyncio.Task[None] | None = None

    @classmethod
    def here(cls) -> _Watch | None:
        """The running loop's (``None`` on trio, where the watcher of each
        connection reads it all along)."""
        try:
            return cls._here.get()
        except LookupError:
            pass
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # trio
            return None
        watch = cls()  # (holding no loop: the RunVar's key, held weakly)
        cls._here.set(watch)
        return watch

    def add(self, websocket: Websocket) -> None:
        self.sockets.add(websocket)
        if self.task is None:
            # Of no connection's task group (it outlives each), and in a
            # context of its own: it must not keep the context (and so the
            # request) of the connection that happened to start it.
            self.task = asyncio.get_running_loop().create_task(
                self._run(), name="flaskish websocket watch", context=contextvars.Context()
            )

    def discard(self, websocket: Websocket) -> None:
        self.sockets.discard(websocket)

    async def _run(self) -> None:
        try:
            async with anyio.create_task_group() as watchers:
                while self.sockets:
                    await anyio.sleep(WATCH_EVERY)
                    for websocket in list(self.sockets):
                        websocket._look(watchers)
                self.task = None  # at once: the next connection starts another watch
        finally:
            if self.task is asyncio.current_task():  # cancelled (the loop ends)
                self.task = None
