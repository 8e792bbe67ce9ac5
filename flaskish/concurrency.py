"""The one place where sync and async code meet.

The request pipeline (:mod:`flaskish.pipeline`) is written once, as a
coroutine. It never calls a user callable directly: it writes
``await call(func, *args)``, which hands the call to whoever drives the
coroutine. The coroutine is driven on the event loop by :func:`drive`, and
moves, for its sync stretches, to one thread of its own:

* On the loop, an ``async def`` step runs *inside* the pipeline coroutine
  (the driver answers "run it here"), so whatever it awaits (a database
  driver's coroutine, ``asyncio.sleep``, anyio primitives) goes through the
  driver to the event loop, as in any task.
* At a plain ``def`` step the coroutine moves to the request's thread (one
  ``anyio.to_thread`` hop), where ``def`` steps run in place. At the next
  ``async def`` step the thread hands the coroutine back to the loop and
  *parks*: it stays the request's (every sync callable of one request runs
  on the same thread: a ``sqlite3`` connection opened in ``before_request``
  can be used in the view and closed in teardown), but it gives up its
  ``THREAD_POOL_SIZE`` slot until the request has sync work again. The
  limit bounds sync code running, never requests waiting on async work.
* Every step, on either side, runs in one :class:`contextvars.Context` per
  request, so a context variable set by one step is seen by the next,
  whichever thread runs it.

A request whose callables are all ``async def`` never touches a thread. A
``def`` step returning a ready value (a response, a loaded form) costs no
trip to the loop: only real coroutines and awaitables that are not ready go
there.

Outside any event loop (a plain ``with app.app_context():`` in a script),
:func:`drive_blocking` runs ``async def`` steps with :func:`anyio.run`.

Nothing else in flaskish calls ``anyio.to_thread`` or ``anyio.from_thread``.
The request thread is an anyio worker thread, held for the request's life
(anyio has no "the same thread again"; holding it is how affinity is kept),
and bounded by a second limiter: ``THREAD_POOL_SIZE`` running plus
``THREAD_POOL_PARKED`` parked. On asyncio it stays hot between requests
(:class:`_HotThreads`, started by :func:`_host_thread`): the hop to it is
a lock release and the way back one ``call_soon_threadsafe``, half the cost
of a ``to_thread.run_sync`` per request, and what the thread awaits on the
loop is cancelled with the request. On other backends each request is one
``to_thread.run_sync``, given a limiter that admits at once
(:class:`_Claimed`: the limits are taken before the hop).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Generator, Iterable, Iterator
from contextlib import AbstractContextManager
from inspect import CO_COROUTINE
from types import CoroutineType, FunctionType, GeneratorType, MethodType, TracebackType
from typing import Any, Self, TypeVar

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
from anyio.abc import ObjectReceiveStream

from .threads import ThreadPool, ThreadPoolStats, ThreadPoolTimeout, _Lease, _LoopThreads

T = TypeVar("T")

__all__ = [
    "AwaitableSelf",
    "ThreadPool",
    "ThreadPoolStats",
    "ThreadPoolTimeout",
    "await_",
    "await_here",
    "blocking_portal",
    "call",
    "call_each",
    "current_loop",
    "drive",
    "drive_blocking",
    "in_thread",
    "in_worker_thread",
    "is_async_callable",
    "iterate_beside",
    "nonblocking",
    "on_event_loop",
    "on_loop_thread",
    "resolve",
    "run_in_loop",
    "run_in_loop_of",
    "run_pipeline",
]

_MARKS_COROUTINES = sys.version_info >= (3, 12)  # inspect.markcoroutinefunction


def is_async_callable(func: object) -> bool:
    """Whether calling *func* returns a coroutine (``async def``, a partial of
    one, or an object whose ``__call__`` is ``async def``)."""
    # Fast path for the common cases (called for every view and hook).
    kind = type(func)
    if kind is MethodType:
        func = func.__func__  # type: ignore[attr-defined]
        kind = type(func)
    if kind is FunctionType:
        if func.__code__.co_flags & CO_COROUTINE:  # type: ignore[attr-defined]
            return True
        return _MARKS_COROUTINES and inspect.iscoroutinefunction(func)
    while isinstance(func, functools.partial):
        func = func.func
    if inspect.iscoroutinefunction(func):
        return True
    if isinstance(func, type) or not callable(func):
        return False  # calling a class makes an instance, not a coroutine
    return inspect.iscoroutinefunction(type(func).__call__)


class AwaitableSelf:
    """Mixin for values that are ready but may be awaited: ``await value``
    gives the value itself. A loaded ``request.form`` is one, so is what
    ``render_template`` returns, so code written either way works."""

    __slots__ = ()
    #: The driver hands such a value on as it is, never to the loop.
    __flaskish_ready__ = True

    def __await__(self) -> Generator[Any, None, Self]:
        yield from ()
        return self


# What the driver answers a step with, besides its value.
_INLINE: Any = object()  # "you are on the loop: await the call here"
_NOTHING: Any = object()  # no object from the pipeline to pass on


class _AwaitValue:
    """A ``def`` step returned an awaitable that is not ready: await it here
    (on the loop)."""

    __slots__ = ("awaitable",)

    def __init__(self, awaitable: Awaitable[Any]) -> None:
        self.awaitable = awaitable


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

    def __await__(self) -> Generator[Any, Any, Any]:
        answer = yield self
        if answer is _INLINE:
            return (yield from self.func(*self.args, **self.kwargs).__await__())
        if type(answer) is _AwaitValue:
            return (yield from answer.awaitable.__await__())
        return answer


_AUTO, _ASYNC, _HERE = 0, 1, 2


class _Yield:
    """Passes an object that the pipeline's own awaiting yielded (an
    asyncio future, say) up to the task that runs the driver."""

    __slots__ = ("obj",)

    def __init__(self, obj: object) -> None:
        self.obj = obj

    def __await__(self) -> Generator[Any, Any, Any]:
        return (yield self.obj)


class _Done:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


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
    state = _thread_state
    if state.token is not None:
        if not is_async_callable(func):
            # Already on a worker thread: a def step runs here and now,
            # without suspending the pipeline up to its driver and back.
            value = func(*args, **kwargs)
            if getattr(type(value), "__flaskish_ready__", False):
                return value  # type: ignore[no-any-return]  # awaiting it gives itself
            if _not_ready(value):
                return _Step(_identity, (value,), {}, _ASYNC)  # awaited on the loop
            return _Ready(value)
    elif state.driving:
        if is_async_callable(func):
            # Driven on the loop: an async step is awaited right here, as the
            # driver would answer (no suspension up to it and back).
            return func(*args, **kwargs)  # type: ignore[no-any-return]
        if getattr(func, "__flaskish_nonblocking__", False):
            return _Ready(func(*args, **kwargs))  # quick CPU work: here, as the driver would
    return _Step(func, args, kwargs, _AUTO)


async def call_each(funcs: Iterable[Callable[[T], Any]], value: T) -> T:
    """``for func in funcs: value = await call(func, value)``, for a chain
    of hooks (the ``after_request`` functions): on the request's thread a
    ``def`` one that returns a ready value is called in place, as
    :func:`call` would, without a step per hook."""
    state = _thread_state
    for func in funcs:
        if state.token is not None and not is_async_callable(func):
            value = func(value)
            if _not_ready(value):
                value = await _Step(_identity, (value,), {}, _ASYNC)  # awaited on the loop
        else:
            value = await call(func, value)
    return value


class _Ready:
    """A step's value, already there: awaiting it does not suspend."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, Any, Any]:
        return self.value
        yield  # pragma: no cover - makes this a generator


