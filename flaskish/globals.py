"""The context-bound globals: ``current_app``, ``g``, ``request``, ``session``.

Each is a proxy that looks up the current app or request context in a
:class:`contextvars.ContextVar`, so every asyncio task (and the worker thread
a request's sync code runs on) sees its own request.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from .app import Flask
    from .ctx import AppContext, RequestContext, _AppCtxGlobals
    from .request import Request
    from .sessions import SessionMixin
    from .websocket import Websocket

__all__ = [
    "app_ctx",
    "current_app",
    "g",
    "request",
    "request_ctx",
    "session",
    "websocket",
]

T = TypeVar("T")

_no_app_msg = """\
Working outside of application context.

This typically means that you attempted to use functionality that needed
the current application. To solve this, set up an application context
with `with app.app_context():` (or `async with app.app_context():` in async
code). See the documentation for more information.\
"""

_no_req_msg = """\
Working outside of request context.

This typically means that you attempted to use functionality that needed
an active HTTP request. In a test, make the request with `app.test_client()`
or set one up with `with app.test_request_context():`. See the documentation
on testing for more information.\
"""

_cv_app: ContextVar[AppContext] = ContextVar("flaskish.app_ctx")
_cv_request: ContextVar[RequestContext] = ContextVar("flaskish.request_ctx")


class ContextProxy(Generic[T]):
    """Stands for the object found in the current context, forwarding
    attribute access, item access, iteration and comparison to it.

    ``proxy._get_current_object()`` returns the object itself, e.g. to pass
    it to code that must not see the proxy, or to another thread.
    """

    __slots__ = ("__wrapped_getter",)

    def __init__(self, var: ContextVar[Any], attr: str | None, message: str) -> None:
        # The getter is called straight from every forwarding method below
        # (not through _get_current_object): a proxy access is one call.
        if attr is None:

            def get() -> Any:
                try:
                    return var.get()
                except LookupError:
                    raise RuntimeError(message) from None

        else:

            def get() -> Any:
                try:
                    obj = var.get()
                except LookupError:
                    raise RuntimeError(message) from None
                return getattr(obj, attr)

        object.__setattr__(self, "_ContextProxy__wrapped_getter", get)

    def _get_current_object(self) -> T:
        """The proxied object itself."""
        return self.__wrapped_getter()  # type: ignore[no-any-return]

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        try:
            return type(self.__wrapped_getter())
        except RuntimeError:
            return ContextProxy

    def __getattr__(self, name: str) -> Any:
        if name == "__wrapped__":
            # inspect.unwrap (doctest collection) probes with hasattr():
            # outside a context that must be an AttributeError, not an error
            # about the context, as with Werkzeug's proxies.
            try:
                obj = self.__wrapped_getter()
            except RuntimeError:
                raise AttributeError(name) from None
            return getattr(obj, name)
        return getattr(self.__wrapped_getter(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.__wrapped_getter(), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(self.__wrapped_getter(), name)

    def __getitem__(self, key: Any) -> Any:
        return self.__wrapped_getter()[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        self.__wrapped_getter()[key] = value

    def __delitem__(self, key: Any) -> None:
        del self.__wrapped_getter()[key]

    def __contains__(self, item: Any) -> bool:
        return item in self.__wrapped_getter()

    def __iter__(self) -> Iterator[Any]:
        return iter(self.__wrapped_getter())

    def __len__(self) -> int:
        return len(self.__wrapped_getter())

    def __bool__(self) -> bool:
        try:
            return bool(self.__wrapped_getter())
        except RuntimeError:
            return False

    def __eq__(self, other: object) -> bool:
        return self.__wrapped_getter() == other  # type: ignore[no-any-return]

    def __ne__(self, other: object) -> bool:
        return self.__wrapped_getter() != other  # type: ignore[no-any-return]

    def __hash__(self) -> int:
        return hash(self.__wrapped_getter())

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.__wrapped_getter()(*args, **kwargs)

    def __repr__(self) -> str:
        # As Werkzeug's LocalProxy: the object's repr, and never an error.
        # Once installed as flask, the names read as Flask's do.
        try:
            text = repr(self.__wrapped_getter())
        except RuntimeError:
            name = "LocalProxy" if _installed_as_flask() else type(self).__name__
            return f"<{name} unbound>"
        if text.startswith("<flaskish.") and _installed_as_flask():
            text = "<flask." + text[len("<flaskish.") :]  # <flask.g of 'app'>
        return text

    def __str__(self) -> str:
        return str(self.__wrapped_getter())

    def __dir__(self) -> list[str]:
        try:
            return dir(self.__wrapped_getter())
        except RuntimeError:
            return []


#: ``as_flask``'s import finder, handed down by ``as_flask`` when it is
#: imported (it sits above this module): while the finder is on
#: ``sys.meta_path``, flaskish is installed as ``flask``.
_flask_finder: object | None = None


def _installed_as_flask() -> bool:
    return _flask_finder is not None and _flask_finder in sys.meta_path


def _proxy(var: ContextVar[Any], attr: str | None, message: str) -> Any:
    return ContextProxy(var, attr, message)


_no_websocket_msg = """\
Working outside of a websocket handler.

`websocket` is the connection an @app.websocket handler (or a hook running
for one) serves. In a view, use `request`; in a test, connect with
`client.websocket("/path")`.\
"""


class _WebsocketProxy(ContextProxy[Any]):
    """:data:`websocket`: the request context's request, if it is a
    websocket connection."""

    __slots__ = ()

    def __init__(self) -> None:
        def get() -> Any:
            ctx = _cv_request.get(None)
            request = ctx.request if ctx is not None else None
            if not getattr(request, "_is_websocket", False):
                raise RuntimeError(_no_websocket_msg)
            return request

        object.__setattr__(self, "_ContextProxy__wrapped_getter", get)


#: The application handling the current request, or of the pushed app context.
current_app: Flask = _proxy(_cv_app, "app", _no_app_msg)
#: A namespace for data during one app context (one request): ``g.user = ...``.
g: _AppCtxGlobals = _proxy(_cv_app, "g", _no_app_msg)
#: The current :class:`~flaskish.request.Request`.
request: Request = _proxy(_cv_request, "request", _no_req_msg)
#: The current session (a signed cookie by default), loaded on first use.
session: SessionMixin = _proxy(_cv_request, "session", _no_req_msg)
#: The current :class:`~flaskish.websocket.Websocket`, in a websocket handler.
websocket: Websocket = _WebsocketProxy()  # type: ignore[assignment]
#: The current :class:`~flaskish.ctx.AppContext`.
app_ctx: AppContext = _proxy(_cv_app, None, _no_app_msg)
#: The current :class:`~flaskish.ctx.RequestContext`.
request_ctx: RequestContext = _proxy(_cv_request, None, _no_req_msg)
