"""Publish/subscribe across workers and machines: ``app.broadcast``.

A chat room, a dashboard or a notification stream needs every process of
the app to see every message, not only the connections it holds itself::

    @app.websocket("/ws")
    async def room():
        await websocket.accept()
        async with app.broadcast.subscribe("room") as messages:
            async for message in messages:
                await websocket.send(message)

    @app.post("/say")
    def say():
        app.broadcast.publish("room", request.form["text"])
        return "", 204

The same calls work in ``def`` and ``async def`` code: ``publish`` is
awaited in async code (it returns a :class:`~flaskish.must_await.MustAwait`
there) and blocks its worker thread in ``def`` code; a subscription is
entered with ``async with`` / iterated with ``async for`` in async code,
and ``with`` / ``for`` in def code (the thread gives up its
``THREAD_POOL_SIZE`` slot while it waits). Messages are ``str``.

``BROADCAST_URL`` picks the backend: ``memory://`` (the default: one
process) or ``redis://host:port`` (Redis pub/sub, every process and
machine that uses the same Redis; :mod:`flaskish.broadcast_redis`). Either
way each process fans a message out to its local subscribers through one
bounded queue each (``BROADCAST_QUEUE_SIZE``): a slow subscriber loses its
oldest messages and never holds up the others.

A subscription ends (its iteration stops) when its ``with`` block ends and
when the app shuts down (``app.shutdown_event``). Everything here runs on
the serving event loop; ``def`` code reaches it through
:mod:`flaskish.concurrency`, and nothing here starts a thread.
"""

from __future__ import annotations

import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import urlsplit

import anyio
import anyio.lowlevel

from .broadcast_redis import RedisBackend  # it imports the redis package only when used
from .concurrency import current_loop, on_loop_thread, run_in_loop_of
from .exceptions import BroadcastUnavailable, WebSocketDisconnect
from .globals import _cv_request
from .must_await import DONE, MustAwait

if TYPE_CHECKING:
    from anyio.abc import TaskGroup

    from .app import Flask
    from .websocket import Websocket

__all__ = [
    "SCHEMES",
    "Broadcast",
    "BroadcastStats",
    "BroadcastUnavailable",
    "Subscription",
]

T = TypeVar("T")

#: The URL schemes ``BROADCAST_URL`` may have.
SCHEMES = ("memory", "redis", "rediss")


@dataclass(frozen=True)
class BroadcastStats:
    """``app.broadcast.stats()``: what this process holds right now."""

    #: The backend: ``"memory"`` or ``"redis"``.
    backend: str
    #: Channels with at least one local subscriber.
    channels: int
    #: Open subscriptions in this process.
    subscribers: int
    #: Messages dropped from full subscriber queues since startup.
    dropped: int
    #: Whether the backend is connected (always true for memory).
    connected: bool


class Backend(Protocol):
    """What carries messages between processes (see :mod:`flaskish.broadcast_redis`)."""

    name: str

    @property
    def connected(self) -> bool: ...

    async def start(self, group: TaskGroup) -> None: ...

    async def publish(self, channel: str, message: str) -> None: ...

    async def listen(self, channel: str) -> None: ...

    async def unlisten(self, channel: str) -> None: ...

    async def stop(self) -> None: ...


class _MemoryBackend:
    """One process: a published message goes straight to the local fan-out."""

    name = "memory"
    connected = True

    def __init__(self, deliver: Callable[[str, str], None]) -> None:
        self._deliver = deliver

    async def start(self, group: TaskGroup) -> None:
        pass

    async def publish(self, channel: str, message: str) -> None:
        self._deliver(channel, message)

    async def listen(self, channel: str) -> None:
        pass

    async def unlisten(self, channel: str) -> None:
        pass

    async def stop(self) -> None:
        pass


_END: Any = object()  # what a subscription's next message is once it has ended
_GONE: Any = object()  # ... once the def handler's websocket client has left

#: Seconds between two looks, while a ``def`` websocket handler waits for a
#: message, at whether its client left (an async handler is cancelled then).
WATCH_INTERVAL = 0.25