def _identity(value: T) -> T:
    return value


def await_(func: Callable[..., Awaitable[T]], /, *args: Any, **kwargs: Any) -> Awaitable[T]:
    """Like :func:`call` for a callable known to return an awaitable (an ASGI
    ``send``, an async iterator's ``__anext__``): it always runs on the event
    loop, and never makes the driver move to a thread."""
    return _Step(func, args, kwargs, _ASYNC)


def await_here(func: Callable[..., Awaitable[T]], /, *args: Any, **kwargs: Any) -> Awaitable[T]:
    """Like :func:`await_`, for a long-lived awaitable that waits often (a
    websocket handler): while the pipeline runs in its task's own context
    (no ``def`` step yet), the driver awaits it itself, so that its waits
    go straight to the event loop instead of resuming the pipeline's frames
    and the driver's loop each time."""
    return _Step(func, args, kwargs, _HERE)


def _is_sync_step(step: object) -> bool:
    return isinstance(step, _Step) and step.kind == _AUTO and not is_async_callable(step.func)


def _not_ready(value: Any) -> bool:
    """Whether a ``def`` step's result must be awaited on the loop (a
    coroutine from a sync decorator around an ``async def`` view)."""
    kind = type(value)
    if kind is CoroutineType:
        return True
    if getattr(kind, "__await__", None) is None:
        # Not awaitable, but for a generator-based coroutine (types.coroutine).
        return kind is GeneratorType and inspect.isawaitable(value)
    return not getattr(kind, "__flaskish_ready__", False)


