"""Graceful shutdown: telling open streams the server is stopping.

ASGI gives an app no word of a graceful stop until its connections have
closed (uvicorn sends ``lifespan.shutdown`` only once every response has
ended): an endless stream would keep the server up for good. So while the
app is served (its lifespan running, on the main thread), it chains a
handler in front of the server's own for ``SIGTERM`` and ``SIGINT``. On the
first signal:

* :attr:`Flask.shutdown_event <flaskish.Flask.shutdown_event>` is set: code
  that streams checks it (``is_set()``) or waits for it, and ends its
  stream; an SSE stream ends by itself;
* ``SHUTDOWN_TIMEOUT`` seconds later, the streams still running are ended as
  if their client had gone away (an async generator cancelled, a sync one
  closed at its next ``yield``);
* background tasks get ``BACKGROUND_TASK_SHUTDOWN_TIMEOUT`` seconds to
  finish (see :mod:`flaskish.background`).

The server's own handler still runs first, so it stops accepting
connections and finishes the short requests in flight as it always does.
The event is also set when the lifespan ends without a signal (a test
client leaving its ``with`` block).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import anyio

from .concurrency import in_worker_thread, on_event_loop, on_loop_thread, run_in_loop
from .disconnects import Gone

__all__ = ["ShutdownEvent", "shutdown_timeout"]

_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class _Flag:
    """An event readable from any thread and awaitable on the event loop
    that serves the app. Set from a signal handler or another thread, it
    reaches the loop's waiters through :meth:`relay` (one task polling ten
    times a second, as uvicorn polls its own exit flag), whatever the async
    backend."""

    def __init__(self) -> None:
        self._set = threading.Event()
        self._async: anyio.Event | None = None
        self._thread: int | None = None
        # Cancel scopes of the serving loop to cancel when the flag is set
        # (see cancelling): a stream's end costs no task waiting for it.
        self._scopes: set[anyio.CancelScope] = set()

    def bind(self) -> None:
        """Tie the flag to the running event loop (the one that serves)."""
        self._async = anyio.Event()
        self._thread = threading.get_ident()

    def is_set(self) -> bool:
        return self._set.is_set()

    def set(self) -> None:
        self._set.set()
        if self._async is not None and self._on_its_loop():
            self._wake()

    def set_from_signal(self) -> None:
        """From a signal handler: it may run between any two bytecodes of
        the loop's own thread, so only the thread-safe flag is set here."""
        self._set.set()

    def _on_its_loop(self) -> bool:
        return threading.get_ident() == self._thread and on_event_loop()

    async def relay(self) -> None:
        """Wake the loop's waiters once the flag is set from elsewhere."""
        while not self._set.is_set():
            await anyio.sleep(0.1)
        if self._async is not None:
            self._wake()

    def _wake(self) -> None:
        """On the serving loop: release the waiters, cancel the scopes."""
        if self._async is not None:
            self._async.set()
        scopes, self._scopes = self._scopes, set()
        for scope in scopes:
            scope.cancel()

    @contextmanager
    def cancelling(self, scope: anyio.CancelScope) -> Iterator[None]:
        """Cancel *scope* (of the serving loop) when the flag is set, at once
        if it is, while in this block."""
        if self._set.is_set():
            scope.cancel()
        self._scopes.add(scope)
        try:
            yield
        finally:
            self._scopes.discard(scope)

    async def wait(self) -> None:
        if self._set.is_set():
            return
        if self._async is None or threading.get_ident() != self._thread:
            # Not the serving loop (a test client's own): poll.
            while not self._set.is_set():
                await anyio.sleep(0.05)
            return
        await self._async.wait()