class Subscription:
    """A subscription to one channel, from :meth:`Broadcast.subscribe`.

    In async code::

        async with app.broadcast.subscribe("news") as messages:
            async for message in messages: ...

    in def code, ``with`` and ``for``. Messages published after the block
    is entered are received, in order, through a queue of
    ``BROADCAST_QUEUE_SIZE`` messages; when it is full the oldest is
    dropped (counted in :attr:`dropped`, logged once). Iteration ends when
    the block ends (from any thread: :meth:`close`) or the app shuts down.
    Entered in a ``def`` websocket handler, ``for`` raises
    :class:`~flaskish.exceptions.WebSocketDisconnect` once the client has
    left (an ``async def`` handler is cancelled then, as always).
    """

    def __init__(self, broadcast: Broadcast, channel: str) -> None:
        #: The channel's name.
        self.channel = channel
        #: Messages dropped because this subscriber did not keep up.
        self.dropped = 0
        self._broadcast = broadcast
        self._items: deque[str] = deque(maxlen=broadcast._queue_size)
        self._wakeup: anyio.Event | None = None
        self._state = "new"  # -> "open" -> "closed"
        # A def websocket handler's connection: `for` raises WebSocketDisconnect
        # once its client leaves (the handler waits here, not in receive()).
        self._connection: Websocket | None = None

    def __repr__(self) -> str:
        return f"<Subscription {self.channel!r} {self._state}>"

    # -- on the loop: the fan-out's side ------------------------------------

    def _put(self, message: str) -> None:
        if len(self._items) == self._items.maxlen:
            self.dropped += 1
            self._broadcast._dropped += 1
            if self.dropped == 1:
                self._broadcast._logger().warning(
                    "A subscriber of broadcast channel %r does not keep up: its queue of %d "
                    "messages (BROADCAST_QUEUE_SIZE) is full, so its oldest messages are "
                    "dropped (logged once per subscription; see Subscription.dropped).",
                    self.channel,
                    self._items.maxlen,
                )
        self._items.append(message)
        self._wake()

    def _end(self) -> None:
        self._state = "closed"
        self._items.clear()
        self._wake()

    def _wake(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()
            self._wakeup = None

    async def _next(self) -> str:
        while True:
            if self._state != "open":
                return _END  # type: ignore[no-any-return]
            if self._items:
                return self._items.popleft()
            if self._wakeup is None:
                self._wakeup = anyio.Event()
            connection = self._connection
            if connection is None:
                await self._wakeup.wait()
                continue
            if connection.closed:
                return _GONE  # type: ignore[no-any-return]
            with anyio.move_on_after(WATCH_INTERVAL):
                await self._wakeup.wait()

    async def _open(self) -> None:
        if self._state != "new":
            raise RuntimeError(
                f"This subscription to {self.channel!r} was already entered; call "
                "app.broadcast.subscribe() again for a new one."
            )
        self._state = "open"
        await self._broadcast._join(self)

    async def _close(self) -> None:
        if self._state == "open":
            self._broadcast._leave(self)
        self._end()

    def _check_open(self, async_code: bool) -> None:
        if self._state == "new":
            hint = (
                (
                    f"async with app.broadcast.subscribe({self.channel!r}) as messages: "
                    "async for message in messages: ..."
                )
                if async_code
                else (
                    f"with app.broadcast.subscribe({self.channel!r}) as messages: "
                    "for message in messages: ..."
                )
            )
            raise RuntimeError(f"Enter the subscription before iterating it: `{hint}`.")

    # -- async code -----------------------------------------------------------

    async def __aenter__(self) -> Subscription:
        self._broadcast._check_loop("subscribe")
        await self._open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._close()

    def __aiter__(self) -> Subscription:
        self._check_open(async_code=True)
        return self

    async def __anext__(self) -> str:
        message = await self._next()
        if message is _END:
            raise StopAsyncIteration
        return message

    # -- def code -------------------------------------------------------------

    def __enter__(self) -> Subscription:
        self._broadcast._refuse_on_loop(
            "`with app.broadcast.subscribe(...)`",
            "async with app.broadcast.subscribe(channel) as messages:",
        )
        request = getattr(_cv_request.get(None), "request", None)
        if getattr(request, "_is_websocket", False):
            self._connection = request
        self._broadcast._blocking("subscribe", self._open)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """End the subscription (from any thread but the event loop's: in
        async code leave the ``async with`` block): a ``for`` loop over it,
        on another thread, stops at its next message."""
        if self._state == "closed":
            return
        if not self._broadcast._serving():
            self._end()  # the app is no longer served: nothing left on the loop
            return
        self._broadcast._blocking("subscribe", self._close)

    def __iter__(self) -> Subscription:
        self._check_open(async_code=False)
        self._broadcast._refuse_on_loop(
            "`for message in subscription`", "async for message in messages:"
        )
        return self

    def __next__(self) -> str:
        if self._state != "open" or not self._broadcast._serving():
            raise StopIteration
        message = self._broadcast._blocking("subscribe", self._next)
        if message is _END:
            raise StopIteration
        if message is _GONE and self._connection is not None:
            raise WebSocketDisconnect(*self._connection._closed_as())
        return message


class Broadcast:
    """``app.broadcast``: publish messages to named channels, subscribe to
    them, across every worker and machine that shares the backend
    (``BROADCAST_URL``). Flask has no equivalent. Available while the app is
    served (under a server, or in ``with app.test_client() as client:``).
    """

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._backend: Backend | None = None
        self._loop: anyio.lowlevel.EventLoopToken | None = None
        self._group: TaskGroup | None = None
        self._channels: dict[str, weakref.WeakSet[Subscription]] = {}
        self._queue_size = 100
        self._dropped = 0

    def __repr__(self) -> str:
        state = self._backend.name if self._backend is not None else "not served"
        return f"<Broadcast {state}>"

    # -- the public API -------------------------------------------------------

    def publish(self, channel: str, message: str) -> Awaitable[None]:
        """Send *message* to every subscriber of *channel*, in every process.

        In async code ``await app.broadcast.publish(channel, message)``; in
        def code it returns once the message is handed to the backend. With
        Redis unreachable it raises :class:`BroadcastUnavailable`.

        :param channel: the channel's name (a non-empty ``str``).
        :param message: a ``str`` (JSON: ``json.dumps(data)`` first).
        """
        _check_channel(channel)
        if not isinstance(message, str):
            raise TypeError(
                f"A broadcast message is a str, not {type(message).__name__}. For data, "
                "write `app.broadcast.publish(channel, json.dumps(data))` and `json.loads` it "
                "in the subscriber."
            )
        if on_loop_thread():
            self._check_loop("publish")
            return MustAwait(
                "app.broadcast.publish()",
                "await app.broadcast.publish(channel, message)",
                lambda: self._publish(channel, message),
            )
        self._blocking("publish", self._publish, channel, message)
        return DONE

    def subscribe(self, channel: str) -> Subscription:
        """A :class:`Subscription` to *channel*: enter it (``async with`` in
        async code, ``with`` in def code), then iterate it."""
        _check_channel(channel)
        return Subscription(self, channel)

    def stats(self) -> BroadcastStats:
        """Channels and subscribers in this process, messages dropped, and
        whether the backend is connected."""
        backend = self._backend
        return BroadcastStats(
            backend=backend.name if backend is not None else _scheme_backend(self._url()),
            channels=len(self._channels),
            subscribers=sum(len(subs) for subs in self._channels.values()),
            dropped=self._dropped,
            connected=backend is not None and backend.connected,
        )

    # -- on the loop ----------------------------------------------------------

    async def _publish(self, channel: str, message: str) -> None:
        backend = self._backend
        if backend is None:
            raise self._not_served("publish")
        await backend.publish(channel, message)

    def _deliver(self, channel: str, message: str) -> None:
        """A message for *channel* arrived: into each local subscriber's queue."""
        subscribers = self._channels.get(channel)
        if subscribers is None:
            return
        if not subscribers:  # all garbage-collected without leaving
            self._forget(channel)
            return
        for subscription in list(subscribers):
            subscription._put(message)

    async def _join(self, subscription: Subscription) -> None:
        backend = self._backend
        if backend is None:
            raise self._not_served("subscribe")
        if self._app.shutdown_event.is_set():
            subscription._end()  # shutting down: an iteration that ends at once
            return
        channel = subscription.channel
        subscribers = self._channels.get(channel)
        if subscribers is None:
            subscribers = self._channels[channel] = weakref.WeakSet()
        subscribers.add(subscription)
        await backend.listen(channel)  # Redis: subscribed before we return

    def _leave(self, subscription: Subscription) -> None:
        subscribers = self._channels.get(subscription.channel)
        if subscribers is None:
            return
        subscribers.discard(subscription)
        if not subscribers:
            self._forget(subscription.channel)

    def _forget(self, channel: str) -> None:
        del self._channels[channel]
        if self._group is not None:
            self._group.start_soon(self._unlisten, channel)

    async def _unlisten(self, channel: str) -> None:
        if channel not in self._channels and self._backend is not None:
            await self._backend.unlisten(channel)  # nobody subscribed again meanwhile

    def _end_all(self) -> None:
        for subscribers in list(self._channels.values()):
            for subscription in list(subscribers):
                subscription._end()
        self._channels.clear()

    # -- serving (called by flaskish.lifespan) --------------------------------

    def _url(self) -> str:
        return str(self._app.config["BROADCAST_URL"])

    def _check_config(self) -> tuple[str, int]:
        """``BROADCAST_URL`` and ``BROADCAST_QUEUE_SIZE``, checked before
        anything starts."""
        url = self._app.config["BROADCAST_URL"]
        if not isinstance(url, str):
            raise ValueError(f"BROADCAST_URL must be a URL string, not {url!r}.")
        scheme = urlsplit(url).scheme
        if scheme not in SCHEMES:
            raise ValueError(
                f"BROADCAST_URL {url!r} has an unknown scheme {scheme!r}. Use one of: "
                "memory:// (one process) or redis://host:port (rediss:// for TLS)."
            )
        if scheme == "memory" and url.rstrip("/") != "memory:":
            raise ValueError(
                f"BROADCAST_URL {url!r}: the memory backend takes no address; write memory://."
            )
        size = self._app.config["BROADCAST_QUEUE_SIZE"]
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(
                f"BROADCAST_QUEUE_SIZE must be a number of messages (>= 1), not {size!r}."
            )
        return url, size

    async def _start(self, group: TaskGroup) -> None:
        """At lifespan startup: the backend, bound to the serving loop."""
        url, self._queue_size = self._check_config()
        backend: Backend
        if _scheme_backend(url) == "redis":
            backend = RedisBackend(url, self._deliver, self._logger())
        else:
            backend = _MemoryBackend(self._deliver)
        self._channels, self._dropped = {}, 0
        self._loop, self._group = current_loop(), group
        await backend.start(group)
        self._backend = backend
        group.start_soon(self._end_at_shutdown)

    async def _end_at_shutdown(self) -> None:
        await self._app.shutdown_event._flag.wait()
        self._end_all()

    async def _stop(self) -> None:
        """At lifespan shutdown: every subscription ends, the backend closes."""
        backend, self._backend = self._backend, None
        self._end_all()
        self._loop = self._group = None
        if backend is not None:
            with anyio.CancelScope(shield=True), anyio.move_on_after(5):
                await backend.stop()

    # -- where are we? --------------------------------------------------------

    def _serving(self) -> bool:
        return self._backend is not None

    def _logger(self) -> Any:
        return self._app.logger

    def _not_served(self, what: str) -> RuntimeError:
        return RuntimeError(
            f"app.broadcast.{what}() works while the app is served (its lifespan running): "
            "under uvicorn or `flaskish run` it is; in tests, use "
            "`with app.test_client() as client:` (or `async with`), which runs the lifespan."
        )

    def _check_loop(self, what: str) -> None:
        """In async code: the app must be served on this very event loop."""
        if self._loop is None:
            raise self._not_served(what)
        if current_loop().native_token is not self._loop.native_token:
            raise RuntimeError(
                f"app.broadcast.{what}() was called on an event loop that does not serve the "
                "app (a test client without `with`?); call it from the app's views, "
                "handlers and hooks."
            )

    def _refuse_on_loop(self, written: str, instead: str) -> None:
        if on_loop_thread():
            raise RuntimeError(
                f"{written} blocks, and this is async code on the event loop. "
                f"Write `{instead}` instead."
            )

    def _blocking(self, what: str, func: Callable[..., Awaitable[T]], *args: Any) -> T:
        """From def code (a worker thread, or any thread): run on the loop."""
        loop = self._loop
        if loop is None:
            raise self._not_served(what)
        return run_in_loop_of(loop, func, *args)


def _scheme_backend(url: str) -> str:
    return "redis" if urlsplit(url).scheme in ("redis", "rediss") else "memory"


def _check_channel(channel: object) -> None:
    if not isinstance(channel, str) or not channel:
        raise TypeError(f"A broadcast channel is a non-empty str, not {channel!r}.")