# -- where are we? ----------------------------------------------------------


# While a worker thread runs sync code for an event loop, it holds that
# loop's token (so that sync code on it can call back into the loop) and,
# for a request, the request's lease (given up while it waits on the loop).
class _ThreadState(threading.local):
    # Class defaults: reading an unset attribute of a plain threading.local
    # costs an AttributeError, and this is read on every step.
    token: anyio.lowlevel.EventLoopToken | None = None
    lease: _Lease | None = None
    #: :func:`drive` is running a pipeline coroutine on this (the loop's)
    #: thread, right now: an async step may be awaited in place.
    driving = False


_thread_state = _ThreadState()


def in_worker_thread() -> bool:
    """Whether this thread is running sync code for an event loop (and can
    therefore call back into that loop)."""
    return _thread_state.token is not None


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


async def _on_loop(
    coro: Coroutine[Any, Any, Any],
    context: contextvars.Context | None,
    value: Any,
    error: BaseException | None,
) -> _Step | _Done:
    """Drive the pipeline on the event loop until it finishes or reaches a
    ``def`` step (returned: it runs on the request's thread). Without a
    *context* (before the request's first ``def`` step) the pipeline runs in
    the task's own context."""
    state = _thread_state
    while True:
        outer, state.driving = state.driving, True
        try:
            if context is None:
                yielded = coro.send(value) if error is None else coro.throw(error)
            elif error is None:
                yielded = context.run(coro.send, value)
            else:
                yielded = context.run(coro.throw, error)
        except StopIteration as stop:
            return _Done(stop.value)
        finally:
            state.driving = outer
            # An error thrown in has this frame in its traceback: kept here,
            # it would hold the frame, and the request, in a reference cycle.
            value = error = None
        if type(yielded) is _Step:
            if yielded.kind == _HERE and context is None:
                try:
                    value = await yielded.func(*yielded.args, **yielded.kwargs)
                except BaseException as exc:
                    error = exc
                continue
            if yielded.kind != _AUTO or is_async_callable(yielded.func):
                value = _INLINE
                continue
            if not getattr(yielded.func, "__flaskish_nonblocking__", False):
                return yielded
            try:
                if context is None:
                    value = yielded.func(*yielded.args, **yielded.kwargs)
                else:
                    value = context.run(yielded.func, *yielded.args, **yielded.kwargs)
            except BaseException as exc:
                error = exc
            continue
        # Something the pipeline awaits directly (an async override awaiting
        # asyncio.sleep): its yield goes to the event loop, as in a task.
        try:
            value = await _Yield(yielded)
        except BaseException as exc:
            error = exc


