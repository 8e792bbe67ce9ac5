"""Application and request contexts.

Pushing a context sets a :class:`contextvars.ContextVar`; the proxies in
:mod:`flaskish.globals` read it. Contexts work with ``with`` and
``async with``; leaving one runs the teardown functions, sync or async,
through :mod:`flaskish.concurrency`.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import sys
from collections.abc import Awaitable, Callable, Coroutine, Generator, Iterator
from contextvars import Token
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from . import signals
from .concurrency import drive, drive_blocking, is_async_callable
from .exceptions import HTTPException
from .globals import _cv_app, _cv_request

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

    from .app import Flask
    from .request import Request
    from .sessions import SessionMixin

__all__ = [
    "AppContext",
    "RequestContext",
    "after_this_request",
    "copy_current_request_context",
    "has_app_context",
    "has_request_context",
]

F = TypeVar("F", bound=Callable[..., Any])

_sentinel: Any = object()


class _AppCtxGlobals:
    """The ``g`` object: a plain namespace that lives as long as one app
    context (one request). ``g.user = ...``, ``g.get("user")``,
    ``g.pop("db", None)``, ``"user" in g``."""

    if TYPE_CHECKING:
        # Any attribute may be set on g: tell type checkers so.
        def __getattr__(self, name: str) -> Any: ...
        def __setattr__(self, name: str, value: Any) -> None: ...

    def get(self, name: str, default: Any = None) -> Any:
        """The attribute *name*, or *default*."""
        return self.__dict__.get(name, default)

    def pop(self, name: str, default: Any = _sentinel) -> Any:
        """Remove the attribute *name* and return it (*default* if absent;
        :class:`KeyError` if absent and no default)."""
        if default is _sentinel:
            return self.__dict__.pop(name)
        return self.__dict__.pop(name, default)

    def setdefault(self, name: str, default: Any = None) -> Any:
        """The attribute *name*, set to *default* first if absent."""
        return self.__dict__.setdefault(name, default)

    def __contains__(self, item: str) -> bool:
        return item in self.__dict__

    def __iter__(self) -> Iterator[str]:
        return iter(self.__dict__)

    def __repr__(self) -> str:
        ctx = _cv_app.get(None)
        if ctx is not None:
            return f"<flaskish.g of '{ctx.app.name}'>"
        return object.__repr__(self)


#: How a context is pushed or popped, written once for ``with`` and
#: ``async with``: a generator that sets and resets the context variables
#: itself, so in the caller's own context whichever driver runs it, and
#: yields the coroutines that call user code (signal receivers, teardown
#: functions) for the driver to run: :func:`_carry_out` (``drive_blocking``)
#: in sync code, :func:`_drive` (``drive``) in async code. A coroutine could
#: not do both: one driven by ``drive`` runs in a copy of the context from
#: its first ``def`` step on, where resetting the caller's variables fails.
_Plan = Generator[Coroutine[Any, Any, None], None, None]


# _carry_out and _drive walk a plan the same way, one blocking and one
# awaiting: the two drivers of the one implementation (kept apart on purpose).
def _carry_out(plan: _Plan) -> None:
    error: BaseException | None = None
    while True:
        try:
            step = plan.send(None) if error is None else plan.throw(error)
        except StopIteration:
            return
        finally:
            error = None  # its traceback holds this frame
        try:
            drive_blocking(step)
        except BaseException as exc:
            error = exc  # into the plan: its finally clauses run


async def _drive(plan: _Plan, app: Flask) -> None:
    error: BaseException | None = None
    while True:
        try:
            step = plan.send(None) if error is None else plan.throw(error)
        except StopIteration:
            return
        finally:
            error = None
        try:
            await drive(step, app.thread_pool)
        except BaseException as exc:
            error = exc


class _LazyGlobals:
    """``AppContext.g``, made on first use: a request that never touches
    ``g`` never builds one. A non-data descriptor: once made (or assigned),
    ``g`` is a plain instance attribute."""

    def __get__(self, ctx: AppContext | None, owner: type[AppContext]) -> Any:
        if ctx is None:
            return self
        # setdefault: two threads sharing the context (a copied request
        # context) that both make one end up with the same.
        return ctx.__dict__.setdefault("g", ctx.app.app_ctx_globals_class())


class _Context:
    """What both contexts share: ``with`` and ``async with`` push and pop
    through each one's plans (the one implementation, see :data:`_Plan`),
    carried out by :func:`_carry_out` or :func:`_drive`."""

    app: Flask

    if TYPE_CHECKING:

        def push(self) -> None: ...
        def pop(self, exc: BaseException | None = _sentinel) -> None: ...
        def _pushing(self) -> _Plan: ...
        def _popping(self, exc: BaseException | None) -> _Plan: ...

    def __enter__(self) -> Self:
        self.push()
        return self

    def __exit__(
        self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.pop(exc)

    async def __aenter__(self) -> Self:
        await _drive(self._pushing(), self.app)
        return self

    async def __aexit__(
        self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await _drive(self._popping(exc), self.app)


class AppContext(_Context):
    """Makes :data:`~flaskish.current_app` and :data:`~flaskish.g` available.

    A request pushes one for its duration. Push one yourself to use the app
    outside a request (a CLI command, a test)::

        with app.app_context():
            init_db()

    ``async with app.app_context():`` does the same in async code. Leaving
    the block runs the :meth:`~flaskish.Flask.teardown_appcontext` functions.
    """

    if TYPE_CHECKING:
        g: _AppCtxGlobals
    else:
        g = _LazyGlobals()

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._tokens: list[Token[AppContext]] = []

    def push(self) -> None:
        """Make this the current app context (sends ``appcontext_pushed``)."""
        _carry_out(self._pushing())

    def pop(self, exc: BaseException | None = _sentinel) -> None:
        """Run teardown functions (when this is the outermost push) and
        restore the previous context (sends ``appcontext_popped``)."""
        _carry_out(self._popping(sys.exc_info()[1] if exc is _sentinel else exc))

    # -- the one implementation (see _Plan) ------------------------------------

    def _pushing(self) -> _Plan:
        self._push()
        if signals.appcontext_pushed.receivers:
            yield signals.send(signals.appcontext_pushed, self.app)

    def _popping(self, exc: BaseException | None) -> _Plan:
        try:
            if len(self._tokens) == 1:
                yield self._teardown(exc)
        finally:
            self._reset()
            if signals.appcontext_popped.receivers:
                yield signals.send(signals.appcontext_popped, self.app)

    def _push(self) -> None:
        """Make this the current app context, without the signal (the
        request pipeline sends it; the test client keeping a finished
        request's context: it was pushed, and will not be popped, once)."""
        self._tokens.append(_cv_app.set(self))

    async def _teardown(self, exc: BaseException | None) -> None:
        app = self.app
        if app._plain_overrides:
            await app._method("do_teardown_appcontext", exc)
        elif app.teardown_appcontext_funcs or signals.appcontext_tearing_down.receivers:
            await app._do_teardown_appcontext(exc)

    def _reset(self) -> None:
        """Restore the previous app context, without teardown or signal."""
        ctx = _cv_app.get(None)
        if ctx is not self or not self._tokens:
            raise RuntimeError(f"Popped the wrong app context ({ctx!r} instead of {self!r}).")
        _cv_app.reset(self._tokens.pop())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} for {self.app.name!r}>"


