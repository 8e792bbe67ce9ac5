"""Worker-thread accounting for one app: the ``THREAD_POOL_SIZE`` slots
that bound sync code *running*, the ``THREAD_POOL_PARKED`` threads held by
requests awaiting async work between sync steps, ``THREAD_POOL_TIMEOUT``
load shedding, and the stats behind ``app.worker_threads``.

The driver in :mod:`flaskish.concurrency` takes and gives back the slots;
the threads themselves, and the hops to them, are the driver's: nothing
here starts a thread or crosses between a thread and the loop.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
import anyio.lowlevel
from anyio.lowlevel import RunVar
from werkzeug.exceptions import ServiceUnavailable

__all__ = ["ThreadPool", "ThreadPoolStats", "ThreadPoolTimeout"]

T = TypeVar("T")


@dataclass(frozen=True)
class ThreadPoolStats:
    """A snapshot of an app's worker threads on the current event loop.

    :param limit: how many requests may run sync code at once
        (``THREAD_POOL_SIZE``).
    :param busy: how many requests are running sync code now.
    :param waiting: how many requests wait for a slot to run sync code.
    :param parked: how many requests hold their thread while they await
        async work between sync steps (no slot held; at most
        ``THREAD_POOL_PARKED``).
    :param shed: how many requests got a 503 because no slot freed up
        within ``THREAD_POOL_TIMEOUT``, since the loop started.
    """

    limit: int
    busy: int
    waiting: int
    parked: int = 0
    shed: int = 0


class ThreadPoolTimeout(ServiceUnavailable):
    """*503*: no worker thread freed up within ``THREAD_POOL_TIMEOUT`` for a
    request's first sync step; the request is shed (its ``def`` code does
    not run)."""

    description = (
        "The server is too busy to handle this request now (every worker thread is "
        "taken). Please try again shortly."
    )


class _LoopThreads:
    """One app's thread accounting on one event loop."""

    __slots__ = ("hot", "loop", "parked", "running", "shed", "threads", "timeout", "token")

    def __init__(self, size: int, parked: int, timeout: float | None) -> None:
        #: The loop's token, for the threads to call back into it.
        self.token = anyio.lowlevel.current_token()
        self.running = anyio.CapacityLimiter(size)
        #: Threads held by requests, running or parked: taken *before* a
        #: running slot, never while holding one (see ThreadPool._acquire).
        self.threads = anyio.CapacityLimiter(size + parked)
        self.timeout = timeout
        self.parked = 0
        self.shed = 0
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:  # another anyio backend: anyio's threads
            loop = None
        #: The asyncio loop (``None`` on another backend).
        self.loop = loop
        #: The loop's own request threads (``concurrency._HotThreads``, made
        #: by the driver at the first hop; asyncio only).
        self.hot: Any = None


class ThreadPool:
    """The worker threads one app uses for its sync callables: at most
    ``THREAD_POOL_SIZE`` running sync code, and at most ``THREAD_POOL_PARKED``
    more held by requests that are awaiting async work between sync steps.

    Limits are per event loop (anyio limiters belong to one loop), read from
    the app's config when a loop first needs them.
    """

    def __init__(
        self,
        size: Callable[[], int],
        parked: Callable[[], int] = lambda: 1000,
        timeout: Callable[[], float | None] = lambda: None,
        on_shed: Callable[[float], None] | None = None,
    ) -> None:
        self._size = size
        self._parked = parked
        self._timeout = timeout
        #: Called with the timeout each time a request is shed (the app logs).
        self.on_shed = on_shed
        self._state: RunVar[_LoopThreads] = RunVar("flaskish.threads")
        # The last loop's state (a RunVar lookup costs a microsecond, and is
        # made for every def request), the loop held weakly: a closed loop
        # must not keep what it ran (and so the app) alive.
        self._last: tuple[weakref.ref[Any], _LoopThreads] | None = None

    def _threads(self) -> _LoopThreads:
        try:
            loop: Any = asyncio.get_running_loop()
        except RuntimeError:  # another anyio backend
            loop = None
        last = self._last
        if last is not None and loop is not None and last[0]() is loop:
            return last[1]
        try:
            state = self._state.get()
        except LookupError:
            size, parked = self._size(), self._parked()
            for name, value, least in (
                ("THREAD_POOL_SIZE", size, 1),
                ("THREAD_POOL_PARKED", parked, 0),
            ):
                if not isinstance(value, int) or isinstance(value, bool) or value < least:
                    raise ValueError(
                        f"{name} must be a whole number of at least {least}, not {value!r}."
                    ) from None
            timeout = self._timeout()
            if timeout is not None and (
                not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0
            ):
                raise ValueError(
                    f"THREAD_POOL_TIMEOUT must be a number of seconds above 0 or None (no "
                    f"limit), not {timeout!r}."
                ) from None
            state = _LoopThreads(size, parked, timeout)
            self._state.set(state)
        if loop is not None:
            self._last = weakref.ref(loop), state
        return state

    async def _acquire(self, lease: _Lease, may_shed: bool) -> None:
        """Wait for a thread of the request's own, then for a slot to run
        sync code on it; past ``THREAD_POOL_TIMEOUT`` (when *may_shed*) raise
        :class:`ThreadPoolTimeout` instead.

        The thread comes first: a request waiting for a thread while holding
        a slot would keep a parked request, whose thread it waits for, from
        getting a slot back to resume (with every thread parked, a deadlock).
        """
        threads = lease.threads
        try:
            if threads.timeout is None or not may_shed:
                if not lease.has_thread:
                    await lease.acquire_thread()
                await lease.acquire()
                return
            with anyio.move_on_after(threads.timeout):
                if not lease.has_thread:
                    await lease.acquire_thread()
                await lease.acquire()
        except BaseException:
            lease.release_thread()  # cancelled while waiting for the slot
            raise
        if not lease.held:
            lease.release_thread()
            threads.shed += 1
            if self.on_shed is not None:
                self.on_shed(threads.timeout)
            raise ThreadPoolTimeout(retry_after=max(1, round(threads.timeout)))

    def limiter(self) -> anyio.CapacityLimiter:
        """The limiter of sync code running, for the running event loop."""
        return self._threads().running

    def stats(self) -> ThreadPoolStats:
        """How many requests run sync code, wait to, and are parked, on the
        running event loop. Outside an event loop nothing is busy."""
        try:
            anyio.get_current_task()
        except RuntimeError:  # outside an event loop nothing is busy
            return ThreadPoolStats(self._size(), 0, 0, 0, 0)
        state = self._threads()
        stats = state.running.statistics()
        return ThreadPoolStats(
            int(state.running.total_tokens),
            stats.borrowed_tokens,
            stats.tasks_waiting,
            state.parked,
            state.shed,
        )