async def drive(
    coro: Coroutine[Any, Any, T], pool: ThreadPool, may_shed: Callable[[], bool] | None = None
) -> T:
    """Run a pipeline coroutine from the event loop: ``async def`` steps on
    the loop, ``def`` steps on one thread of the request's own (see the
    module's documentation).

    :param may_shed: whether the request may still be shed (answered 503)
        if its first sync step waits past ``THREAD_POOL_TIMEOUT``: true
        until it has a response.
    """
    context: contextvars.Context | None = None
    value: Any = None
    error: BaseException | None = None
    first = True
    while True:
        outcome = await _on_loop(coro, context, value, error)
        value = error = None  # (see _on_loop)
        if isinstance(outcome, _Done):
            return outcome.value  # type: ignore[no-any-return]
        if context is None:
            # From the first def step on, every step runs in one context of
            # the request's own (a snapshot of the task's, with all that was
            # set so far), shared by the loop side and the thread.
            context = contextvars.copy_context()
        try:
            lease = _Lease(pool._threads())
            if not lease.claim_now():
                await pool._acquire(lease, first and may_shed is not None and may_shed())
        except BaseException as exc:
            # No slot (cancelled while waiting, a misconfigured pool): the
            # step fails with that error, so error handling and teardown run.
            value, error = None, exc
            continue
        finally:
            first = False
        run = _ThreadRun(coro, context, lease, lease.threads.token, outcome)
        try:
            hot = _hot_threads(lease.threads)
            result: T = (
                await hot.run(run.run, lease, _host_thread)
                if hot is not None
                else await anyio.to_thread.run_sync(run.run, limiter=_CLAIMED)
            )
            return result
        finally:
            lease.release()
            lease.release_thread()


def _hot_threads(threads: _LoopThreads) -> _HotThreads | None:
    """The loop's hot request threads, made at its first hop (asyncio only)."""
    hot: _HotThreads | None = threads.hot
    if hot is None and threads.loop is not None:
        hot = threads.hot = _HotThreads(threads.loop)
    return hot


async def _host_thread(serve: Callable[[], None]) -> None:
    """The anyio job a hot request thread (:class:`_HotThreads`) runs in,
    serving request after request: it is an anyio worker thread all along."""
    await anyio.to_thread.run_sync(serve, limiter=_CLAIMED)