class RequestContext(_Context):
    """Everything about one request: the :class:`~flaskish.Request`, the
    session (opened on first use) and the URL match.

    The app creates one per request. Tests make one with
    :meth:`~flaskish.Flask.test_request_context`; ``with`` and
    ``async with`` push it (and an app context, if needed).
    """

    def __init__(
        self,
        app: Flask,
        scope: Scope,
        receive: Receive | None = None,
        send: Send | None = None,
        request: Request | None = None,
        session: SessionMixin | None = None,
    ) -> None:
        self.app = app
        self.request: Request = (
            request if request is not None else app.request_class(scope, receive)
        )
        self.send = send
        self._session = session
        self._after_request_functions: list[Callable[..., Any]] = []
        self._tokens: list[tuple[Token[RequestContext], AppContext | None]] = []
        #: Set by the pipeline once the request has its response.
        self._responded = False
        #: Background tasks to run after the response (:mod:`flaskish.background`).
        self._background: list[Any] | None = None
        #: Dual-mode calls made without await so far (:mod:`flaskish.must_await`).
        self._must_await: list[Any] | None = None

    def _may_shed(self) -> bool:
        """Whether the request may still be answered 503 for want of a
        worker thread (``THREAD_POOL_TIMEOUT``): only before it has a
        response."""
        return not self._responded

    def match_request(self) -> None:
        """Match the request's URL: set ``request.url_rule`` and
        ``view_args``, or ``routing_exception`` (a 404, 405 or redirect)."""
        request = self.request
        try:
            adapter = self.app.create_url_adapter(request)
            rule, values = adapter.match(return_rule=True)  # type: ignore[union-attr]
        except HTTPException as exc:
            request.routing_exception = exc
        else:
            request.url_rule, request.view_args = rule, values

    @property
    def session(self) -> SessionMixin:
        """The session, opened by the app's session interface on first use:
        a request that never touches it never reads or verifies a cookie."""
        if self._session is None:
            interface = self.app.session_interface
            opened = interface.open_session(self.app, self.request)
            # (A dict, what sessions usually are, is never awaitable: the
            # isinstance spares it inspect.isawaitable's two ABC checks.)
            if not isinstance(opened, dict) and inspect.isawaitable(opened):
                if inspect.iscoroutine(opened):
                    opened.close()
                raise RuntimeError(
                    f"{type(interface).__name__}.open_session is async, and the session was "
                    "first used outside the request pipeline. Open it in the pipeline (it "
                    "is opened before the view when the interface is async)."
                )
            self._session = opened if opened is not None else interface.make_null_session(self.app)
        return self._session

    @session.setter
    def session(self, value: SessionMixin) -> None:
        self._session = value

    def copy(self) -> RequestContext:
        """A context for the same request and session, to push in another
        task or thread (see :func:`copy_current_request_context`)."""
        return type(self)(
            self.app,
            self.request.scope,
            send=self.send,
            request=self.request,
            session=self._session,
        )

    def push(self) -> None:
        """Make this the current request context, pushing an app context
        first (and sending ``appcontext_pushed``) unless one for this app
        is already current."""
        _carry_out(self._pushing())

    def pop(self, exc: BaseException | None = _sentinel) -> None:
        """Run the teardown functions (when this is the outermost push) and
        restore the previous contexts: the request context first, then the
        app context it pushed (with its own teardown), as Flask does."""
        _carry_out(self._popping(sys.exc_info()[1] if exc is _sentinel else exc))

    # -- the one implementation (see _Plan), in Flask's order -----------------

    def _pushing(self) -> _Plan:
        current = _cv_app.get(None)
        app_ctx = None
        if current is None or current.app is not self.app:
            app_ctx = self.app.app_context()
            yield from app_ctx._pushing()
        self._tokens.append((_cv_request.set(self), app_ctx))

    def _popping(self, exc: BaseException | None) -> _Plan:
        app_ctx = self._tokens[-1][1] if self._tokens else None
        try:
            if len(self._tokens) == 1:
                yield self._teardown_request(exc)
        finally:
            self._reset_request()
            if app_ctx is not None:
                yield from app_ctx._popping(exc)

    # -- the request pipeline's API --------------------------------------------
    #
    # The pipeline pushes both contexts at once, before it drives the
    # request's coroutine (in the task's own context, which the coroutine
    # leaves at its first def step), and resets both once it is done:
    # ``ctx._push()``, then in the coroutine ``await ctx._enter()`` ...
    # ``await ctx._exit(error)``, then ``ctx._reset()``. Receivers of the
    # app context's signals and teardown functions therefore still see the
    # request (docs/migrating.md), and its sync code keeps one thread.
    # ``_exit_step(error)`` is ``_exit(error)``, or ``None`` when leaving
    # calls nothing (no teardown function, receiver or override): the HTTP
    # pipeline then makes no coroutine for it.

    def _push(self) -> None:
        """Make this, and an app context unless one of this app is current,
        the current contexts, without signals."""
        current = _cv_app.get(None)
        app_ctx = None
        if current is None or current.app is not self.app:
            app_ctx = self.app.app_context()
            app_ctx._tokens.append(_cv_app.set(app_ctx))
        self._tokens.append((_cv_request.set(self), app_ctx))

    async def _enter(self) -> None:
        """Send ``appcontext_pushed`` if :meth:`_push` pushed an app context."""
        if signals.appcontext_pushed.receivers and self._tokens[-1][1] is not None:
            await signals.send(signals.appcontext_pushed, self.app)

    async def _exit(self, exc: BaseException | None) -> None:
        """The teardown of the request, then that of the app context pushed
        with it (both still current), and ``appcontext_popped``."""
        app_ctx = self._tokens[-1][1]
        try:
            await self._teardown_request(exc)
        finally:
            if app_ctx is not None:
                try:
                    if len(app_ctx._tokens) == 1:
                        await app_ctx._teardown(exc)
                finally:
                    if signals.appcontext_popped.receivers:
                        await signals.send(signals.appcontext_popped, self.app)

    def _exit_step(self, exc: BaseException | None) -> Awaitable[None] | None:
        """:meth:`_exit`; or ``None``, the body closed here, when it would
        call nothing: no teardown function, receiver or override (checked
        for both contexts, whether or not this one pushed the app's)."""
        app = self.app
        if (
            app._plain_overrides
            or app.teardown_request_funcs
            or app.teardown_appcontext_funcs
            or self.request._is_websocket
            or signals.request_tearing_down.receivers
            or signals.appcontext_tearing_down.receivers
            or signals.appcontext_popped.receivers
        ):
            return self._exit(exc)
        self.request._close_body()
        return None

    def _reset(self) -> None:
        """Restore the previous contexts, without teardown or signals."""
        ctx = _cv_request.get(None)
        tokens = self._tokens
        if ctx is not self or not tokens:
            raise RuntimeError(f"Popped the wrong request context ({ctx!r} instead of {self!r}).")
        token, app_ctx = tokens.pop()
        _cv_request.reset(token)
        if app_ctx is not None:
            # AppContext._reset, written out.
            app_tokens = app_ctx._tokens
            if _cv_app.get(None) is not app_ctx or not app_tokens:
                app_ctx._reset()  # raises the error
            _cv_app.reset(app_tokens.pop())

    # -- shared by both ----------------------------------------------------------

    async def _teardown_request(self, exc: BaseException | None) -> None:
        app = self.app
        try:
            if self.request._is_websocket:
                await app._do_teardown_websocket(exc)
            elif app._plain_overrides:
                await app._method("do_teardown_request", exc)
            elif app.teardown_request_funcs or signals.request_tearing_down.receivers:
                await app._do_teardown_request(exc)
        finally:
            # Closes the uploads; a websocket's own close() is its connection's.
            self.request._close_body()

    def _reset_request(self) -> AppContext | None:
        ctx = _cv_request.get(None)
        if ctx is not self or not self._tokens:
            raise RuntimeError(f"Popped the wrong request context ({ctx!r} instead of {self!r}).")
        token, app_ctx = self._tokens.pop()
        _cv_request.reset(token)
        return app_ctx

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} '{self.request.url}' [{self.request.method}] of "
            f"{self.app.name}>"
        )


