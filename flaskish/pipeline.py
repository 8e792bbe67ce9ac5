"""The request pipeline, written once.

::

    ASGI http scope -> Router (match) -> request context pushed
      -> url_value_preprocessors -> before_request -> view -> make_response
      -> after_request -> session save -> (errors -> error handlers)
      -> response sent -> teardown_request / teardown_appcontext -> popped

Every user callable is called with ``await call(func, ...)``: the driver in
:mod:`flaskish.concurrency` awaits ``async def`` callables on the event loop
and runs ``def`` ones on the request's single worker thread. Flask's methods
(``full_dispatch_request``, ``handle_exception``...) are plain methods, as
in Flask, over private coroutines (``_full_dispatch_request``...); the
pipeline calls an app's override of one (``def`` or ``async def``) in place
of its coroutine.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import CoroutineType, TracebackType
from typing import TYPE_CHECKING, Any, cast

from starlette.responses import Response as StarletteResponse
from werkzeug.sansio.response import Response as SansIOResponse

from . import signals
from .concurrency import (
    ThreadPoolTimeout,
    await_,
    call,
    call_each,
    drive,
    in_worker_thread,
    is_async_callable,
    run_in_loop,
    run_pipeline,
)
from .ctx import RequestContext
from .error_handling import ErrorHandling
from .exceptions import HTTPException
from .globals import _cv_app, _cv_request
from .must_await import MustAwait, raise_unawaited
from .prefetch import BODYLESS_METHODS
from .response import Response, error_response
from .response_sending import UnsendableHeader, _Buffered
from .routing import RequestRedirect

if TYPE_CHECKING:
    import logging

    from starlette.types import Receive, Scope, Send

    from .background import BackgroundTasks
    from .concurrency import ThreadPool
    from .config import Config
    from .json.provider import JSONProvider
    from .prefetch import BodyPrefetch
    from .request import Request
    from .routing import Map, MapAdapter, Rule
    from .sessions import SessionInterface
    from .shutdown import ShutdownEvent

__all__ = ["PLAIN_METHODS", "Pipeline"]

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class Pipeline(ErrorHandling):
    """The request-handling half of :class:`~flaskish.Flask`."""

    # Set by Flask.__init__; declared here for the type checker.
    config: Config
    url_map: Map
    thread_pool: ThreadPool
    body_prefetch: BodyPrefetch
    shutdown_event: ShutdownEvent
    _background: BackgroundTasks
    session_interface: SessionInterface
    response_class: type[Response]
    json: JSONProvider
    teardown_appcontext_funcs: list[Callable[..., Any]]
    _got_first_request: bool

    if TYPE_CHECKING:

        @property
        def logger(self) -> logging.Logger: ...
        @property
        def debug(self) -> bool: ...
        @property
        def testing(self) -> bool: ...
        def log_exception(self, exc_info: ExcInfo | tuple[None, None, None]) -> None: ...
        def request_context(
            self, scope: Scope, receive: Receive | None = None, send: Send | None = None
        ) -> RequestContext: ...
        def create_url_adapter(self, request: Request | None) -> MapAdapter | None: ...
        def _request_domain(self, request: Request) -> str: ...

    # -- Flask's plain methods, overridable with def or async def ------------

    #: Which of :data:`PLAIN_METHODS` this app overrides: in a subclass, or
    #: by assigning to the instance (Flask-Cors wraps ``app.handle_exception``
    #: so). Kept up to date by ``__setattr__`` / ``__delattr__``; the
    #: pipeline reads it before each step and, while it is empty (nearly
    #: always), calls its own coroutines directly.
    _plain_overrides: frozenset[str] = frozenset()
    #: Whether this app has a ``make_response`` of its own (a subclass's, or
    #: one assigned to the instance): then every view's value goes through
    #: it, never straight to ASGI messages (see :meth:`_full_dispatch_request`).
    _own_make_response = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._plain_overrides = frozenset(
            name for name in PLAIN_METHODS if getattr(cls, name) is not _BASE[name]
        )
        cls._own_make_response = cls.make_response is not Pipeline.make_response

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name in PLAIN_METHODS:
            self._find_plain_overrides()
        elif name == "make_response":
            object.__setattr__(self, "_own_make_response", True)

    def __delattr__(self, name: str) -> None:
        object.__delattr__(self, name)
        if name in PLAIN_METHODS:
            self._find_plain_overrides()
        elif name == "make_response":
            object.__setattr__(self, "_own_make_response", type(self)._own_make_response)

    #: The session interface last seen to open sessions with a plain
    #: ``def``: checked once, not on every request.
    _sync_session_interface: Any = None

    def _opens_async(self, interface: SessionInterface) -> bool:
        if is_async_callable(interface.open_session):
            return True
        object.__setattr__(self, "_sync_session_interface", interface)
        return False

    def _find_plain_overrides(self) -> None:
        overrides = type(self)._plain_overrides | {
            name for name in PLAIN_METHODS if name in self.__dict__
        }
        object.__setattr__(self, "_plain_overrides", frozenset(overrides))

    def _method(self, name: str, *args: Any, **kwargs: Any) -> Awaitable[Any]:
        """Call Flask's method *name* for the pipeline when the app has some
        override: the override through the driver if *name* is one (a
        ``def`` one runs on the request's worker thread, an ``async def``
        one on the loop), else the pipeline's own coroutine."""
        if name in self._plain_overrides:
            return call(getattr(self, name), *args, **kwargs)
        return getattr(self, "_" + name)(*args, **kwargs)  # type: ignore[no-any-return]

    def full_dispatch_request(self) -> Any:
        """Run ``request_started``, the URL value preprocessors and
        ``before_request`` hooks, the view, and the error handlers, and
        finalize the response; return the response (as Flask's method).

        Like every method of this group it is a plain method a ``def``
        override or wrapper calls and gets a value from; an ``async def``
        override writes ``await super().full_dispatch_request()``.
        """
        return run_pipeline(self._full_dispatch_request(), self.thread_pool)

    def preprocess_request(self) -> Any:
        """Call the URL value preprocessors, then the ``before_request``
        functions (app first, then blueprints); return the first
        non-``None`` value one returns (it ends the request), else ``None``."""
        return run_pipeline(self._preprocess_request(), self.thread_pool)

    def dispatch_request(self) -> Any:
        """Call the matched view (or raise the routing error); return what
        the view returned."""
        return run_pipeline(self._dispatch_request(), self.thread_pool)

    def finalize_request(self, rv: Any, from_error_handler: bool = False) -> Any:
        """Make a response of a view's return value and post-process it
        (``after_request``, session save, ``request_finished``).

        :param from_error_handler: an error while post-processing is logged
            instead of raised.
        """
        return run_pipeline(self._finalize_request(rv, from_error_handler), self.thread_pool)

    def process_response(self, response: Response) -> Any:
        """Run the ``after_this_request`` and ``after_request`` functions
        and save the session; return the response they gave."""
        return run_pipeline(self._process_response(response), self.thread_pool)

    def handle_http_exception(self, e: HTTPException) -> Any:
        """Return what the error handler for this HTTP error returns, or the
        error itself (it becomes its own response)."""
        return run_pipeline(self._handle_http_exception(e), self.thread_pool)

    def handle_user_exception(self, e: Exception) -> Any:
        """Return what the error handler for an exception from a hook or
        view returns; re-raise it if there is none."""
        return run_pipeline(self._handle_user_exception(e), self.thread_pool)

    def handle_exception(self, e: Exception) -> Any:
        """Turn an unhandled exception into a 500 response (through the
        handler for 500 / ``InternalServerError`` if there is one), and
        return it. With ``PROPAGATE_EXCEPTIONS`` (on when testing or in
        debug mode) the exception is re-raised instead: ``client.get``
        raises it; in debug mode the client is first sent a page with the
        traceback, which it never sees otherwise."""
        return run_pipeline(self._handle_exception(e), self.thread_pool)

    def do_teardown_request(self, exc: BaseException | None = None) -> Any:
        """Call the ``teardown_request`` functions (reverse order) and send
        ``request_tearing_down``."""
        return run_pipeline(self._do_teardown_request(exc), self.thread_pool)

    def do_teardown_appcontext(self, exc: BaseException | None = None) -> Any:
        """Call the ``teardown_appcontext`` functions (reverse order) and
        send ``appcontext_tearing_down``."""
        return run_pipeline(self._do_teardown_appcontext(exc), self.thread_pool)

    # -- the request ------------------------------------------------------------

    # The router's callback signature, shared with websocket_pipeline's
    # _handle_websocket (the router calls one or the other).
    async def _handle_http(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        rule: Rule | None,
        view_args: dict[str, Any] | None,
        routing_exception: HTTPException | None,
    ) -> None:
        """Handle one HTTP request: called by the router after matching."""
        if not self._got_first_request:
            self._got_first_request = True
        ctx = RequestContext(self, scope, receive, send)  # type: ignore[arg-type]
        request = ctx.request
        request.url_rule = rule
        request.view_args = view_args
        request.routing_exception = routing_exception
        ctx._push()
        try:
            ready = await drive(self._run_request(ctx), self.thread_pool, ctx._may_shed)
            if ready is not None:
                await send(ready.start)
                await send(ready.body)
        finally:
            ctx._reset()
        if ctx._background is not None:
            # After the response and teardown, in this task (a server waits
            # for it at shutdown), each in an app context of its own.
            await self._background.run_all(ctx._background)

    async def _run_request(self, ctx: RequestContext) -> _Buffered | None:
        """The pipeline for one request. A buffered response reached on the
        request's thread is returned instead of sent: the caller sends it
        from the event loop once teardown has run, so a ``def`` request
        costs one hand-off each way. Reached on the loop, it is sent at once,
        before teardown (which may wait for a thread): a ``def`` teardown
        function never delays an ``async def`` view's answer. A streamed
        response is sent here, before teardown, so a sync generator is
        iterated on the request's worker thread."""
        error: BaseException | None = None
        ready: _Buffered | None = None
        request = ctx.request
        if signals.appcontext_pushed.receivers:  # else no coroutine to make
            await ctx._enter()
        try:
            try:
                if request.method not in BODYLESS_METHODS:
                    declared = self.body_prefetch.length(request)
                    if declared is not None:
                        # On the loop, before the first def step: the view then
                        # finds the body in memory (no second hand-off). Awaited
                        # directly: no user code runs.
                        await request._prefetch(declared)
                interface = self.session_interface
                if (
                    ctx._session is None
                    and interface is not self._sync_session_interface
                    and self._opens_async(interface)
                ):
                    # An async session store cannot open lazily from a sync
                    # attribute access, so it opens before the view.
                    opened = await call(self.session_interface.open_session, self, request)
                    if opened is None:
                        opened = self.session_interface.make_null_session(ctx.app)
                    ctx._session = opened
                response = await (
                    self._full_dispatch_request(True)  # sendable: see there
                    if not self._plain_overrides
                    else self._method("full_dispatch_request")
                )
            except ThreadPoolTimeout as exc:
                # Shed: no thread for its first sync step. The 503 goes out
                # now, without the app's hooks (they would need a thread).
                response = error_response(self.response_class, exc)
            except Exception as exc:
                error = exc
                response = await (
                    self._handle_exception(exc)
                    if not self._plain_overrides
                    else self._method("handle_exception", exc)
                )
            ctx._responded = True  # from now on the request is never shed
            if type(response) is _Buffered:
                buffered: _Buffered | None = response  # a view's str (see _full_dispatch_request)
            else:
                buffered = None
                raw: list[tuple[bytes, bytes]] | None = None
                if isinstance(response, Response):
                    if response.background is not None:
                        self._background.after_response(ctx, response.background)
                    try:
                        raw = response._encode_headers()
                    except UnsendableHeader as exc:
                        error = exc
                        response = await self._handle_exception(exc)  # its headers encoded below
                if isinstance(response, Response) and response._sendable_later:
                    buffered = response._buffered_messages(request.scope, raw)
                else:
                    await self._send_response(ctx, response)
            if buffered is not None:
                if in_worker_thread():
                    # On the request's thread: sent from the loop once
                    # teardown has run (one hand-off each way per request).
                    ready = buffered
                else:
                    # On the loop: sent now, before teardown, which may have
                    # to wait for a thread. Awaited directly (no user code
                    # runs, so no step for the driver).
                    send = ctx.send
                    await send(buffered.start)  # type: ignore[misc]
                    await send(buffered.body)  # type: ignore[misc]
        except BaseException as exc:
            error = exc
            raise
        finally:
            preserve = request.scope.get("flaskish.preserve_context")
            if preserve is not None and (app_ctx := _cv_app.get(None)) is not None:
                preserve(app_ctx, ctx)
            if error is not None and self.should_ignore_error(error):
                error = None
            exiting = ctx._exit_step(error)  # None: nothing to call, the body is closed
            error = None  # its traceback holds this frame (see _full_dispatch_request)
            if exiting is not None:
                await exiting
        return ready

    async def _send_response(self, ctx: RequestContext, response: Any) -> None:
        scope = ctx.request.scope
        if isinstance(response, Response):
            gone = self.shutdown_event._stream_gone(ctx.request._poll_disconnect)
            await response._send(scope, ctx.send, gone)  # type: ignore[arg-type]
        else:
            await await_(response, scope, ctx.request._receive, ctx.send)

    async def _full_dispatch_request(self, sendable: bool = False) -> Any:
        """Run the hooks and the view, handle HTTP errors, and finalize the
        response.

        :param sendable: the caller sends what this returns (the pipeline,
            not ``full_dispatch_request()``): a view's ``str`` that nothing
            else sees (no ``after_request`` function or receiver, no session,
            the app's own ``make_response`` and ``Response``) may come back
            as the ASGI messages that send it, no response object made.
        """
        ctx = _cv_request.get()
        try:
            if self.config["TRUSTED_HOSTS"]:
                ctx.request.host  # noqa: B018 - an untrusted host is a 400
            if signals.request_started.receivers:
                await signals.send(signals.request_started, self)
            if self._plain_overrides:
                rv = await self._method("preprocess_request")
            elif self.url_value_preprocessors or self.before_request_funcs:
                rv = await self._preprocess_request()
            else:
                rv = None  # no hooks: no coroutine to make
            if rv is None:
                rv = await (
                    self._view_step(ctx.request)
                    if not self._plain_overrides
                    else self._method("dispatch_request")
                )
                kind = type(rv)
                if kind is MustAwait or kind is CoroutineType:  # (no subclass of coroutine)
                    # An async view returned send_file(...) without await.
                    rv = await await_(_await_value, rv)
            unawaited = ctx._must_await
            if unawaited is not None:
                raise_unawaited(unawaited)  # f.save(path) without await: a 500 that says so
        except Exception as exc:
            rv = await (
                self._handle_user_exception(exc)
                if not self._plain_overrides
                else self._method("handle_user_exception", exc)
            )
        try:
            if self._plain_overrides:
                return await self._method("finalize_request", rv)
            if (
                ctx._after_request_functions
                or self.after_request_funcs
                or ctx._session is not None  # (see _finalize_request)
                or signals.request_finished.receivers
            ):
                return await self._finalize_request(rv)
            # Nothing to run on the response: _finalize_request without a
            # coroutine (an error making it is raised the same way).
            if (
                sendable
                and type(rv) is str
                and self.response_class is Response
                and not self._own_make_response
            ):
                buffered = Response._text_messages(rv, ctx.request.method == "HEAD")
                if buffered is not None:
                    return buffered
            return self.make_response(rv)
        finally:
            # For an HTTP error rv is the error, whose traceback holds this
            # frame: left here, it would keep both, and the request and body
            # the frames below hold, in a cycle until the garbage collector.
            del rv

    async def _preprocess_request(self) -> Any:
        """Call the URL value preprocessors, then the ``before_request``
        functions (app first, then blueprints). A non-``None`` return value
        ends the request with that value."""
        if not (self.url_value_preprocessors or self.before_request_funcs):
            return None
        request = _cv_request.get().request
        names = (None, *reversed(request.blueprints))
        for name in names:
            for url_func in self.url_value_preprocessors.get(name, ()):
                await call(url_func, request.endpoint, request.view_args)
        for name in names:
            for before_func in self.before_request_funcs.get(name, ()):
                rv = await call(before_func)
                if rv is not None:
                    return rv
        return None

    async def _dispatch_request(self) -> Any:
        """Call the matched view (or raise the routing error)."""
        return await self._view_step(_cv_request.get().request)

    def _view_step(self, request: Request) -> Awaitable[Any]:
        """The call of the matched view, to await (or raise the routing
        error): :meth:`_dispatch_request` without a coroutine of its own."""
        if request.routing_exception is not None:
            raise request.routing_exception
        rule: Rule = request.url_rule  # type: ignore[assignment]
        if rule.redirect_to is not None:
            # Werkzeug's redirect_to: the rule redirects instead of a view.
            adapter = cast("MapAdapter", self.create_url_adapter(request))
            raise RequestRedirect(adapter.redirect_to_url(rule, request.view_args or {}))
        if request.method == "OPTIONS" and rule.provide_automatic_options:
            return _value(self.make_default_options_response())
        view_args = request.view_args
        if view_args:
            return call(self.view_functions[rule.endpoint], **view_args)
        return call(self.view_functions[rule.endpoint])

    def make_default_options_response(self) -> Response:
        """The automatic ``OPTIONS`` response: empty, with ``Allow``."""
        request = _cv_request.get().request
        response = self.response_class()
        allowed = self.url_map.allowed_methods(request.path, self._request_domain(request))
        response.headers["Allow"] = ", ".join(sorted(allowed))
        return response

    # -- responses ------------------------------------------------------------

    async def _finalize_request(self, rv: Any, from_error_handler: bool = False) -> Any:
        """Make a response of a view's return value and post-process it."""
        response = self.make_response(rv)
        try:
            if self._plain_overrides:
                response = await self._method("process_response", response)
            elif (
                (ctx := _cv_request.get())._after_request_functions
                or self.after_request_funcs
                or ctx._session is not None  # it may have to be saved
            ):
                response = await self._process_response(response)
            if signals.request_finished.receivers:
                await signals.send(signals.request_finished, self, response=response)
        except Exception:
            if not from_error_handler:
                raise
            self.logger.exception("Request finalizing failed with an error while handling an error")
        return response

    async def _process_response(self, response: Response) -> Response:
        """Run ``after_this_request`` and ``after_request`` functions (the
        blueprint's, then the app's, each in reverse order of registration),
        then save the session if it was used."""
        ctx = _cv_request.get()
        if ctx._after_request_functions:
            response = await call_each(ctx._after_request_functions, response)
        hooks = self.after_request_funcs
        if hooks:
            if len(hooks) == 1 and None in hooks:
                # The app's own functions only: the blueprints do not matter.
                response = await call_each(reversed(hooks[None]), response)
            else:
                for name in (*ctx.request.blueprints, None):
                    if name in hooks:
                        response = await call_each(reversed(hooks[name]), response)
        session = ctx._session
        if session is not None and not self.session_interface.is_null_session(session):
            await call(self.session_interface.save_session, self, session, response)
        return response

    async def _do_teardown_request(self, exc: BaseException | None = None) -> None:
        """Call the ``teardown_request`` functions (reverse order)."""
        if not (self.teardown_request_funcs or signals.request_tearing_down.receivers):
            return
        ctx = _cv_request.get(None)
        blueprints = ctx.request.blueprints if ctx is not None else []
        for name in (*blueprints, None):
            for func in reversed(self.teardown_request_funcs.get(name, ())):
                await call(func, exc)
        if signals.request_tearing_down.receivers:
            await signals.send(signals.request_tearing_down, self, exc=exc)

    async def _do_teardown_appcontext(self, exc: BaseException | None = None) -> None:
        """Call the ``teardown_appcontext`` functions (reverse order)."""
        for func in reversed(self.teardown_appcontext_funcs):
            await call(func, exc)
        if signals.appcontext_tearing_down.receivers:
            await signals.send(signals.appcontext_tearing_down, self, exc=exc)

    def make_response(self, rv: Any) -> Any:
        """Convert a view's return value into a response.

        Accepted: ``str`` / ``bytes`` (the body), ``dict`` / ``list``
        (JSON), a generator or (async) iterator of ``str`` / ``bytes``
        (streamed), a response object (flaskish or Starlette), an
        :class:`~flaskish.exceptions.HTTPException`, or a tuple
        ``(body, status)``, ``(body, headers)``, ``(body, status, headers)``.
        """
        # What most views return first: the general case below, without its tests.
        kind = type(rv)
        if kind is str or kind is bytes:
            cls = self.response_class
            if cls.__init__ is not _response_init:
                return cls(rv, status=None, headers=None)  # as Flask calls it
            return cls._of_text(rv) if kind is str else cls(rv)
        if kind is dict or kind is list:
            return self.json.response(rv)
        status = headers = None
        if isinstance(rv, tuple):
            if len(rv) == 3:
                rv, status, headers = rv
            elif len(rv) == 2:
                if isinstance(rv[1], (dict, tuple, list)) or hasattr(rv[1], "raw"):
                    rv, headers = rv
                else:
                    rv, status = rv
            else:
                raise TypeError(
                    "The view function did not return a valid response tuple. The tuple must "
                    "have the form (body, status, headers), (body, status), or (body, headers)."
                )
        if rv is None:
            endpoint = _cv_request.get().request.endpoint if _cv_request.get(None) else None
            raise TypeError(
                f"The view function for {endpoint!r} did not return a valid response. The "
                "function either returned None or ended without a return statement."
            )
        if not isinstance(rv, (self.response_class, StarletteResponse)):
            if isinstance(rv, (str, bytes, bytearray, Iterator, AsyncIterator)):
                rv = self.response_class(rv, status=status, headers=headers)
                status = headers = None
            elif isinstance(rv, (dict, list)):
                rv = self.json.response(rv)
            elif isinstance(rv, HTTPException):
                rv = error_response(self.response_class, rv)
            elif isinstance(rv, SansIOResponse):
                # (A flaskish response of its own kind, an EventStream, becomes
                # one of both classes: it still streams as its own.)
                rv = self.response_class.force_type(rv)
            else:
                raise TypeError(
                    "The view function did not return a valid response. The return type must "
                    "be a string, dict, list, tuple with headers or status, Response instance, "
                    f"or a generator, but it was a {type(rv).__name__}."
                )
        if status is not None:
            if isinstance(rv, Response) and isinstance(status, (str, bytes, bytearray)):
                rv.status = status if isinstance(status, str) else status.decode()
            else:
                rv.status_code = int(status)
        if headers:
            if isinstance(rv, Response):
                rv.headers.update(headers)
            else:
                for key, value in headers.items() if hasattr(headers, "items") else headers:
                    rv.headers[key] = str(value)
        return rv

    # -- Flask compatibility --------------------------------------------------

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """A function callable from sync code: *func* itself if it is a
        ``def``; for an ``async def``, a wrapper that runs it on the event
        loop and waits (from a ``def`` view's worker thread). Extensions
        such as Flask-Login call this to support async views."""
        if is_async_callable(func):
            return self.async_to_sync(func)
        return func

    def async_to_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap an ``async def`` function to be called from sync code on a
        worker thread (or outside any event loop)."""

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return run_in_loop(func, *args, **kwargs)

        return wrapper


#: Flask's methods that extensions override or wrap with plain functions;
#: the pipeline calls an override in place of its own coroutine.
PLAIN_METHODS = frozenset(
    {
        "full_dispatch_request",
        "preprocess_request",
        "dispatch_request",
        "finalize_request",
        "process_response",
        "handle_http_exception",
        "handle_user_exception",
        "handle_exception",
        "do_teardown_request",
        "do_teardown_appcontext",
    }
)
_BASE = {name: getattr(Pipeline, name) for name in PLAIN_METHODS}
_response_init = Response.__init__


async def _await_value(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


async def _value(value: Any) -> Any:
    return value
