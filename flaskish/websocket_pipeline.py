"""The websocket half of :class:`~flaskish.Flask`: one connection, from
the router's match to teardown.

The order is Quart's: URL value preprocessors, ``before_websocket``
functions (app first, then blueprints), the handler, ``after_websocket``
functions, and ``teardown_websocket`` (then the app context's teardown)
whatever happened. HTTP ``before_request`` / ``after_request`` functions
do not run. The session is opened from the handshake's cookies and may be
read; a websocket cannot set cookies, so it is not saved.

Before the connection is accepted, a value from a ``before_websocket``
function or the handler, an ``abort(403)``, or an error's handler response
refuses it with that HTTP response (the ASGI websocket denial extension;
without it, a close with 1008). After it is accepted, an unhandled error
is logged, passed to the error handlers for their side effects, and
closes the connection with 1011. The client going away ends the handler
quietly (:class:`~flaskish.exceptions.WebSocketDisconnect` out of it is
not an error).

The pipeline coroutine is driven as an HTTP request's is (see
:mod:`flaskish.concurrency`): ``def`` hooks and a ``def`` handler run on
the connection's own worker thread, which the handler holds for the
connection's life, giving up its slot while it waits in ``receive()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import anyio

from .concurrency import await_, await_here, call, drive, is_async_callable
from .ctx import RequestContext
from .exceptions import HTTPException, InternalServerError, WebSocketDisconnect
from .globals import _cv_request
from .response import Response, error_response
from .routing import Rule
from .scaffold import Scaffold
from .websocket import Websocket

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable

    from starlette.types import Receive, Scope, Send

    from .concurrency import ThreadPool
    from .config import Config
    from .json.provider import JSONProvider

__all__ = ["WebsocketPipeline"]

_INTERNAL_ERROR = 1011


class WebsocketPipeline(Scaffold):
    """Serving websocket connections, for :class:`~flaskish.Flask`."""

    # Set by Flask.__init__; declared here for the type checker.
    config: Config
    thread_pool: ThreadPool
    _got_first_request: bool
    view_functions: dict[str, Callable[..., Any]]
    json: JSONProvider
    #: The class of :data:`flaskish.websocket` objects.
    websocket_class: type[Websocket] = Websocket

    if TYPE_CHECKING:

        @property
        def logger(self) -> logging.Logger: ...
        def log_exception(self, exc_info: Any) -> None: ...
        def should_ignore_error(self, error: BaseException | None) -> bool: ...
        def _find_error_handler(self, e: Exception, blueprints: list[str]) -> Any: ...
        def make_response(self, rv: Any) -> Any: ...
        async def _handle_user_exception(self, e: Exception) -> Any: ...
        @property
        def testing(self) -> bool: ...
        @property
        def debug(self) -> bool: ...

    async def _handle_websocket(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        rule: Rule | None,
        view_args: dict[str, Any] | None,
        routing_exception: HTTPException | None,
    ) -> None:
        """Serve one websocket connection: called by the router."""
        if not self._got_first_request:
            self._got_first_request = True  # registration is closed, as after a request
        websocket = self.websocket_class(
            scope, receive, send, self.config["WEBSOCKET_MAX_MESSAGE_SIZE"]
        )
        websocket._json = self.json
        if rule is not None and routing_exception is None:
            handler = self.view_functions.get(rule.endpoint)
            if handler is not None and not is_async_callable(handler):
                websocket._always_watch = True
        websocket.url_rule = rule
        websocket.view_args = view_args
        websocket.routing_exception = routing_exception
        ctx = RequestContext(cast(Any, self), scope, receive, send, request=websocket)
        ctx._push()
        error: Exception | None = None
        try:
            if websocket._own_task_group():
                async with anyio.create_task_group() as connection:
                    websocket._task_group = connection
                    try:
                        error = await self._drive_websocket(ctx)
                    finally:
                        websocket._task_group = None  # no watcher from now on
                        connection.cancel_scope.cancel()  # the watcher, if reading
            else:
                error = await self._drive_websocket(ctx)
            error = error or websocket._error  # the server's receive failed
            if error is not None:
                raise error
        finally:
            error = None  # its traceback holds this frame
            websocket._release()
            ctx._reset()

    async def _drive_websocket(self, ctx: RequestContext) -> Exception | None:
        """Run the connection's pipeline; its error is returned, for the
        caller to raise as it is, not in a task group's ExceptionGroup
        (``PROPAGATE_EXCEPTIONS``: the test sees the handler's error)."""
        try:
            await drive(self._run_websocket(ctx), self.thread_pool)
        except Exception as exc:
            return exc
        return None

    async def _run_websocket(self, ctx: RequestContext) -> None:
        websocket = cast(Websocket, ctx.request)
        failed = False  # an error ended the handler: close with 1011
        error: BaseException | None = None  # the unhandled one, for teardown (Flask's rule)
        propagate = False
        await ctx._enter()
        try:
            try:
                rv = await self._full_dispatch_websocket(websocket)
            except WebSocketDisconnect:
                rv = None  # the client went away: the handler's normal end
            except Exception as exc:
                failed = True
                rv, error, propagate = await self._handle_websocket_exception(exc)
            await self._finish_websocket(websocket, rv, failed)
            if propagate and error is not None:
                raise error  # PROPAGATE_EXCEPTIONS: the test sees it
        except BaseException as exc:
            error = exc
            raise
        finally:
            if error is not None and self.should_ignore_error(error):
                error = None
            await ctx._exit(error)
            error = None  # its traceback holds this frame

    async def _full_dispatch_websocket(self, websocket: Websocket) -> Any:
        if not self._check_origin(websocket):
            return error_response(Response, _Forbidden())
        rv = await self._preprocess_websocket(websocket)
        if rv is None:
            rv = await self._dispatch_websocket(websocket)
        for name in (*websocket.blueprints, None):
            for func in reversed(self.after_websocket_funcs.get(name, ())):
                rv = await call(func, rv)
        return rv

    async def _preprocess_websocket(self, websocket: Websocket) -> Any:
        names = (None, *reversed(websocket.blueprints))
        for name in names:
            for url_func in self.url_value_preprocessors.get(name, ()):
                await call(url_func, websocket.endpoint, websocket.view_args)
        for name in names:
            for before_func in self.before_websocket_funcs.get(name, ()):
                rv = await call(before_func)
                if rv is not None:
                    return rv
        return None

    async def _dispatch_websocket(self, websocket: Websocket) -> Any:
        if websocket.routing_exception is not None:
            raise websocket.routing_exception
        rule = cast(Rule, websocket.url_rule)
        handler = self.view_functions[rule.endpoint]
        args = websocket.view_args or {}
        if is_async_callable(handler):
            return await await_here(_cancellable, websocket, handler, args)
        return await call(handler, **args)

    async def _handle_websocket_exception(self, e: Exception) -> tuple[Any, Exception | None, bool]:
        """The response for an error (sent only before the connection is
        accepted: a denial; after, error handlers run for their side
        effects), the error if no handler handled it, and whether to re-raise
        it once the connection is closed (``PROPAGATE_EXCEPTIONS``, on when
        testing or in debug mode). An unhandled error is logged and given
        to the handler for 500, as in Flask's ``handle_exception``."""
        try:
            return await self._handle_user_exception(e), None, False
        except Exception as unhandled:
            propagate = self.config["PROPAGATE_EXCEPTIONS"]
            if propagate is None:
                propagate = self.testing or self.debug
            server_error: Any = InternalServerError(original_exception=unhandled)
            if propagate:
                return server_error, unhandled, True
            self.log_exception((type(unhandled), unhandled, unhandled.__traceback__))
            ctx = _cv_request.get(None)
            handler = self._find_error_handler(
                server_error, ctx.request.blueprints if ctx is not None else []
            )
            if handler is not None:
                server_error = await call(handler, server_error)
            return server_error, unhandled, False

    async def _do_teardown_websocket(self, exc: BaseException | None = None) -> None:
        """Call the ``teardown_websocket`` functions (blueprints', then the
        app's, each in reverse order)."""
        ctx = _cv_request.get(None)
        blueprints = ctx.request.blueprints if ctx is not None else []
        for name in (*blueprints, None):
            for func in reversed(self.teardown_websocket_funcs.get(name, ())):
                await call(func, exc)

    def _check_origin(self, websocket: Websocket) -> bool:
        """Whether the handshake's ``Origin`` is allowed: with
        ``WEBSOCKET_ALLOWED_ORIGINS = None`` (the default), the page's own
        origin (same host) or none (not a browser); else one of the listed
        origins (``"https://app.example.com"``), or any with ``"*"``."""
        origin = websocket.headers.get("Origin")
        allowed = self.config["WEBSOCKET_ALLOWED_ORIGINS"]
        if allowed is None:
            if origin is None:
                return True
            return urlsplit(origin).netloc.lower() == websocket.host.lower()
        if isinstance(allowed, str):
            raise TypeError(
                "WEBSOCKET_ALLOWED_ORIGINS must be a list of origins, e.g. "
                f"[{allowed!r}], not the string {allowed!r}."
            )
        return "*" in allowed or (
            origin is not None and origin.rstrip("/") in {entry.rstrip("/") for entry in allowed}
        )

    async def _finish_websocket(self, websocket: Websocket, rv: Any, failed: bool) -> None:
        """Refuse the connection with *rv* if it was never accepted; close it
        if it is still open."""
        if not websocket.accepted:
            if websocket.closed:
                return
            if rv is None:
                # Neither accepted nor refused: refused, as the client sees it.
                await await_(websocket._close, 1000, "")
                return
            if isinstance(rv, HTTPException):
                response = error_response(Response, rv)
            else:
                response = rv if isinstance(rv, Response) else self.make_response(rv)
            raw = response._encode_headers()
            body = cast(
                bytes,
                b"".join(response.response)
                if isinstance(response.response, list)
                else response.get_data(),
            )
            await await_(websocket._deny, response.status_code, raw, body)
            return
        if not websocket.closed:
            # On the loop (the coroutine may be on the connection's thread).
            await await_(websocket._close, _INTERNAL_ERROR if failed else 1000, "")


class _Forbidden(HTTPException):
    code = 403
    description = "This websocket's Origin is not allowed (WEBSOCKET_ALLOWED_ORIGINS)."


async def _cancellable(
    websocket: Websocket, handler: Callable[..., Any], args: dict[str, Any]
) -> Any:
    """Await an ``async def`` handler, cancelled if the client goes away.

    It runs in the connection's task (no task of its own: a task and its
    bookkeeping cost an idle connection about 4 KB), awaited by the driver
    itself where it can (:func:`~flaskish.concurrency.await_here`), else
    inside the pipeline; either way the whole handler is one ``async``
    step, on the loop from start to end, in one task, as its cancel scope
    needs."""
    with anyio.CancelScope() as scope:
        websocket._handler_scope = scope
        try:
            return await handler(**args)
        finally:
            websocket._handler_scope = None
    return None  # cancelled: the client went away


def current_websocket() -> Websocket:
    """The websocket of the current handler (:data:`flaskish.websocket`)."""
    ctx = _cv_request.get(None)
    request = ctx.request if ctx is not None else None
    if not isinstance(request, Websocket):
        raise RuntimeError(
            "Working outside of a websocket handler: `websocket` is the connection of an "
            "@app.websocket handler (or a hook running for one). In a view, use `request`."
        )
    return request
