"""Flask-Sock's API on flaskish's websockets: a Flask-Sock app migrates by
changing ``from flask_sock import Sock`` to ``from flaskish.sock import
Sock``::

    sock = Sock(app)

    @sock.route("/echo")
    def echo(ws):
        while True:
            ws.send(ws.receive())

The handler gets a :class:`WebSocket` as its first argument (before the
rule's variables), as in Flask-Sock; ``request``, ``session`` and ``g`` are
the handshake's. It may be ``def`` (blocking calls on its own thread, as
with Flask-Sock under a threaded server) or ``async def`` (awaited calls).
The connection is accepted before the handler runs and closed when it
returns; :class:`ConnectionClosed` raised by the client leaving ends the
handler quietly, as Flask-Sock does.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .blueprints import Blueprint
from .concurrency import is_async_callable, on_loop_thread
from .exceptions import WebSocketDisconnect
from .globals import websocket

if TYPE_CHECKING:
    from .app import Flask
    from .websocket import Websocket

__all__ = ["ConnectionClosed", "Sock", "WebSocket"]

F = TypeVar("F", bound=Callable[..., Any])

_NO_STATUS_RCVD = 1005  # simple-websocket's default reason


class ConnectionClosed(Exception):
    """Flask-Sock's (simple-websocket's) exception for a closed connection.

    :param reason: the close code (simple-websocket's name for it).
    :param message: the close reason's text.
    """

    def __init__(self, reason: int = _NO_STATUS_RCVD, message: str | None = None) -> None:
        self.reason = reason
        self.message = message
        super().__init__(f"Connection closed: {reason} {message or ''}")


class WebSocket:
    """Flask-Sock's ``ws`` object over a flaskish websocket: ``send``,
    ``receive(timeout=None)``, ``close(reason=None, message=None)``,
    ``connected``. In a ``def`` handler the methods block; in an ``async
    def`` one they are awaited."""

    def __init__(self, connection: Websocket) -> None:
        self._connection = connection

    @property
    def connected(self) -> bool:
        """Whether the connection is still open."""
        return self._connection.accepted and not self._connection.closed

    def send(self, data: Any) -> Awaitable[None]:
        """Send *data*: ``bytes`` as a binary message, anything else as text."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            data = str(data)
        return self._call(self._connection.send, data)  # type: ignore[no-any-return]

    # Any, as Websocket.receive (no one static type is both kinds).
    def receive(self, timeout: float | None = None) -> Any:
        """The next message, or ``None`` after *timeout* seconds."""
        return self._call(self._connection.receive, timeout)

    def close(self, reason: int | None = None, message: str | None = None) -> Awaitable[None]:
        """Close the connection (1000 unless *reason* gives another code).

        :raises ConnectionClosed: it is already closed (Flask-Sock's rule).
        """
        if not self.connected:
            raise ConnectionClosed(*_closed_as(self._connection))
        return self._call(self._connection.close, reason or 1000, message or "")  # type: ignore[no-any-return]

    def _call(self, method: Callable[..., Any], *args: Any) -> Any:
        """*method(*args)*, a ``WebSocketDisconnect`` raised as
        :class:`ConnectionClosed` (awaitable in async code)."""
        if on_loop_thread():
            return _translate_async(method(*args))
        try:
            return method(*args)
        except WebSocketDisconnect as gone:
            raise ConnectionClosed(gone.code, gone.reason or None) from None

    def __getattr__(self, name: str) -> Any:
        # The rest of flaskish's websocket (path, args, subprotocol...).
        return getattr(self._connection, name)


async def _translate_async(awaitable: Any) -> Any:
    try:
        return await awaitable
    except WebSocketDisconnect as gone:
        raise ConnectionClosed(gone.code, gone.reason or None) from None


def _closed_as(connection: Websocket) -> tuple[int, str | None]:
    gone = connection._disconnect
    return (gone.code, gone.reason or None) if gone is not None else (_NO_STATUS_RCVD, None)


class Sock:
    """Flask-Sock's extension object.

    :param app: the app; or call :meth:`init_app` later.
    """

    def __init__(self, app: Flask | None = None) -> None:
        self.app: Flask | None = None
        self.bp: Blueprint | None = None
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Attach to *app* (routes declared before this are added to it)."""
        if self.bp is not None:
            app.register_blueprint(self.bp)
        self.app = app

    def route(self, path: str, bp: Blueprint | None = None, **kwargs: Any) -> Callable[[F], F]:
        """Register the decorated ``handler(ws, *variables)`` for websocket
        connections to *path* (on the blueprint *bp* if given).

        :param kwargs: the rule's options (``endpoint``, ``defaults``...).
        """

        def decorator(f: F) -> F:
            if is_async_callable(f):

                @functools.wraps(f)
                async def async_route(**values: Any) -> None:
                    connection = websocket._get_current_object()  # type: ignore[attr-defined]
                    await connection.accept()
                    try:
                        await f(WebSocket(connection), **values)
                    except (ConnectionClosed, WebSocketDisconnect):
                        pass

                handler: Callable[..., Any] = async_route
            else:

                @functools.wraps(f)
                def sync_route(**values: Any) -> None:
                    connection = websocket._get_current_object()  # type: ignore[attr-defined]
                    connection.accept()
                    try:
                        f(WebSocket(connection), **values)
                    except (ConnectionClosed, WebSocketDisconnect):
                        pass

                handler = sync_route
            target: Any
            if bp is not None:
                target = bp
            elif self.app is not None:
                target = self.app
            else:
                if self.bp is None:
                    self.bp = Blueprint("__flask_sock", __name__)
                target = self.bp
            target.websocket(path, **kwargs)(handler)
            return f

        return decorator
