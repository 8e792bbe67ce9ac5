"""The one place where sync and async code meet.

The request pipeline (:mod:`flaskish.pipeline`) is written once, as a
coroutine. It never calls a user callable directly: it writes
``await call(func, *args)``, which hands the call to whoever drives the
coroutine. Two drivers exist:

* :func:`drive` runs on the event loop. It awaits ``async def`` callables in
  place. At the first plain ``def`` callable it moves the *rest of the
  coroutine* onto one worker thread (one ``anyio.to_thread`` hop), where
  :func:`drive_blocking` takes over. A request whose callables are all
  ``async def`` never touches a thread.
* :func:`drive_blocking` runs on a thread. It calls ``def`` callables in
  place and sends ``async def`` ones back to the event loop with
  ``anyio.from_thread``. Every sync callable of the request therefore runs on
  the same thread (thread affinity: a ``sqlite3`` connection opened in
  ``before_request`` can be used in the view and closed in teardown).

Outside any event loop (a plain ``with app.app_context():`` in a script),
:func:`drive_blocking` runs ``async def`` callables with :func:`anyio.run`.

Nothing else in flaskish calls ``anyio.to_thread`` or ``anyio.from_thread``.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Awaitable, Callable, Coroutine, Generator
from dataclasses import dataclass
from inspect import CO_COROUTINE
from types import FunctionType, MethodType
from typing import Any, TypeVar

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
from anyio.lowlevel import RunVar
from starlette._utils import is_async_callable as _starlette_is_async

T = TypeVar("T")

__all__ = [
    "AwaitableSelf",
    "ThreadPool",
    "ThreadPoolStats",
    "await_",
    "call",
    "drive",
    "drive_blocking",
    "in_thread",
    "in_worker_thread",
    "is_async_callable",
    "nonblocking",
    "on_event_loop",
    "on_loop_thread",
    "resolve",
    "run_in_loop",
    "run_pipeline",
]


def is_async_callable(func: object) -> bool:
    """Whether calling *func* returns a coroutine (``async def``, a partial of
    one, or an object whose ``__call__`` is ``async def``)."""
    # Fast path for the common cases (called for every view and hook).
    kind = type(func)
    if kind is FunctionType:
        code = func.__code__  # type: ignore[attr-defined]
    elif kind is MethodType and type(func.__func__) is FunctionType:  # type: ignore[attr-defined]
        code = func.__func__.__code__  # type: ignore[attr-defined]
    else:
        return bool(_starlette_is_async(func))
    # inspect.markcoroutinefunction (3.12+) marks a plain def as async.
    return bool(code.co_flags & CO_COROUTINE) or hasattr(func, "_is_coroutine_marker")


class AwaitableSelf:
    """Mixin for values that are ready but may be awaited: ``await value``
    gives the value itself. A loaded ``request.form`` is one, so is what
    ``render_template`` returns, so code written either way works."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, Any]:
        yield from ()
        return self


class _Step:
    """One call the pipeline asks its driver to make."""

    __slots__ = ("args", "func", "kind", "kwargs")

    def __init__(
        self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], kind: int
    ) -> None:
        self.func = func
        self.args = args
        self.kwargs = kwargs
        self.kind = kind

    def __await__(self) -> Generator[_Step, Any, Any]:
        return (yield self)


_AUTO, _ASYNC = 0, 1


F = TypeVar("F", bound=Callable[..., Any])


def nonblocking(func: F) -> F:
    """Mark a ``def`` function as quick CPU work that never blocks (signing
    a session cookie): :func:`drive` then calls it in place on the event
    loop instead of moving the request to a worker thread. Only for
    flaskish's own functions; an override loses the mark, as it should."""
    func.__flaskish_nonblocking__ = True  # type: ignore[attr-defined]
    return func