class _Lease:
    """A request's claim on a slot to run sync code (while it holds one)."""

    __slots__ = ("cancelled", "has_thread", "held", "scopes", "threads")

    def __init__(self, threads: _LoopThreads) -> None:
        self.threads = threads
        self.held = False
        self.has_thread = False
        #: The request was cancelled while its thread ran (see :meth:`scoped`).
        self.cancelled = False
        self.scopes: set[anyio.CancelScope] | None = None

    async def scoped(self, func: Callable[..., Awaitable[T]], /, *args: Any) -> T:
        """Await ``func(*args)`` for the request's thread (on the loop, in a
        task of anyio's ``from_thread``), cancelled if the request is: a
        hot thread's callbacks would otherwise belong to its host task, not
        to the request (anyio's per-request hop puts them in the request's
        cancel scope)."""
        with anyio.CancelScope() as scope:
            if self.cancelled:
                scope.cancel()
            scopes = self.scopes
            if scopes is None:
                scopes = self.scopes = set()
            scopes.add(scope)
            try:
                return await func(*args)
            finally:
                scopes.discard(scope)
        # Cancelled: fail as the request's own cancellation would have.
        raise anyio.get_cancelled_exc_class()()

    def cancel_callbacks(self) -> None:
        """The request was cancelled: cancel what its thread awaits, now
        and from now on."""
        self.cancelled = True
        for scope in self.scopes or ():
            scope.cancel()

    def claim_now(self) -> bool:
        """Take a thread and a slot, if both are free, without waiting (and
        without a coroutine per limiter: this runs for every def request).
        ``False`` if either is taken; a thread taken is kept (see
        :meth:`ThreadPool._acquire`, which waits for the rest)."""
        threads = self.threads
        try:
            threads.threads.acquire_on_behalf_of_nowait(self)
        except anyio.WouldBlock:
            return False
        self.has_thread = True
        try:
            threads.running.acquire_on_behalf_of_nowait(self)
        except anyio.WouldBlock:
            return False
        self.held = True
        return True

    async def acquire_thread(self) -> None:
        """Claim one of the threads (running or parked) requests may hold."""
        threads = self.threads.threads
        try:
            threads.acquire_on_behalf_of_nowait(self)  # no loop cycle when one is free
        except anyio.WouldBlock:
            await threads.acquire_on_behalf_of(self)
        self.has_thread = True

    def release_thread(self) -> None:
        if self.has_thread:
            self.has_thread = False
            self.threads.threads.release_on_behalf_of(self)

    async def acquire(self) -> None:
        running = self.threads.running
        try:
            # A free slot is taken without yielding to the loop (anyio's
            # acquire yields once even then: a loop cycle per def request).
            running.acquire_on_behalf_of_nowait(self)
        except anyio.WouldBlock:
            await running.acquire_on_behalf_of(self)
        self.held = True

    def release(self) -> None:
        if self.held:
            self.held = False
            self.threads.running.release_on_behalf_of(self)

    def park(self) -> None:
        """The request's thread waits on the loop: give up the slot."""
        self.release()
        self.threads.parked += 1

    def unpark(self) -> None:
        self.threads.parked -= 1