class _ThreadRun:
    """The sync stretches of one request, on its thread."""

    __slots__ = ("context", "coro", "lease", "step", "token")

    def __init__(
        self,
        coro: Coroutine[Any, Any, Any],
        context: contextvars.Context,
        lease: _Lease,
        token: anyio.lowlevel.EventLoopToken,
        step: _Step,
    ) -> None:
        self.coro = coro
        self.context = context
        self.lease = lease
        self.token = token
        self.step: _Step | None = step

    def run(self) -> Any:
        outer = _thread_state.token, _thread_state.lease
        _thread_state.token, _thread_state.lease = self.token, self.lease
        step, self.step = self.step, None
        try:
            return self._run(step)  # type: ignore[arg-type]
        finally:
            _thread_state.token, _thread_state.lease = outer
            # An idle anyio worker keeps its last job (this method) until the
            # next one: let go of the request's coroutine, context and app.
            self.coro = self.context = None  # type: ignore[assignment]

    def _run(self, step: _Step) -> Any:
        context, coro = self.context, self.coro
        while True:
            value: Any = None
            error: BaseException | None = None
            try:
                value = context.run(step.func, *step.args, **step.kwargs)
            except BaseException as exc:
                error = exc
            while True:
                if error is None and _not_ready(value):
                    outcome = self._on_loop(_AwaitValue(value), None, _NOTHING)
                else:
                    try:
                        if error is None:
                            yielded = context.run(coro.send, value)
                        else:
                            yielded = context.run(coro.throw, error)
                    except StopIteration as stop:
                        return stop.value
                    finally:
                        value = error = None  # (see _on_loop)
                    if _is_sync_step(yielded):
                        step = yielded
                        break
                    outcome = self._on_loop(None, None, yielded)
                if type(outcome) is _Done:
                    return outcome.value
                step = outcome
                break

    def _on_loop(self, value: Any, error: BaseException | None, yielded: object) -> Any:
        """Hand the coroutine to the loop (its answer to *yielded*, or
        *value*, first) until it has sync work again; park meanwhile."""
        if self.lease.threads.hot is None:  # anyio's hop: its callbacks are the request's
            return anyio.from_thread.run(self._parked, value, error, yielded, token=self.token)
        return anyio.from_thread.run(
            self.lease.scoped, self._parked, value, error, yielded, token=self.token
        )

    async def _parked(
        self, value: Any, error: BaseException | None, yielded: object
    ) -> _Step | _Done:
        lease = self.lease
        lease.park()
        try:
            if type(yielded) is _Step:
                value = _INLINE  # an async step: the pipeline awaits it here
            elif yielded is not _NOTHING:
                try:
                    value = await _Yield(yielded)
                except BaseException as exc:
                    error = exc
            outcome = await _on_loop(self.coro, self.context, value, error)
            value = error = None  # (see _on_loop)
        finally:
            lease.unpark()
        if type(outcome) is _Step:
            await lease.acquire()  # sync work again
        return outcome


def drive_blocking(coro: Coroutine[Any, Any, T]) -> T:
    """Run a pipeline coroutine to completion on the current thread.

    Use it where a sync API must run hooks that may be ``async def`` (leaving
    ``with app.app_context():`` runs teardown functions, a ``def`` override
    calls ``super().handle_exception(e)``). ``async def`` steps run on the
    event loop (:func:`run_in_loop`); on an event loop's own thread that is
    impossible, and an ``async def`` step raises an error that says to use
    ``async with`` instead.
    """
    value: Any = None
    error: BaseException | None = None
    state = _thread_state
    while True:
        # Not driven on the loop, even when called from code that is (a sync
        # `with app.app_context():` in an async view): every step comes here.
        outer, state.driving = state.driving, False
        try:
            step = coro.send(value) if error is None else coro.throw(error)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        finally:
            state.driving = outer
            value = error = None  # (see _on_loop)
        try:
            if type(step) is not _Step:
                raise RuntimeError(
                    f"The request pipeline awaited {step!r} directly, outside the event loop's "
                    "driver. Await it in an async def hook or view instead."
                )
            if step.kind != _AUTO or is_async_callable(step.func):
                value = run_in_loop(step.func, *step.args, **step.kwargs)
            else:
                value = step.func(*step.args, **step.kwargs)
                if _not_ready(value):
                    value = run_in_loop(_await, value)
        except BaseException as exc:
            error = exc


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


async def _await(awaitable: Awaitable[T]) -> T:
    return await awaitable


async def in_thread(func: Callable[..., T], /, *args: Any, pool: ThreadPool | None = None) -> T:
    """Run a blocking ``def`` function on a worker thread from async code
    (saving an upload from an ``async def`` view). On that thread
    :func:`run_in_loop` calls back into this event loop.

    :param pool: count the thread in this app's pool (anyio's default
        limiter otherwise).
    """
    token = anyio.lowlevel.current_token()
    context = contextvars.copy_context()

    def run() -> T:
        outer = _thread_state.token, _thread_state.lease
        _thread_state.token, _thread_state.lease = token, None
        try:
            return context.run(func, *args)
        finally:
            _thread_state.token, _thread_state.lease = outer

    limiter = pool.limiter() if pool is not None else None
    return await anyio.to_thread.run_sync(run, limiter=limiter)


