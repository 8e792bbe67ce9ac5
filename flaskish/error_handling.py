"""Handling an error in the pipeline, as Flask does: the error handlers
(app and blueprints, by code and by class), trapping HTTP errors,
propagation to the test or the server, the 500 page, and debug mode's
traceback page. A mixin of :class:`~flaskish.pipeline.Pipeline`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from . import signals
from .concurrency import ThreadPoolTimeout, call
from .debug_page import failing_thread
from .debughelpers import _traceback_page, explain_thread_error
from .exceptions import BadRequest, BadRequestKeyError, HTTPException, InternalServerError
from .globals import _cv_request
from .routing import RoutingException
from .scaffold import Scaffold

if TYPE_CHECKING:
    from .config import Config
    from .ctx import RequestContext

__all__ = ["ErrorHandling"]

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class ErrorHandling(Scaffold):
    """The error-handling half of the pipeline."""

    config: Config
    _plain_overrides: frozenset[str]

    if TYPE_CHECKING:

        @property
        def debug(self) -> bool: ...
        @property
        def testing(self) -> bool: ...
        def log_exception(self, exc_info: ExcInfo | tuple[None, None, None]) -> None: ...
        def _method(self, name: str, *args: Any, **kwargs: Any) -> Awaitable[Any]: ...
        async def _finalize_request(self, rv: Any, from_error_handler: bool = False) -> Any: ...
        async def _send_response(self, ctx: RequestContext, response: Any) -> None: ...

    def trap_http_exception(self, e: Exception) -> bool:
        """Whether an HTTP error should propagate like any other exception
        instead of becoming its response (``TRAP_HTTP_EXCEPTIONS``,
        ``TRAP_BAD_REQUEST_ERRORS``)."""
        if self.config["TRAP_HTTP_EXCEPTIONS"]:
            return True
        trap_bad_request = self.config["TRAP_BAD_REQUEST_ERRORS"]
        if trap_bad_request is None and self.debug and isinstance(e, BadRequestKeyError):
            return True
        if trap_bad_request:
            return isinstance(e, BadRequest)
        return False

    async def _handle_http_exception(self, e: HTTPException) -> Any:
        """Call the error handler for an HTTP error, or return the error
        (it becomes its own response)."""
        if e.code is None or isinstance(e, RoutingException):
            return e
        request = _cv_request.get().request
        handler = self._find_error_handler(e, request.blueprints)
        if handler is None:
            return e
        return await call(handler, e)

    async def _handle_user_exception(self, e: Exception) -> Any:
        """Handle an exception from a hook or view with its error handler;
        re-raise it if there is none."""
        if isinstance(e, ThreadPoolTimeout):
            raise e  # shed: answered by the pipeline, no handler runs
        explain_thread_error(e)
        if isinstance(e, BadRequestKeyError) and (
            self.debug or self.config["TRAP_BAD_REQUEST_ERRORS"]
        ):
            e.show_exception = True
        if isinstance(e, HTTPException) and not self.trap_http_exception(e):
            return await (
                self._handle_http_exception(e)
                if not self._plain_overrides
                else self._method("handle_http_exception", e)
            )
        request = _cv_request.get().request
        handler = self._find_error_handler(e, request.blueprints)
        if handler is None:
            try:
                raise e
            finally:
                del e  # its traceback holds this frame (see _full_dispatch_request)
        return await call(handler, e)

    async def _handle_exception(self, e: Exception) -> Any:
        """Turn an unhandled exception into a 500 response (through the
        handler for 500 / ``InternalServerError`` if there is one).

        With ``PROPAGATE_EXCEPTIONS`` (``None``: on when testing or in debug
        mode, as in Flask) the exception is re-raised instead, so a test
        sees it; in debug mode the client gets the traceback page first
        (with ``PROPAGATE_EXCEPTIONS = False``, as the 500 page).
        """
        # The thread of the failing step, for the debug page: a def step's
        # error is thrown into the pipeline on that step's thread, and no
        # step has run since.
        thread = failing_thread() if self.debug else None
        await signals.send(signals.got_request_exception, self, exception=e)
        propagate = self.config["PROPAGATE_EXCEPTIONS"]
        if propagate is None:
            propagate = self.testing or self.debug
        if propagate:
            if self.debug:
                await self._send_traceback_page(e, thread)
            try:
                raise e
            finally:
                del e  # its traceback holds this frame (see _full_dispatch_request)
        self.log_exception((type(e), e, e.__traceback__))
        server_error: Any = InternalServerError(original_exception=e)
        request = _cv_request.get().request
        handler = self._find_error_handler(server_error, request.blueprints)
        if handler is not None:
            server_error = await call(handler, server_error)
        elif self.debug:
            server_error = _traceback_page(server_error, thread)
        return await (
            self._finalize_request(server_error, True)
            if not self._plain_overrides
            else self._method("finalize_request", server_error, True)
        )

    async def _send_traceback_page(self, e: Exception, thread: str | None = None) -> None:
        """In debug mode an unhandled error propagates, as in Flask, to the
        test (``client.get`` raises it) or to the server (which logs it).
        Werkzeug's debugger would show it in the browser; this sends the
        browser the traceback page first, when the request has not started
        its response."""
        ctx = _cv_request.get(None)
        if ctx is None or ctx.send is None or ctx._responded:
            return
        ctx._responded = True
        page = _traceback_page(InternalServerError(original_exception=e), thread)
        await self._send_response(ctx, page)

    def should_ignore_error(self, error: BaseException | None) -> bool:
        """Return ``True`` to hide *error* from teardown functions."""
        return False

    def _find_error_handler(self, e: Exception, blueprints: list[str]) -> Callable[..., Any] | None:
        exc_class, code = self._get_exc_class_and_code(type(e))
        names = (*blueprints, None)
        for c in (code, None) if code is not None else (None,):
            for name in names:
                handler_map = self.error_handler_spec.get(name, {}).get(c)
                if not handler_map:
                    continue
                for cls in exc_class.__mro__:
                    handler = handler_map.get(cls)
                    if handler is not None:
                        return handler
        return None