def has_app_context() -> bool:
    """Whether an app context is pushed (``current_app`` is usable)."""
    return _cv_app.get(None) is not None


def has_request_context() -> bool:
    """Whether a request context is pushed (``request`` is usable)."""
    return _cv_request.get(None) is not None


def after_this_request(f: F) -> F:
    """Run *f* on the response of the current request, before the app's
    ``after_request`` functions::

        @app.route("/")
        def index():
            @after_this_request
            def add_header(response):
                response.headers["X-Foo"] = "Parachute"
                return response
            return "Hello"

    *f* may be ``def`` or ``async def`` and must return the response.
    """
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError(
            "after_this_request() can only be used while a request is being handled; "
            "call it from a view or a before_request function."
        )
    ctx._after_request_functions.append(f)
    return f


def copy_current_request_context(f: F) -> F:
    """Decorate *f* so that it runs with a copy of the current request
    context pushed, e.g. in a thread or task started by the view. Works for
    ``def`` and ``async def`` functions."""
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError(
            "copy_current_request_context() can only be used while a request is being "
            "handled; decorate the function inside the view."
        )
    copied = ctx.copy()
    app_ctx = _cv_app.get()

    def _enter() -> Token[AppContext]:
        return _cv_app.set(app_ctx)

    if is_async_callable(f):

        @functools.wraps(f)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            token = _enter()
            request_token = _cv_request.set(copied)
            try:
                return await f(*args, **kwargs)
            finally:
                _cv_request.reset(request_token)
                _cv_app.reset(token)

        return cast(F, async_wrapper)

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # A fresh Context: the copy is pushed only for this call, whatever
        # thread runs it.
        def run() -> Any:
            _enter()
            _cv_request.set(copied)
            return f(*args, **kwargs)

        return contextvars.Context().run(run)

    return cast(F, wrapper)