def call(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Awaitable[Any]:
    """Ask the driver to call a user callable, ``def`` or ``async def``, and
    return its result. Only valid inside a coroutine run by :func:`drive` or
    :func:`drive_blocking`."""
    return _Step(func, args, kwargs, _AUTO)


def await_(
    func: Callable[..., Awaitable[T]], /, *args: Any, **kwargs: Any
) -> Awaitable[T]:
    """Like :func:`call` for a callable known to return an awaitable (an ASGI
    ``send``, an async iterator's ``__anext__``): it always runs on the event
    loop, and never makes the driver move to a thread."""
    return _Step(func, args, kwargs, _ASYNC)


# -- worker threads ---------------------------------------------------------


@dataclass(frozen=True)
class ThreadPoolStats:
    """A snapshot of an app's worker threads on the current event loop.

    :param limit: how many requests may run sync code at once.
    :param busy: how many worker threads are running a request now.
    :param waiting: how many requests wait for a free worker thread.
    """

    limit: int
    busy: int
    waiting: int


class ThreadPool:
    """The limit on worker threads one app uses for its sync callables.

    The limit is per event loop (anyio limiters belong to one loop); it is read
    from the app's ``THREAD_POOL_SIZE`` config when a loop first needs it.
    """

    def __init__(self, size: Callable[[], int]) -> None:
        self._size = size
        self._limiter: RunVar[anyio.CapacityLimiter] = RunVar("flaskish.thread_limiter")

    def limiter(self) -> anyio.CapacityLimiter:
        """The limiter for the running event loop, created on first use."""
        try:
            return self._limiter.get()
        except LookupError:
            size = self._size()
            if not isinstance(size, int) or size < 1:
                raise ValueError(
                    f"THREAD_POOL_SIZE must be a whole number of at least 1, not {size!r}."
                ) from None
            limiter = anyio.CapacityLimiter(size)
            self._limiter.set(limiter)
            return limiter

    def stats(self) -> ThreadPoolStats:
        """How many worker threads are busy and how many requests wait, on the
        running event loop. Outside an event loop nothing is busy."""
        if not on_event_loop():
            return ThreadPoolStats(self._size(), 0, 0)
        limiter = self.limiter()
        stats = limiter.statistics()
        return ThreadPoolStats(
            int(limiter.total_tokens), stats.borrowed_tokens, stats.tasks_waiting
        )


# -- where are we? ----------------------------------------------------------

# While a worker thread drives a pipeline, it holds the token of the event loop
# it came from, so that sync code on it can call back into that loop.
_thread_state = threading.local()


def in_worker_thread() -> bool:
    """Whether this thread is driving a request for an event loop (and can
    therefore call back into that loop)."""
    return getattr(_thread_state, "token", None) is not None


def on_event_loop() -> bool:
    """Whether the current thread is running an event loop right now."""
    try:
        anyio.get_current_task()
    except RuntimeError:
        return False
    return True


def on_loop_thread() -> bool:
    """Whether sync code here would block the event loop: we are on the
    loop's own thread (an ``async def`` view), not on a request's worker
    thread. Dual-mode functions return an awaitable then."""
    return not in_worker_thread() and on_event_loop()


# -- drivers ----------------------------------------------------------------


def _wrong_await(step: object) -> RuntimeError:
    return RuntimeError(
        f"The request pipeline awaited {step!r} directly. Pipeline code must await "
        "flaskish.concurrency.call() or await_() so that its driver can run the call."
    )


async def drive(coro: Coroutine[Any, Any, T], pool: ThreadPool) -> T:
    """Run a pipeline coroutine from the event loop.

    ``async def`` steps are awaited here. At the first ``def`` step, the rest
    of the coroutine moves to one worker thread from *pool*.
    """
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = coro.send(value) if error is None else coro.throw(error)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        value = error = None
        if type(step) is not _Step:
            coro.close()
            raise _wrong_await(step)
        if step.kind == _ASYNC or is_async_callable(step.func):
            try:
                value = await step.func(*step.args, **step.kwargs)
            except BaseException as exc:
                error = exc
            continue
        if getattr(step.func, "__flaskish_nonblocking__", False):
            try:
                value = step.func(*step.args, **step.kwargs)
            except BaseException as exc:
                error = exc
            continue
        handoff = _Handoff(coro, step, anyio.lowlevel.current_token())
        try:
            return await anyio.to_thread.run_sync(handoff.run, limiter=pool.limiter())
        except BaseException as exc:
            if handoff.started:
                raise
            # No thread took the coroutine (cancelled while waiting for one,
            # or the pool is misconfigured): the step fails with that error,
            # so the pipeline's error handling and teardown still run.
            error = exc


class _Handoff:
    """The rest of a pipeline coroutine, run on a worker thread."""

    __slots__ = ("coro", "started", "step", "token")

    def __init__(
        self, coro: Coroutine[Any, Any, Any], step: _Step, token: anyio.lowlevel.EventLoopToken
    ) -> None:
        self.coro = coro
        self.step = step
        self.token = token
        self.started = False

    def run(self) -> Any:
        self.started = True
        outer = getattr(_thread_state, "token", None)
        _thread_state.token = self.token
        try:
            return _drive_in_thread(self.coro, self.step)
        finally:
            _thread_state.token = outer


def _drive_in_thread(coro: Coroutine[Any, Any, T], step: _Step | None) -> T:
    value: Any = None
    error: BaseException | None = None
    while True:
        if step is not None:
            value = error = None
            try:
                value = _run_step_blocking(step)
            except BaseException as exc:
                error = exc
        try:
            next_step = coro.send(value) if error is None else coro.throw(error)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        if type(next_step) is not _Step:
            coro.close()
            raise _wrong_await(next_step)
        step = next_step


def drive_blocking(coro: Coroutine[Any, Any, T]) -> T:
    """Run a pipeline coroutine to completion on the current thread.

    Use it where a sync API must run hooks that may be ``async def`` (leaving
    ``with app.app_context():`` runs teardown functions). On an event loop's
    own thread this works only while every step is ``def``; an ``async def``
    step there raises an error that says to use ``async with`` instead.
    """
    return _drive_in_thread(coro, None)


def run_pipeline(coro: Coroutine[Any, Any, T], pool: ThreadPool) -> Any:
    """Run a pipeline coroutine for one of Flask's plain methods
    (``app.full_dispatch_request()``, ``app.handle_exception(e)``...).

    Off the event loop (a ``def`` override or wrapper, on the request's
    worker thread; a test outside any loop) it runs to completion here and
    returns the result, as Flask's method does. On the loop's own thread (an
    ``async def`` override) it returns an awaitable of the result instead:
    ``rv = await super().handle_exception(e)``.
    """
    if on_loop_thread():
        return drive(coro, pool)
    return drive_blocking(coro)


def _run_step_blocking(step: _Step) -> Any:
    if step.kind == _ASYNC or is_async_callable(step.func):
        return run_in_loop(step.func, *step.args, **step.kwargs)
    result = step.func(*step.args, **step.kwargs)
    if inspect.isawaitable(result):
        # A plain ``def`` that returned an awaitable: a sync decorator around an
        # ``async def`` view. Await it where it belongs, on the event loop.
        return run_in_loop(_await, result)
    return result


async def _await(awaitable: Awaitable[T]) -> T:
    return await awaitable


async def in_thread(
    func: Callable[..., T], /, *args: Any, pool: ThreadPool | None = None
) -> T:
    """Run a blocking ``def`` function on a worker thread from async code
    (saving an upload from an ``async def`` view). On that thread
    :func:`run_in_loop` calls back into this event loop.

    :param pool: count the thread in this app's pool (anyio's default
        limiter otherwise).
    """
    token = anyio.lowlevel.current_token()

    def run() -> T:
        outer = getattr(_thread_state, "token", None)
        _thread_state.token = token
        try:
            return func(*args)
        finally:
            _thread_state.token = outer

    limiter = pool.limiter() if pool is not None else None
    return await anyio.to_thread.run_sync(run, limiter=limiter)


def resolve(value: Any) -> Any:
    """*value*, or, if it is awaitable, its result, from sync code (a
    session interface's ``async def`` methods called by the test client)."""
    if inspect.isawaitable(value):
        return run_in_loop(_await, value)
    return value


def run_in_loop(func: Callable[..., Awaitable[T]], /, *args: Any, **kwargs: Any) -> T:
    """Run an ``async def`` callable from sync code and return its result.

    From a worker thread it runs on the thread's event loop (blocking only this
    thread). Outside any event loop it runs on a short-lived one. On an event
    loop's own thread it cannot block, and raises.
    """

    async def runner() -> T:
        return await func(*args, **kwargs)

    token = getattr(_thread_state, "token", None)
    if token is not None:
        return anyio.from_thread.run(runner, token=token)
    if on_event_loop():
        name = getattr(func, "__qualname__", repr(func))
        raise RuntimeError(
            f"Cannot run the async function {name} from sync code on the event loop. "
            "Use the async form instead: `async with app.app_context():` rather than "
            "`with app.app_context():`, or `await` the call."
        )
    return anyio.run(runner)