def resolve(value: Any) -> Any:
    """*value*, or, if it is awaitable, its result, from sync code (a
    session interface's ``async def`` methods called by the test client)."""
    if inspect.isawaitable(value):
        return run_in_loop(_await, value)
    return value


async def _capture(func: Callable[[], Awaitable[T]]) -> tuple[bool, Any]:
    """``(True, result)`` or ``(False, error)``: an error carried back to the
    worker thread as a value. Raised through ``anyio.from_thread.run``, it
    would be held by the future in one of anyio's frames, which its own
    traceback holds: a cycle that keeps the request (and its body) until the
    garbage collector runs."""
    try:
        return True, await func()
    except Exception as exc:
        return False, exc


def run_in_loop(func: Callable[..., Awaitable[T]], /, *args: Any, **kwargs: Any) -> T:
    """Run an ``async def`` callable from sync code and return its result.

    From a worker thread it runs on the thread's event loop, blocking only
    this thread (a request's thread gives up its slot meanwhile). Outside
    any event loop it runs on a short-lived one. On an event loop's own
    thread it cannot block, and raises.
    """
    return _run_in_loop(None, func, *args, **kwargs)


def run_in_loop_of(
    loop: anyio.lowlevel.EventLoopToken, func: Callable[..., Awaitable[T]], /, *args: Any
) -> T:
    """:func:`run_in_loop` on the event loop *loop* (from
    :func:`current_loop`), also from a thread the app did not start for it
    (a thread a ``def`` websocket handler started to send from)."""
    return _run_in_loop(loop, func, *args)


def current_loop() -> anyio.lowlevel.EventLoopToken:
    """A token for the running event loop, for :func:`run_in_loop_of`."""
    return anyio.lowlevel.current_token()


def _run_in_loop(
    loop: anyio.lowlevel.EventLoopToken | None,
    func: Callable[..., Awaitable[T]],
    /,
    *args: Any,
    **kwargs: Any,
) -> T:

    lease: _Lease | None = _thread_state.lease  # read here, on the calling thread

    async def runner() -> T:
        if lease is None or not lease.held:
            return await func(*args, **kwargs)
        lease.park()
        try:
            return await func(*args, **kwargs)
        finally:
            lease.unpark()
            await lease.acquire()

    token = _thread_state.token if loop is None else loop
    if token is not None:
        if lease is None or lease.threads.hot is None:
            ok, value = anyio.from_thread.run(_capture, runner, token=token)
        else:  # a hot thread's callback, cancelled with the request
            ok, value = anyio.from_thread.run(lease.scoped, _capture, runner, token=token)
        if ok:
            return value  # type: ignore[no-any-return]
        try:
            raise value
        finally:
            del value  # its traceback holds this frame (see _on_loop)
    if on_event_loop():
        name = getattr(func, "__qualname__", repr(func))
        raise RuntimeError(
            f"Cannot run the async function {name} from sync code on the event loop. "
            "Use the async form instead: `async with app.app_context():` rather than "
            "`with app.app_context():`, or `await` the call."
        )
    return anyio.run(runner)


