"""Websocket connections for the test client:
``with client.websocket("/chat") as ws: ws.send("hi"); ws.receive()``.

The connection runs over Starlette's test transport (the app on an event
loop of the client's, as for HTTP requests), with the client's cookies; a
refusal before the connection is accepted raises :class:`WebsocketDenied`
with the HTTP response, and the app closing the connection raises
:class:`~flaskish.exceptions.WebSocketDisconnect` from ``receive()``.
"""

from __future__ import annotations

import contextlib
import json
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any

import anyio
from starlette.testclient import WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect as StarletteDisconnect

from .exceptions import WebSocketDisconnect

if TYPE_CHECKING:
    from starlette.testclient import WebSocketTestSession

__all__ = ["TestWebsocket", "WebsocketDenied"]


class WebsocketDenied(Exception):
    """The app refused the websocket with an HTTP response (``abort(403)``
    before accepting, a ``before_websocket`` function's return value...).

    :param status_code: the response's status.
    :param headers: its headers.
    :param data: its body.
    """

    def __init__(self, status_code: int, headers: dict[str, str], data: bytes) -> None:
        super().__init__(f"The websocket was refused with {status_code}.")
        self.status_code = status_code
        self.headers = headers
        self.data = data

    @property
    def text(self) -> str:
        """The body as text."""
        return self.data.decode("utf-8", "replace")


class TestWebsocket:
    """One test connection; use it as a context manager (the connection
    is closed, with 1000, when the block ends)."""

    __test__ = False  # not a pytest test class

    #: Seconds leaving the ``with`` block waits for the app to end the
    #: connection (the handler to return, teardown to run) once the client
    #: has closed it, before the app is cancelled.
    end_timeout = 5.0

    def __init__(self, connect: Any, ended: threading.Event | None = None) -> None:
        self._connect = connect
        self._ended = ended
        self._session: WebSocketTestSession | None = None

    def __enter__(self) -> TestWebsocket:
        try:
            self._session = self._connect().__enter__()
        except WebSocketDenialResponse as denied:
            raise WebsocketDenied(
                denied.status_code, dict(denied.headers), denied.content
            ) from None
        except StarletteDisconnect as closed:
            raise WebSocketDisconnect(closed.code, closed.reason or "") from None
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self._session
        if session is None:
            return
        self._session = None
        if self._ended is not None and not self._ended.is_set():
            # Close, then let the app end the connection (its handler sees the
            # disconnect, teardown runs) before Starlette's session cancels it.
            with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
                session.close(1000)
            self._ended.wait(self.end_timeout)
        session.__exit__(exc_type, exc, tb)

    @property
    def _open(self) -> WebSocketTestSession:
        if self._session is None:
            raise RuntimeError(
                "The test websocket is not connected: use it as "
                "`with client.websocket('/path') as ws:`."
            )
        return self._session

    @property
    def subprotocol(self) -> str | None:
        """The subprotocol the app accepted the connection with."""
        return self._open.accepted_subprotocol

    @property
    def headers(self) -> dict[str, str]:
        """The extra headers the app accepted the connection with."""
        raw: list[tuple[bytes, bytes]] = self._open.extra_headers or []
        return {name.decode("latin-1"): value.decode("latin-1") for name, value in raw}

    def send(self, data: str | bytes) -> None:
        """Send a text (``str``) or binary (``bytes``) message to the app."""
        if isinstance(data, str):
            self._open.send_text(data)
        elif isinstance(data, bytes):
            self._open.send_bytes(data)
        else:
            raise TypeError(
                f"send() takes str or bytes, not {type(data).__name__}; "
                "use send_json(obj) for other objects."
            )

    def send_json(self, obj: Any) -> None:
        """Send *obj* as a JSON text message."""
        self._open.send_text(json.dumps(obj))

    def receive(self) -> str | bytes:
        """The app's next message.

        :raises WebSocketDisconnect: the app closed the connection.
        """
        message = self._open.receive()
        if message["type"] == "websocket.close":
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason") or "")
        if message.get("text") is not None:
            return str(message["text"])
        return bytes(message.get("bytes") or b"")

    def receive_json(self) -> Any:
        """The app's next message, parsed as JSON."""
        return json.loads(self.receive())

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection from the client's side (the app's
        ``receive()`` raises ``WebSocketDisconnect`` with *code*)."""
        self._open.close(code, reason)
