"""The app's lifespan: what runs while it is served.

At startup: the config values it needs are checked, the ``before_serving``
functions run and the ``while_serving`` generators reach their ``yield``
(``def`` or ``async def``, in an app context), the shutdown signal is
armed (:mod:`flaskish.shutdown`), and the watchers start (the blocking-call
detector, the stream deadline). At shutdown: background tasks are drained
(:mod:`flaskish.background`), then the ``after_serving`` functions run and
the ``while_serving`` generators finish.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio

from .blocking import BlockingDetector
from .concurrency import await_, call, current_loop, drive
from .shutdown import shutdown_timeout

if TYPE_CHECKING:
    from .app import Flask

__all__ = ["blocking_threshold", "serving", "start_serving", "stop_serving"]


@asynccontextmanager
async def serving(app: Flask) -> AsyncIterator[None]:
    """The app's lifespan context: startup on entry, shutdown on exit."""
    running: list[Any] = []
    # Bad values fail before anything starts.
    threshold = blocking_threshold(app.config["BLOCKING_WARN_MS"], app.debug)
    streams_timeout = shutdown_timeout(app.config, "SHUTDOWN_TIMEOUT")
    tasks_timeout = shutdown_timeout(app.config, "BACKGROUND_TASK_SHUTDOWN_TIMEOUT")
    app.header_limits.validate()
    app.body_prefetch.validate()
    app.broadcast._check_config()
    shutdown, background = app.shutdown_event, app._background
    try:
        async with anyio.create_task_group() as watchers:
            shutdown._arm()
            background._group, background._loop = watchers, current_loop()
            try:
                await app.broadcast._start(watchers)  # before the hooks: they may publish
                async with app.app_context():
                    await drive(start_serving(app, running), app.thread_pool)
                try:
                    watchers.start_soon(shutdown._end_streams_after, streams_timeout)
                    watchers.start_soon(_drain_at_shutdown, app, tasks_timeout)
                    if threshold is not None:
                        app.blocking_detector = BlockingDetector(threshold, app.logger)
                        watchers.start_soon(app.blocking_detector.run)
                    yield
                finally:
                    shutdown._disarm()  # sets the event: streams and tasks are told
                    await background.drain(tasks_timeout)
                    async with app.app_context():
                        await drive(stop_serving(app, running), app.thread_pool)
            finally:
                await app.broadcast._stop()
                shutdown._disarm()
                background._group = background._loop = None
                watchers.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        # A startup or shutdown hook's error, as it was raised (the watchers
        # and background tasks raise none of their own).
        if len(group.exceptions) == 1:
            raise group.exceptions[0] from group.exceptions[0].__cause__
        raise


async def _drain_at_shutdown(app: Flask, timeout: float) -> None:
    """On the shutdown signal, give background tasks *timeout* seconds
    (the server waits for requests' tasks before the lifespan ends)."""
    await app.shutdown_event._flag.wait()
    await app._background.drain(timeout)


def blocking_threshold(value: Any, debug: bool) -> float | None:
    """``BLOCKING_WARN_MS`` in seconds: ``None`` (the default) means 100
    ms in debug mode and off otherwise; ``0`` or ``False`` is off."""
    if value is None:
        value = 100 if debug else 0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(
            f"BLOCKING_WARN_MS must be a number of milliseconds (0 for off) or None, not {value!r}."
        )
    return value / 1000 if value else None


async def start_serving(app: Flask, running: list[Any]) -> None:
    """Call the ``before_serving`` functions, then run each ``while_serving``
    generator to its ``yield``, adding it to *running*. A pipeline
    coroutine: run it with :func:`flaskish.concurrency.drive`.

    :param app: the app being served.
    :param running: receives the generators started, for :func:`stop_serving`.
    """
    for func in app.before_serving_funcs:
        await call(func)
    for gen_func in app.while_serving_gens:
        generator = gen_func()  # creating a generator runs none of its code
        if await _advance(generator):
            raise RuntimeError(f"while_serving function {gen_func.__name__} did not yield.")
        running.append(generator)


async def stop_serving(app: Flask, running: list[Any]) -> None:
    """Call the ``after_serving`` functions, then finish the generators
    :func:`start_serving` started, last first.

    :param app: the app being served.
    :param running: the generators :func:`start_serving` started.
    """
    for func in app.after_serving_funcs:
        await call(func)
    for generator in reversed(running):
        if not await _advance(generator):
            raise RuntimeError("A while_serving function yielded more than once.")


async def _advance(generator: Any) -> bool:
    """Step a sync or async generator once; whether it is finished."""
    if hasattr(generator, "__anext__"):
        return bool(await await_(_anext_finished, generator))
    return bool(await call(_next_finished, generator))


_FINISHED: Any = object()


def _next_finished(generator: Any) -> bool:
    return next(generator, _FINISHED) is _FINISHED


async def _anext_finished(generator: Any) -> bool:
    try:
        await generator.__anext__()
    except StopAsyncIteration:
        return True
    return False