def iterate_beside(
    iterator: Iterator[T], consume: Callable[[ObjectReceiveStream[T]], Awaitable[None]]
) -> None:
    """On a request's worker thread: iterate *iterator* here, on this thread
    (thread affinity: a sync generator stays on its request's thread), while
    *consume* runs on the event loop and receives each item from a stream,
    one at a time (this thread waits, its slot given up, until the item is
    taken). *consume* keeps running while this thread is blocked in the
    iterator, so it can do work meanwhile: an event stream's keep-alive
    pings.

    Returns when the iterator ends (*consume* then sees the stream's end)
    or, at the next item, once *consume* has returned (the client went
    away); *consume*'s error is raised here. The iterator is not closed:
    that is the caller's. *consume* is hosted by a helper thread that only
    waits for it (this thread cannot both run the iterator and wait on the
    loop); it is joined before this returns.
    """
    token = _thread_state.token
    if token is None:
        raise RuntimeError(
            "iterate_beside() runs on a request's worker thread; call it as a step of the "
            "pipeline (`await call(iterate_beside, iterator, consume)`)."
        )
    items, received = anyio.create_memory_object_stream[T](0)
    failure: list[BaseException] = []

    async def host() -> None:
        async with received:  # once consume returns, the next item finds it closed
            await consume(received)

    def hosting() -> None:
        try:
            run_in_loop_of(token, host)
        except BaseException as exc:
            failure.append(exc)

    helper = threading.Thread(
        target=contextvars.copy_context().run,
        args=(hosting,),
        name="flaskish-stream-host",
        daemon=True,
    )
    helper.start()
    try:
        for item in iterator:
            try:
                run_in_loop(items.send, item)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                break
    finally:
        try:
            run_in_loop(items.aclose)
        finally:
            helper.join()
    if failure:
        try:
            raise failure[0]
        finally:
            del failure  # its traceback holds this frame (see _on_loop)


def blocking_portal() -> AbstractContextManager[anyio.from_thread.BlockingPortal]:
    """An event loop on a thread of its own, for sync code with no loop of
    its own to run async code on (the test client's sync calls):
    ``with blocking_portal() as portal: portal.call(func, ...)``."""
    return anyio.from_thread.start_blocking_portal()


# -- request threads that stay hot (asyncio) ---------------------------------


class _Claimed(anyio.CapacityLimiter):
    """The limiter handed to ``anyio.to_thread.run_sync`` for a request's
    hop: the request took its thread from ``_LoopThreads.threads`` before
    the hop, so the count anyio's own limiter would keep is kept there
    already. This one admits at once, without the loop cycle and cancel
    scope that waiting on a real limiter costs anyio even when a token is
    free (and it replaces anyio's default limit of 40 threads, which
    ``THREAD_POOL_SIZE + THREAD_POOL_PARKED`` may exceed)."""

    __slots__ = ()

    def __new__(cls) -> _Claimed:  # anyio's __new__ makes a backend's own limiter
        return object.__new__(cls)

    async def __aenter__(self) -> None:  # the asyncio backend
        pass

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        pass

    async def acquire_on_behalf_of(self, borrower: object) -> None:  # the trio backend
        pass

    def release_on_behalf_of(self, borrower: object) -> None:
        pass

    @property
    def total_tokens(self) -> float:
        return float("inf")

    @total_tokens.setter
    def total_tokens(self, value: float) -> None:
        raise RuntimeError("The request thread's limiter is not to be resized.")


#: The one :class:`_Claimed` limiter (it keeps no state).
_CLAIMED: anyio.CapacityLimiter = _Claimed()