class ShutdownEvent:
    """``app.shutdown_event``: set when the server begins a graceful
    shutdown (``SIGTERM``, the first ``Ctrl-C``), or when the app's lifespan
    ends. A stream that should end cleanly checks it::

        @app.get("/ticks")
        def ticks():
            def generate():
                while not app.shutdown_event.is_set():
                    yield "tick\\n"
                    app.shutdown_event.wait(1)    # sleeps, but wakes at shutdown
            return generate()

    In ``async def`` code, ``await app.shutdown_event.wait()``. Streams that
    do not look are ended ``SHUTDOWN_TIMEOUT`` seconds after it is set.
    """

    def __init__(self) -> None:
        self._flag = _Flag()
        #: Set ``SHUTDOWN_TIMEOUT`` seconds after the event: streams end then.
        self._streams_end = _Flag()
        self._previous: dict[int, Any] = {}

    def _served_here(self) -> bool:
        """Whether the app is served (its lifespan running) on this thread's
        event loop: only then can a shutdown signal arrive to wait for."""
        return self._flag._thread == threading.get_ident()

    def is_set(self) -> bool:
        """Whether the server is shutting down. Cheap, from any thread."""
        return self._flag.is_set()

    # Any: a bool in def code, an awaitable of one in async code.
    def wait(self, timeout: float | None = None) -> Any:
        """Wait until the server shuts down, at most *timeout* seconds;
        whether it does. Awaited in ``async def`` code (``await
        app.shutdown_event.wait()``); blocking in ``def`` code, where the
        request's thread gives up its ``THREAD_POOL_SIZE`` slot meanwhile."""
        if on_loop_thread():
            return self._wait(timeout)
        if self._flag.is_set():
            return True
        if in_worker_thread():
            return run_in_loop(self._wait, timeout)
        # A thread of no event loop's (a script, a thread of the app's own).
        return self._flag._set.wait(timeout)

    async def _wait(self, timeout: float | None) -> bool:
        with anyio.move_on_after(timeout):
            await self._flag.wait()
        return self._flag.is_set()

    def set(self) -> None:
        """Start the shutdown by hand (what the signal does): streams are
        told to end. Mostly for tests."""
        self._flag.set()

    def __repr__(self) -> str:
        return f"<ShutdownEvent {'set' if self.is_set() else 'clear'}>"

    # -- while serving (the app's lifespan) -----------------------------------

    def _arm(self) -> None:
        """At lifespan startup: a fresh event bound to the serving loop, and
        the signal handlers chained (on the main thread only)."""
        self._flag = _Flag()
        self._streams_end = _Flag()
        self._flag.bind()
        self._streams_end.bind()
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set from the main thread
        for sig in _SIGNALS:
            previous = signal.getsignal(sig)
            if callable(previous):
                # Only in front of a Python handler (the server's): with the
                # default action the process ends at once anyway.
                self._previous[sig] = previous
                signal.signal(sig, self._on_signal)

    def _disarm(self) -> None:
        """At lifespan shutdown: the server's handlers back in place."""
        for sig, previous in self._previous.items():
            if signal.getsignal(sig) == self._on_signal:
                signal.signal(sig, previous)
        self._previous.clear()
        self._flag.set()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        previous = self._previous.get(signum)
        self._flag.set_from_signal()
        if callable(previous):
            previous(signum, frame)

    async def _end_streams_after(self, timeout: float) -> None:
        """Once the event is set, wait *timeout* seconds, then end the
        streams still running. Runs while the app is served."""
        await self._flag.relay()
        await anyio.sleep(timeout)
        self._streams_end.set()

    def _stream_gone(self, gone: Gone) -> Gone:
        """*gone* that also answers ``True`` once streams must end."""
        ending = self._streams_end

        async def check(wait: bool) -> bool:
            if ending.is_set():
                return True
            if not wait:
                return await gone(False)
            # Set only by _end_streams_after, on the serving loop: no task
            # needs to wait for it beside the wait for the client.
            with anyio.CancelScope() as waiting, ending.cancelling(waiting):
                return await gone(True)
            return True  # the streams must end

        return check


def shutdown_timeout(config: Any, key: str) -> float:
    """A shutdown timeout from the config, in seconds: a number ``>= 0``."""
    value = config[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{key} must be a number of seconds (>= 0), not {value!r}.")
    return float(value)
