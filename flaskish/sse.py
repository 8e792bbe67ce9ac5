"""Server-sent events: :class:`EventStream`, a streamed response that turns
a ``def`` or ``async def`` generator of events into ``text/event-stream``,
with keep-alive pings, and :class:`ServerSentEvent`, one event.

The body goes through flaskish's own streaming path (:class:`Response`):
hooks run as for any response, an async generator is cancelled when the
client leaves, a sync generator runs on its request's thread and is closed
at its next ``yield`` there. The encoder is written here, after the HTML
standard's "Server-sent events" section: sse-starlette's strips newlines
from ``event`` and ``id`` silently rather than refusing them, and importing
it replaces uvicorn's ``Server.handle_exit`` for the whole process.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import AsyncIterable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import anyio
from anyio.abc import ObjectReceiveStream, TaskGroup

from .concurrency import await_here, call, iterate_beside
from .disconnects import Gone, cancel_when_gone, raise_alone
from .globals import _cv_app, request
from .response import Response

if TYPE_CHECKING:
    from starlette.types import Send


__all__ = ["EventStream", "ServerSentEvent", "last_event_id"]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_PING = b": ping\n\n"
_FIELDS = ("data", "event", "id", "retry", "comment")
_DEFAULT_PING = 15.0  # outside an app context (SSE_PING_INTERVAL's default)


class ServerSentEvent:
    """One event of an :class:`EventStream`: what the browser's
    ``EventSource`` hands to its listeners. Every field is optional.

    :param data: the event's text; line breaks (CR, LF, CRLF) are sent as
        several ``data:`` lines and arrive as ``\\n``. Send JSON as a
        string: ``ServerSentEvent(json.dumps(item))``.
    :param event: the event's type (``addEventListener(type, ...)``; the
        browser's default is ``message``). No line breaks.
    :param id: the id the browser sends back as ``Last-Event-ID`` when it
        reconnects (see :func:`last_event_id`). No line breaks, no NUL.
    :param retry: how long the browser waits before reconnecting, in
        milliseconds (a whole number).
    :param comment: a comment line (``: ...``), which ``EventSource``
        ignores; an event that is only a comment dispatches nothing.
    :raises ValueError: a field holds what the format cannot carry.
    :raises TypeError: a field is not a ``str`` (``retry``: not an ``int``).
    """

    __slots__ = ("comment", "data", "event", "id", "retry")

    def __init__(
        self,
        data: str | None = None,
        *,
        event: str | None = None,
        id: str | None = None,
        retry: int | None = None,
        comment: str | None = None,
    ) -> None:
        for name, value in (("data", data), ("event", event), ("id", id), ("comment", comment)):
            if value is not None and not isinstance(value, str):
                raise TypeError(
                    f"The {name}= of a server-sent event must be a str, not "
                    f"{type(value).__name__}. Convert it first, e.g. {name}=json.dumps(value) "
                    f"or {name}=str(value)."
                )
        for name, value in (("event", event), ("id", id)):
            if value is not None and _LINE_BREAK.search(value):
                raise ValueError(
                    f"The {name}= of a server-sent event cannot hold a line break ({value!r}): "
                    f"it would end the field. Remove it; only data= may span lines."
                )
        if id is not None and "\0" in id:
            raise ValueError(
                f"The id= of a server-sent event cannot hold a NUL character ({id!r}): "
                "browsers ignore such an id. Use printable text."
            )
        if retry is not None and (
            not isinstance(retry, int) or isinstance(retry, bool) or retry < 0
        ):
            raise TypeError(
                f"The retry= of a server-sent event must be a whole number of milliseconds "
                f"(0 or more), not {retry!r}."
            )
        self.data = data
        self.event = event
        self.id = id
        self.retry = retry
        self.comment = comment

    def encode(self) -> bytes:
        """The event as it goes on the wire, ending with a blank line."""
        lines: list[str] = []
        if self.comment is not None:
            lines.extend(f": {line}" for line in _LINE_BREAK.split(self.comment))
        if self.event is not None:
            lines.append(f"event: {self.event}")
        if self.id is not None:
            lines.append(f"id: {self.id}")
        if self.retry is not None:
            lines.append(f"retry: {self.retry}")
        if self.data is not None:
            lines.extend(f"data: {line}" for line in _LINE_BREAK.split(self.data))
        lines.append("\n")
        return "\n".join(lines).encode()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ServerSentEvent):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in _FIELDS)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={getattr(self, name)!r}" for name in _FIELDS if getattr(self, name) is not None
        )
        return f"ServerSentEvent({fields})"


def _encode(item: Any) -> bytes:
    """What one item a generator yielded sends."""
    if isinstance(item, ServerSentEvent):
        return item.encode()
    if isinstance(item, str):
        if "\n" in item or "\r" in item:
            return ServerSentEvent(item).encode()
        return f"data: {item}\n\n".encode()  # one line: the common case, written out
    if isinstance(item, Mapping):
        unknown = [key for key in item if key not in _FIELDS]
        if unknown:
            raise TypeError(
                f"An event stream yielded a dict with the key(s) {unknown!r}; an event's "
                f"keys are {', '.join(_FIELDS)}."
            )
        return ServerSentEvent(**item).encode()
    if isinstance(item, (bytes, bytearray, memoryview)):
        return bytes(item)  # already in the wire format
    raise TypeError(
        f"An event stream yielded {type(item).__name__}. Yield a str (the data), a dict "
        "with the keys data, event, id, retry, comment, or a ServerSentEvent."
    )


class _Encoded:
    """A sync source of events, as the chunks of the body."""

    def __init__(self, source: Iterable[Any]) -> None:
        self._source = iter(source)

    def __iter__(self) -> _Encoded:
        return self

    def __next__(self) -> bytes:
        return _encode(next(self._source))

    def close(self) -> None:
        close = getattr(self._source, "close", None)
        if close is not None:
            close()  # a generator: GeneratorExit at its yield, on this thread


class _AsyncEncoded:
    """An async source of events, as the chunks of the body."""

    def __init__(self, source: AsyncIterable[Any]) -> None:
        self._source = source.__aiter__()

    def __aiter__(self) -> _AsyncEncoded:
        return self

    async def __anext__(self) -> bytes:
        return _encode(await self._source.__anext__())

    async def aclose(self) -> None:
        aclose = getattr(self._source, "aclose", None)
        if aclose is not None:
            await aclose()


def _check_ping(value: Any, what: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
        raise ValueError(f"{what} must be a number of seconds above 0, not {value!r}.")
    return float(value)


class EventStream(Response):
    """A ``text/event-stream`` response: ``return EventStream(events())``
    from any view. Flask has no counterpart (its users stream
    ``"data: ...\\n\\n"`` strings by hand).

    *events* is a generator (``def`` or ``async def``) or any iterable or
    async iterable. Each item it yields is one event: a ``str`` (its data),
    a ``dict`` of :class:`ServerSentEvent`'s fields
    (``{"event": "tick", "data": "1"}``), a :class:`ServerSentEvent`, or
    ``bytes`` already in the wire format (sent as they are).

    While the generator produces nothing for *ping* seconds, a comment line
    (``: ping``) goes out, so that proxies and browsers keep the connection
    open; for a ``def`` generator too, while it is blocked. The stream ends
    when the generator does or when the client leaves (as for any streamed
    response: an async generator is cancelled, a ``def`` one closed at its
    next ``yield``).

    The headers say ``Cache-Control: no-cache`` and
    ``X-Accel-Buffering: no`` (nginx passes each event on at once), and the
    body is marked ``direct_passthrough``, so code that compresses or
    buffers bodies leaves it alone.

    :param events: the events.
    :param ping: seconds of silence before a ping; the app's
        ``SSE_PING_INTERVAL`` (default 15) if omitted.
    :param status: as for :class:`Response`.
    :param headers: more headers (they may replace the ones above).
    :raises TypeError: *events* is not an iterable (a generator function
        passed uncalled, a ``str``).
    :raises ValueError: *ping* (or ``SSE_PING_INTERVAL``) is not a number of
        seconds above 0.
    """

    default_mimetype = "text/event-stream"

    def __init__(
        self,
        events: Iterable[Any] | AsyncIterable[Any],
        ping: float | None = None,
        status: int | str | None = None,
        headers: Any = None,
    ) -> None:
        body: _Encoded | _AsyncEncoded
        if isinstance(events, (str, bytes, bytearray, Mapping, ServerSentEvent)):
            raise TypeError(
                f"EventStream() takes a generator of events, not a single "
                f"{type(events).__name__}. Pass a list of one, or a generator that yields it."
            )
        if isinstance(events, AsyncIterable):
            body = _AsyncEncoded(events)
        elif isinstance(events, Iterable):
            body = _Encoded(events)
        else:
            called = " (call it: EventStream(events()))" if callable(events) else ""
            kind = "generator function" if inspect.isfunction(events) else type(events).__name__
            raise TypeError(
                f"EventStream() takes a generator (def or async def) or an iterable of "
                f"events, not a {kind}{called}."
            )
        if ping is None:
            ctx = _cv_app.get(None)
            configured = (
                ctx.app.config.get("SSE_PING_INTERVAL", _DEFAULT_PING) if ctx else (_DEFAULT_PING)
            )
            self.ping = _check_ping(configured, "SSE_PING_INTERVAL")
        else:
            self.ping = _check_ping(ping, "EventStream(ping=...)")
        super().__init__(body, status, direct_passthrough=True)
        self.headers["Cache-Control"] = "no-cache"
        self.headers["X-Accel-Buffering"] = "no"
        if headers is not None:
            self.headers.update(headers)

    async def _stream(self, send: Send, gone: Gone | None) -> None:
        source = self.response
        if isinstance(source, AsyncIterable):
            # Awaited by the driver itself (while no def step has run): the
            # stream's waits go straight to the loop, not through the pipeline.
            await await_here(_stream_async, source, send, gone, self.ping)
        elif isinstance(source, Iterable):
            # The generator on the request's thread; the relay (sends and
            # pings) on the loop meanwhile.
            await call(
                iterate_beside,
                iter(source),
                functools.partial(_relay, send=send, gone=gone, ping=self.ping),
            )
        else:
            await super()._stream(send, gone)


async def _stream_async(
    source: AsyncIterable[bytes], send: Send, gone: Gone | None, ping: float
) -> None:
    """An async generator and its sends in this task (where it is cancelled
    when the client leaves), with the watchers of :func:`_beside` next to
    it. An event costs its send and a clock reading: no task switch, no
    timer of its own."""
    try:
        async with anyio.create_task_group() as streaming:
            with _beside(streaming, send, gone, ping) as pace:
                async for chunk in source:
                    if chunk:
                        await pace.send(chunk)
            streaming.cancel_scope.cancel()  # the end of the events: stop the watchers
    except BaseExceptionGroup as group:
        raise_alone(group)
        raise


async def _relay(
    received: ObjectReceiveStream[bytes], send: Send, gone: Gone | None, ping: float
) -> None:
    """A ``def`` generator's events, as its thread hands them over: the
    same sends and watchers, on the loop."""
    async with anyio.create_task_group() as relaying:
        with _beside(relaying, send, gone, ping) as pace:
            async for chunk in received:
                if chunk:
                    await pace.send(chunk)
        relaying.cancel_scope.cancel()


@contextmanager
def _beside(group: TaskGroup, send: Send, gone: Gone | None, ping: float) -> Iterator[_Pace]:
    """While in this block, what runs beside a stream's sends in *group*:
    the pings after *ping* seconds of silence, and the end of *group* (the
    stream) when the client leaves or at a graceful shutdown. Gives the
    sender."""
    pace = _Pace(send, ping)
    group.start_soon(pace.ping_while_silent)
    if gone is not None:
        group.start_soon(cancel_when_gone, gone, group.cancel_scope)
    app_ctx = _cv_app.get(None)
    if app_ctx is None or not app_ctx.app.shutdown_event._served_here():
        yield pace
        return
    # At a graceful shutdown the stream ends at once, and cleanly: the
    # client's EventSource reconnects (to another server).
    with app_ctx.app.shutdown_event._flag.cancelling(group.cancel_scope):
        yield pace


class _Pace:
    """The sends of one event stream, and its pings: a ping goes out once
    *ping* seconds pass with no send, never in the middle of one."""

    __slots__ = ("_last", "_ping", "_pinging", "_send", "_sending")

    def __init__(self, send: Send, ping: float) -> None:
        self._send = send
        self._ping = ping
        self._last = anyio.current_time()
        self._sending = False
        self._pinging: anyio.Event | None = None

    async def send(self, chunk: bytes) -> None:
        while self._pinging is not None:  # rare: a ping is being written
            await self._pinging.wait()
        self._sending = True
        try:
            await self._send({"type": "http.response.body", "body": chunk, "more_body": True})
        finally:
            self._sending = False
            self._last = anyio.current_time()

    async def ping_while_silent(self) -> None:
        while True:
            due = self._last + self._ping
            if anyio.current_time() < due:
                await anyio.sleep_until(due)
                continue  # an event may have gone out meanwhile
            if self._sending:  # a slow send: the stream is not silent
                await anyio.sleep(self._ping)
                continue
            self._pinging = pinging = anyio.Event()
            try:
                await self._send({"type": "http.response.body", "body": _PING, "more_body": True})
            finally:
                self._pinging = None
                self._last = anyio.current_time()
                pinging.set()


def last_event_id() -> str | None:
    """The ``Last-Event-ID`` header of the current request: the ``id`` of
    the last event a reconnecting ``EventSource`` received, to resume
    after it; ``None`` on a first connection. The same as
    ``request.headers.get("Last-Event-ID")``."""
    return request.headers.get("Last-Event-ID")