class _HotThreads:
    """An asyncio loop's request threads: anyio worker threads that stay
    hot. Each runs one anyio job for as long as it is in use (so it is an
    anyio worker thread, with all that ``anyio.from_thread`` finds there),
    and inside it runs request after request, each handed over with one
    lock release and handed back with one ``call_soon_threadsafe``: about
    half of what a ``to_thread.run_sync`` per request costs (its queue,
    checkpoint, cancel scope, root-task lookup, context copy and the loop
    cycles between them). Bounded by :attr:`_LoopThreads.threads`, taken
    before the hop. An idle thread gives its anyio job back after
    :attr:`MAX_IDLE` seconds, at once when the loop cancels its tasks (the
    end of ``asyncio.run``, ``anyio.run``, a server), and within
    :attr:`POLL` seconds of the loop no longer running (a
    ``run_until_complete`` that returned: then anyio ends the thread too)."""

    MAX_IDLE = 10.0
    POLL = 0.25

    __slots__ = ("idle", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.idle: list[_HotThread] = []

    async def run(
        self,
        func: Callable[[], Any],
        lease: _Lease,
        host: Callable[[Callable[[], None]], Coroutine[Any, Any, None]],
    ) -> Any:
        """``func()`` on one of the threads (*host* runs a new thread's
        serving loop as an anyio job: the driver's). Cancelled meanwhile, the
        request cancels what its thread awaits on the loop, waits for the
        thread to finish (as anyio's hop does: the request's thread and
        slot are given back only once its sync code is done), then raises
        the cancellation."""
        job = _Job(func, self.loop.create_future())
        idle = self.idle
        while idle:
            if idle.pop().take(job):
                break
        else:
            _HotThread(self, host).take(job)
        try:
            return await job.future
        except asyncio.CancelledError:
            if not job.finished:
                lease.cancel_callbacks()
                job.future = self.loop.create_future()
                with anyio.CancelScope(shield=True):
                    await job.future
            raise


class _Job:
    __slots__ = ("finished", "func", "future")

    def __init__(self, func: Callable[[], Any], future: asyncio.Future[Any]) -> None:
        self.func = func
        self.future = future
        self.finished = False


class _HotThread:
    """One request thread. Its job and whether it has stopped change under
    ``lock`` only: the thread may stop itself while the loop hands it a
    job, and exactly one of the two wins."""

    __slots__ = ("idle_since", "job", "lock", "stopped", "threads", "wake")

    def __init__(
        self, threads: _HotThreads, host: Callable[[Callable[[], None]], Coroutine[Any, Any, None]]
    ) -> None:
        self.threads = threads
        self.job: _Job | None = None
        self.lock = threading.Lock()
        self.wake = threading.Lock()
        self.wake.acquire()
        self.idle_since = time.monotonic()
        self.stopped = False
        # In a context of its own: a copy of the request's that starts it
        # would keep that request alive for the thread's life.
        task = threads.loop.create_task(
            host(self._serve), name="flaskish request thread", context=contextvars.Context()
        )
        task.add_done_callback(self._hosted)

    def take(self, job: _Job) -> bool:
        """On the loop: hand *job* to this thread, unless it has stopped."""
        with self.lock:
            if self.stopped:
                return False
            self.job = job
        self.wake.release()
        return True

    def _hosted(self, host: asyncio.Task[None]) -> None:
        """The anyio job ended (its task cancelled at the loop's end, or the
        thread stopped): a job handed over and not picked up fails rather
        than leave its request waiting."""
        with self.lock:
            self.stopped = True
            job, self.job = self.job, None
        if job is not None and not job.future.done():
            job.finished = True
            job.future.set_exception(
                RuntimeError("The request's thread stopped with its event loop.")
            )
        try:
            self.wake.release()  # idle, it wakes to no job and ends
        except RuntimeError:  # not waiting
            pass

    def _serve(self) -> None:
        loop = self.threads.loop
        while True:
            if not self.wake.acquire(timeout=_HotThreads.POLL):
                if loop.is_running() and time.monotonic() - self.idle_since < _HotThreads.MAX_IDLE:
                    continue
                with self.lock:
                    if self.job is None:
                        self.stopped = True
                        return
                continue  # handed a job meanwhile: its wake is on the way
            with self.lock:
                job, self.job = self.job, None
            if job is None:
                return  # stopped
            result: Any = None
            error: BaseException | None = None
            try:
                result = job.func()
            except BaseException as exc:
                error = exc
            try:
                loop.call_soon_threadsafe(self._done, job, result, error)
            except RuntimeError:  # the loop closed while this ran
                return
            del job, result, error

    def _done(self, job: _Job, result: Any, error: BaseException | None) -> None:
        self.idle_since = time.monotonic()
        if not self.stopped:
            self.threads.idle.append(self)
        job.finished = True
        future = job.future
        if future.cancelled():
            return
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)
