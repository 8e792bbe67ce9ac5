"""How a response goes out over ASGI: :class:`ASGISending`, the part of
:class:`~flaskish.response.Response` that encodes and checks its headers,
makes the two messages of a buffered body (or of a view's ``str``, with no
response object), streams a sync or async body, closes it, and runs it as
an ASGI app.

Sending is written as a pipeline coroutine (:meth:`ASGISending._send`), so
a sync generator is iterated on the request's worker thread, like the view
that made it: this is the response's only use of the driver
(:mod:`flaskish.concurrency`), kept here apart from the object's API.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

import anyio
from werkzeug.datastructures import Headers

from .concurrency import ThreadPool, await_, call, drive, drive_blocking
from .disconnects import Gone, cancel_when_gone, raise_alone, receive_gone, send_unless_gone
from .globals import _cv_app

if TYPE_CHECKING:
    from starlette.types import Message, Receive, Scope, Send

__all__ = ["ASGISending", "UnsendableHeader"]

_END: Any = object()
_NO_BODY_STATUSES = frozenset({204, 304})
#: The statuses a buffered response sends its body with.
_BODY_STATUSES = frozenset(range(200, 1000)) - _NO_BODY_STATUSES
_default_pool = ThreadPool(lambda: 40)  # for a response sent outside any app context
# What a header may not hold (tab is allowed): servers refuse to send it.
_unsendable = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
#: The name of the Content-Length header that is second in a buffered
#: response's encoded headers when they have the usual shape (see
#: ASGISending._encode_headers).
_CONTENT_LENGTH = b"Content-Length"

#: Per-mimetype caches of what every response computes the same way
#: (filled by ``Response.__init__``): the Content-Type, and it encoded.
content_types: dict[str, str] = {}
encoded_types: dict[str, bytes] = {}


class UnsendableHeader(ValueError):
    """A response header holds what no server can send (a control
    character, text that is not latin-1)."""


class _Buffered:
    """A buffered response as the two ASGI messages that send it (made by
    :meth:`ASGISending._buffered_messages`, or by
    :meth:`ASGISending._text_messages` with no response object at all)."""

    __slots__ = ("body", "start")

    def __init__(self, start: Message, body: Message) -> None:
        self.start = start
        self.body = body


def _encoded(items: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """Header pairs encoded for ASGI, checked (see
    :meth:`ASGISending._encode_headers`)."""
    for name, value in items:
        if not (value.isprintable() and name.isprintable()) and _unsendable.search(name + value):
            raise UnsendableHeader(
                f"The response header {name!r} holds a control character ({value!r}); "
                "remove it: no server can send it."
            )
    try:
        return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in items]
    except UnicodeEncodeError:
        name, value = next(
            (name, value) for name, value in items if max(name + value, default="") > "\xff"
        )
        raise UnsendableHeader(
            f"The response header {name!r} holds text that is not latin-1 ({value!r}). "
            "Send ASCII: percent-encode it, or use RFC 8187's name*=UTF-8''... form "
            "for a parameter."
        ) from None


class ASGISending:
    """The sending half of :class:`~flaskish.response.Response` (a base
    class of it): what it reads of the response is declared here."""

    headers: Headers
    _status_code: int
    #: The body: a list of byte strings (buffered) or an iterable / async
    #: iterable of chunks (streamed).
    response: Any
    _on_close: list[Callable[[], Any]] | tuple[()]
    automatically_set_content_length: bool
    default_mimetype: str | None
    default_status: int

    def close(self) -> None:
        """Close the body iterator and call the :meth:`call_on_close`
        functions (sending does this; call it for a response you never send).
        The same steps as after sending, run from sync code."""
        drive_blocking(self._close())

    @property
    def _sendable_later(self) -> bool:
        """A buffered body with nothing to call on close: it can be sent
        from the event loop after the request's sync code has finished."""
        return not self._on_close and isinstance(self.response, list)

    def _encode_headers(self) -> list[tuple[bytes, bytes]]:
        """The headers encoded for ASGI, checked: raise
        :class:`UnsendableHeader` for a header no server can send (a control
        character; text beyond latin-1). The pipeline calls it once the
        response is final, while an error can still become a 500 through the
        app's error handlers, and sends what it returns."""
        items = self.headers._list
        if len(items) >= 2:
            # The shape of most responses (what __init__ makes, maybe with
            # headers added after): the type from a per-mimetype cache, the
            # length a number, then whatever else was set, checked.
            (type_name, type_value), (length_name, length) = items[0], items[1]
            encoded_type = encoded_types.get(type_value)
            if (
                encoded_type is not None
                and type_name == "Content-Type"
                and length_name == "Content-Length"
                and length.isascii()
                and length.isdigit()
            ):
                raw = [(b"Content-Type", encoded_type), (_CONTENT_LENGTH, length.encode())]
                for name, value in items[2:]:
                    # Printable ASCII, sent as it is, as the general path
                    # would; anything else goes there (a tab, an error).
                    text = name + value
                    if not (text.isascii() and text.isprintable()):
                        return _encoded(items)
                    raw.append((name.encode(), value.encode()))
                return raw
        return _encoded(items)

    async def _send_buffered(
        self, scope: Scope, send: Send, raw: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        """Send a buffered body (plain async: no user code runs), with its
        headers already encoded as *raw* if given."""
        buffered = self._buffered_messages(scope, raw)
        await send(buffered.start)
        await send(buffered.body)

    def _buffered_messages(
        self, scope: Scope, raw: list[tuple[bytes, bytes]] | None = None
    ) -> _Buffered:
        """The two ASGI messages that send a buffered body: what
        :meth:`_send_buffered` sends (the pipeline sends them itself, without
        a coroutine for it)."""
        status = self._status_code
        with_body = status >= 200 and status not in _NO_BODY_STATUSES
        chunks: list[bytes] = self.response
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        if raw is None:
            raw = self._encode_headers()
        if (
            with_body
            and self.automatically_set_content_length
            # Not the usual shape, whose Content-Length was encoded second.
            and not (len(raw) >= 2 and raw[1][0] is _CONTENT_LENGTH)
        ):
            for name, _ in self.headers._list:
                if len(name) == 14 and name.lower() == "content-length":
                    break
            else:
                raw.append((b"Content-Length", b"%d" % len(body)))
        if not with_body or scope.get("method") == "HEAD":
            body = b""
        return _Buffered(
            {"type": "http.response.start", "status": status, "headers": raw},
            {"type": "http.response.body", "body": body},
        )

    @classmethod
    def _text_messages(cls, text: str, head: bool) -> _Buffered | None:
        """The messages that send ``cls(text)``, made without the response:
        for a view's ``str`` that nothing else reads (no ``after_request``
        function, session or receiver; the pipeline checks). The same bytes
        as :meth:`_of_text`, :meth:`_encode_headers` and
        :meth:`_buffered_messages` make; ``None`` while the class's content
        type is not cached yet (its first response fills the cache), or if it
        sets no length or has a status without a body.

        :param head: the request is a ``HEAD``: the length is sent, not the body.
        """
        encoded_type = encoded_types.get(content_types.get(cls.default_mimetype, ""))  # type: ignore[arg-type]
        code = cls.default_status
        if (
            encoded_type is None
            or code not in _BODY_STATUSES  # (an int)
            or not cls.automatically_set_content_length
        ):
            return None
        body = text.encode()
        return _Buffered(
            {
                "type": "http.response.start",
                "status": code,
                "headers": [(b"Content-Type", encoded_type), (_CONTENT_LENGTH, b"%d" % len(body))],
            },
            {"type": "http.response.body", "body": b"" if head else body},
        )

    async def _send(self, scope: Scope, send: Send, gone: Gone | None = None) -> None:
        """Send over ASGI, closing the body iterator and calling the
        :meth:`call_on_close` functions. A pipeline coroutine: run it with
        :func:`flaskish.concurrency.drive`.

        :param gone: tells whether the client went away (``gone(False)``:
            now; ``gone(True)``: once it has): a streamed body then stops,
            an async generator cancelled, a sync one closed at its yield.
        """
        status = self._status_code
        with_body = status >= 200 and status not in _NO_BODY_STATUSES
        try:
            if isinstance(self.response, list):
                await await_(self._send_buffered, scope, send)
                return
            await await_(
                send,
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": self._encode_headers(),
                },
            )
            if with_body and scope.get("method") != "HEAD":
                await self._stream(send, gone)
            await await_(send, {"type": "http.response.body", "body": b""})
        finally:
            await self._close()

    async def _stream(self, send: Send, gone: Gone | None) -> None:
        source = self.response
        if isinstance(source, AsyncIterable):
            # All on the event loop, in one step: the generator, the sends,
            # and a task that cancels both when the client goes away.
            await await_(_stream_async, source.__aiter__(), send, gone)
            return
        # A sync iterator runs on the request's thread, chunk by chunk; the
        # client is looked for before each chunk is sent (with it, in one
        # hand-off), and once it is gone the iterator is closed (_close).
        iterator: Iterator[Any] = await call(iter, source)
        while (chunk := await call(next, iterator, _END)) is not _END:
            if chunk and not await await_(send_unless_gone, send, _to_bytes(chunk), gone):
                return

    async def _close(self) -> None:
        source = self.response
        aclose = getattr(source, "aclose", None)
        if aclose is not None:
            await await_(aclose)
        elif not isinstance(source, list) and hasattr(source, "close"):
            await call(source.close)
        for func in self._on_close:
            await call(func)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send this response as an ASGI app (e.g. from ASGI middleware)."""
        if self._sendable_later:
            await self._send_buffered(scope, send)
        else:
            ctx = _cv_app.get(None)  # the app's pool when there is an app (one pool)
            await drive(
                self._send(scope, send, receive_gone(receive)),
                ctx.app.thread_pool if ctx else _default_pool,
            )


async def _stream_async(iterator: AsyncIterator[Any], send: Send, gone: Gone | None) -> None:
    try:
        async with anyio.create_task_group() as streaming:
            if gone is not None:
                streaming.start_soon(cancel_when_gone, gone, streaming.cancel_scope)
            async for chunk in iterator:
                if chunk:
                    await send(
                        {"type": "http.response.body", "more_body": True, "body": _to_bytes(chunk)}
                    )
            streaming.cancel_scope.cancel()  # the end of the body: stop watching
    except BaseExceptionGroup as group:
        raise_alone(group)
        raise


def _to_bytes(chunk: Any) -> bytes:
    if isinstance(chunk, str):
        return chunk.encode()
    if isinstance(chunk, (bytes, bytearray, memoryview)):
        return bytes(chunk)
    raise TypeError(
        f"A streamed response yielded {type(chunk).__name__}; each chunk must be str or bytes."
    )
