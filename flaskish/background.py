"""Background tasks: work that runs after the response is sent.

``app.add_background_task(func, *args, **kwargs)`` (Quart's name), from a
``def`` or ``async def`` view or hook, runs *func* once the response has
gone out and the request's teardown has run: an ``async def`` function on
the event loop, a ``def`` one on a worker thread of the app's pool (not the
finished request's: it is let go first). Each task runs in an app context
of its own (a fresh ``g``; the request is over), so pass what it needs as
arguments. A task's exception is logged with its name and counted; it
never reaches the client, which has its response.

A Starlette :class:`~starlette.background.BackgroundTask` (or
``BackgroundTasks``) set as ``response.background`` runs the same way.

Called outside a request (a websocket handler, a serving hook, another
background task), the task starts at once, while the app is served.

At shutdown (see :mod:`flaskish.shutdown`) running tasks get
``BACKGROUND_TASK_SHUTDOWN_TIMEOUT`` seconds; ``async def`` tasks still
running then are cancelled (a ``def`` task cannot be interrupted: the
server waits for it, and says so in the log).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc
import anyio.lowlevel

from .concurrency import (
    call,
    current_loop,
    drive,
    is_async_callable,
    on_event_loop,
    run_in_loop_of,
)
from .globals import _cv_request

if TYPE_CHECKING:
    from .app import Flask
    from .ctx import RequestContext

__all__ = ["BackgroundTaskStats", "BackgroundTasks"]


@dataclass(frozen=True)
class BackgroundTaskStats:
    """A snapshot of an app's background tasks (``app.background_task_stats``).

    :param running: how many are running now.
    :param completed: how many finished without an error.
    :param failed: how many raised (each is logged).
    :param cancelled: how many were cancelled at shutdown.
    """

    running: int
    completed: int
    failed: int
    cancelled: int


@dataclass(frozen=True)
class _Job:
    func: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    @property
    def name(self) -> str:
        func = self.func
        while isinstance(func, functools.partial):
            func = func.func
        return str(getattr(func, "__qualname__", None) or repr(func))


class BackgroundTasks:
    """An app's background tasks: started, tracked, drained at shutdown.

    :param app: the app (a weak proxy: the app holds this).
    """

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._running: set[anyio.CancelScope] = set()
        self._completed = self._failed = self._cancelled = 0
        self._def_running = 0
        #: The serving task group and its loop, while the app is served.
        self._group: anyio.abc.TaskGroup | None = None
        self._loop: anyio.lowlevel.EventLoopToken | None = None

    def stats(self) -> BackgroundTaskStats:
        return BackgroundTaskStats(
            len(self._running), self._completed, self._failed, self._cancelled
        )

    def add(self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """``app.add_background_task``: after the response in a request,
        at once elsewhere."""
        if not callable(func):
            raise TypeError(
                f"add_background_task() takes a function and its arguments, not "
                f"{type(func).__name__}: write app.add_background_task(send_mail, "
                "address), not app.add_background_task(send_mail(address))."
            )
        job = _Job(func, args, kwargs)
        ctx = _cv_request.get(None)
        if ctx is not None and not ctx.request._is_websocket:
            if ctx._background is None:
                ctx._background = []
            ctx._background.append(job)
            return
        group, loop = self._group, self._loop
        if group is None or loop is None:
            raise RuntimeError(
                "app.add_background_task() outside a request starts the task at once, "
                "which needs the app to be served (its lifespan running: a server with "
                "lifespan on, or `with app.test_client():`). In a request, it runs "
                "after the response."
            )
        if on_event_loop() and current_loop() == loop:
            group.start_soon(self.run, job, name=job.name)
        else:
            run_in_loop_of(loop, self._start, group, job)

    async def _start(self, group: anyio.abc.TaskGroup, job: _Job) -> None:
        group.start_soon(self.run, job, name=job.name)

    def after_response(self, ctx: RequestContext, background: Any) -> None:
        """Run a Starlette ``BackgroundTask(s)`` set as
        ``response.background`` after *ctx*'s response."""
        if ctx._background is None:
            ctx._background = []
        ctx._background.extend(_starlette_jobs(background))

    async def run_all(self, jobs: list[_Job]) -> None:
        """Run a finished request's tasks, side by side (a slow one never
        holds up another)."""
        if len(jobs) == 1:
            await self.run(jobs[0])
            return
        async with anyio.create_task_group() as group:
            for job in jobs:
                group.start_soon(self.run, job, name=job.name)

    async def run(self, job: _Job) -> None:
        """Run one task in an app context of its own; log its error."""
        app = self._app
        kind = "async" if is_async_callable(job.func) else "def"
        with anyio.CancelScope() as scope:
            self._running.add(scope)
            if kind == "def":
                self._def_running += 1
            try:
                async with app.app_context():
                    await drive(_call(job), app.thread_pool)
            except Exception:
                self._failed += 1
                app.logger.exception("Background task %s failed", job.name)
            else:
                self._completed += 1
            finally:
                self._running.discard(scope)
                if kind == "def":
                    self._def_running -= 1
        if scope.cancelled_caught:
            self._cancelled += 1

    async def drain(self, timeout: float) -> None:
        """Wait up to *timeout* seconds for the running tasks, then cancel
        the ``async def`` ones still running."""
        deadline = time.monotonic() + timeout
        while self._running and time.monotonic() < deadline:
            await anyio.sleep(0.02)
        if not self._running:
            return
        for scope in list(self._running):
            scope.cancel()
        # Let the cancelled tasks unwind (their finally blocks run now).
        unwinding = time.monotonic() + 1
        while len(self._running) > self._def_running and time.monotonic() < unwinding:
            await anyio.sleep(0.01)
        if self._def_running:
            self._app.logger.warning(
                "%d def background task(s) still running after "
                "BACKGROUND_TASK_SHUTDOWN_TIMEOUT (%s s); a thread cannot be interrupted, "
                "so shutdown waits for them.",
                self._def_running,
                timeout,
            )


async def _call(job: _Job) -> Any:
    return await call(job.func, *job.args, **job.kwargs)


def _starlette_jobs(background: Any) -> list[_Job]:
    tasks = getattr(background, "tasks", None)
    if tasks is None:
        tasks = [background]
    jobs = []
    for task in tasks:
        func = getattr(task, "func", None)
        if func is None or not callable(func):
            raise TypeError(
                f"response.background must be a starlette.background.BackgroundTask "
                f"or BackgroundTasks, not {type(task).__name__}; for a plain "
                "function, call app.add_background_task(func, *args)."
            )
        jobs.append(_Job(func, tuple(task.args), dict(task.kwargs)))
    return jobs
