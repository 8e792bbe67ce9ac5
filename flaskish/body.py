"""The request body: read lazily, usable from ``def`` and ``async def`` views.

Nothing is read until a view (or hook) asks. Then:

* on a worker thread (a ``def`` view), the body is read through the event
  loop (:func:`flaskish.concurrency.run_in_loop`), blocking only that thread;
* on the event loop (an ``async def`` view), the attribute is awaitable:
  ``form = await request.form``. Using it without ``await`` before it is
  loaded raises an error that says so;
* once loaded, plain access works everywhere, and ``await`` still works
  (the loaded values are awaitable and give themselves).
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine
from typing import TYPE_CHECKING, Any, Literal, cast, overload

import anyio
from starlette.datastructures import UploadFile
from werkzeug.datastructures import Headers, MultiDict
from werkzeug.exceptions import (
    BadRequest,
    ClientDisconnected,
    RequestEntityTooLarge,
    UnsupportedMediaType,
)

from .body_values import (
    BodyBytes,
    BodyText,
    CombinedFormDict,
    FormDict,
    Pending,
    Ready,
    _wrap_json,
)
from .concurrency import AwaitableSelf, in_worker_thread, on_event_loop, on_loop_thread, run_in_loop
from .files import FileStorage
from .formparser import IN_MEMORY_LIMIT, parse_multipart, parse_urlencoded
from .globals import _cv_app

if TYPE_CHECKING:
    from starlette.types import Message, Receive, Scope

__all__ = ["BodyStream", "RequestBody"]

_missing: Any = object()


#: How much of an unread body the disconnect check holds for the reader.
_PUSHBACK_LIMIT = 64 * 1024


class RequestBody:
    """The body half of :class:`~flaskish.Request`."""

    scope: Scope
    _receive: Receive

    if TYPE_CHECKING:  # provided by Request

        @property
        def max_content_length(self) -> int | None: ...
        @property
        def max_form_memory_size(self) -> int | None: ...
        @property
        def max_form_parts(self) -> int | None: ...
        @property
        def args(self) -> MultiDict[str, str]: ...
        @property
        def mimetype(self) -> str: ...
        @property
        def is_json(self) -> bool: ...
        @property
        def content_length(self) -> int | None: ...
        @property
        def headers(self) -> Headers: ...

        method: str

    _body: bytes | None = None
    _form: FormDict | None = None
    _files: FormDict | None = None
    _json: Any = _missing
    _json_error: ValueError | None = None
    _consumed = False
    #: Whether the client went away (seen while reading the body, by
    #: :meth:`is_disconnected`, or while a streamed response was sent).
    disconnected = False
    # Body messages the disconnect check took off the channel before the
    # body was read (given to the reader first), and whether the last one
    # of the body has been seen.
    _pushed_back: list[Message] | None = None
    _body_complete = False

    # -- dual access ---------------------------------------------------------

    def _load(self, name: str, load: Callable[[], Coroutine[Any, Any, Any]], hint: str) -> Any:
        if in_worker_thread():
            if self._in_memory():
                return run_ready(load())  # all here (prefetched): no trip to the loop
            return run_in_loop(load)
        if on_event_loop():
            return Pending(name, load, hint)
        return run_in_loop(load)

    # -- reading -------------------------------------------------------------

    async def _chunks(self, form_limit: int | None = None) -> AsyncGenerator[bytes, None]:
        """The body as it arrives, once. Refused with 413 before reading when
        the declared length is over ``max_content_length`` (or *form_limit*,
        for a urlencoded form), and as soon as the received bytes pass it
        (the excess is never buffered)."""
        if self._consumed:
            raise RuntimeError("The request body was already read.")
        limit = self.max_content_length
        declared = self.content_length
        if declared is not None:
            _check_size(declared, limit, form_limit, declared=True)
        self._consumed = True
        received = 0
        while True:
            pushed = self._pushed_back
            message = pushed.pop(0) if pushed else await self._receive()
            if message["type"] == "http.disconnect":
                self.disconnected = True
                raise ClientDisconnected("The client disconnected while sending the body.")
            chunk = message.get("body", b"")
            received += len(chunk)
            _check_size(received, limit, form_limit, declared=False)
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                self._body_complete = True
                break

    # -- is the client still there? -----------------------------------------

    # Any: a bool in def code, an awaitable of one in async code (bool
    # cannot be subclassed into an awaitable value).
    def is_disconnected(self) -> Any:
        """Whether the client has gone away, checked now, without waiting
        and without losing any of the body: ``await request.is_disconnected()``
        in an ``async def`` view or generator, a plain call in ``def`` code.
        For a loop that does not yield (a streamed response notices a
        disconnect at its next chunk by itself)."""
        if in_worker_thread() or not on_event_loop():
            return self.disconnected or run_in_loop(self._poll_disconnect, False)

        async def check() -> bool:
            return await self._poll_disconnect(False)

        return Pending("is_disconnected()", check, "await request.is_disconnected()")

    async def _poll_disconnect(self, wait: bool) -> bool:
        """Whether the server has said the client is gone: the next message
        on the channel, taken now (or, with *wait*, when it comes). Body
        messages taken before the body is read are kept for the reader, up
        to the end of the body or 64 KiB; past that, this stops reading (it
        would have to hold the body): it answers ``False``, or, with *wait*,
        never returns."""
        while not self.disconnected:
            if self._body_too_big_to_hold():
                if not wait:
                    return False
                await anyio.sleep_forever()
            message: Message | None = None
            if wait:
                message = await self._receive()
            else:
                with anyio.move_on_after(0):
                    message = await self._receive()
                if message is None:
                    return False
            kind = message["type"]
            if kind == "http.disconnect":
                self.disconnected = True
            elif kind == "http.request" and not self._body_complete:
                if not message.get("more_body", False):
                    self._body_complete = True
                if not self._consumed:
                    if self._pushed_back is None:
                        self._pushed_back = []
                    self._pushed_back.append(message)
            if not wait:
                return self.disconnected
        return True

    async def _prefetch(self, declared: int) -> None:
        """Read a small body now, on the event loop, before a ``def``
        request's hand-off (``BODY_PREFETCH_BYTES``; *declared* is its
        ``Content-Length``, already checked against the limits). The
        messages are held as the disconnect check holds them, and the
        reader takes them first, with all its checks, as if they had just
        arrived: so every size error and every disconnect is raised where it
        would have been. Reads until the end of the body, a disconnect (seen,
        and held for the reader), or more bytes than declared (the rest is
        left on the channel for the reader, as before)."""
        held: list[Message] = []
        self._pushed_back = held
        received = 0
        while received <= declared:
            message = await self._receive()
            held.append(message)
            if message["type"] == "http.disconnect":
                self.disconnected = True
                return
            received += len(message.get("body", b""))
            if not message.get("more_body", False):
                self._body_complete = True
                return

    def _in_memory(self) -> bool:
        """Whether what is left of the body is here (prefetched, taken by
        the disconnect check, or read already) and small enough to parse
        without I/O: a ``def`` view then loads it on its own thread, without
        a trip to the loop."""
        if self._consumed:
            body = self._body
            return body is None or len(body) <= IN_MEMORY_LIMIT  # None: nothing left
        if not self._body_complete:
            return False
        held = self._pushed_back or ()
        return sum(len(message.get("body", b"")) for message in held) <= IN_MEMORY_LIMIT

    def _body_too_big_to_hold(self) -> bool:
        pushed = self._pushed_back
        if not pushed or self._body_complete:
            return False
        held = sum(len(message.get("body", b"")) for message in pushed)
        return held > _PUSHBACK_LIMIT

    async def _read_body(self, form_limit: int | None = None) -> BodyBytes:
        if self._body is None:
            if self._consumed:
                self._body = b""
            else:
                # Nothing but this expression holds the chunks: a 413 raised
                # while reading leaves no part of the body reachable from it.
                self._body = b"".join([chunk async for chunk in self._chunks(form_limit)])
        return BodyBytes(self._body)

    async def _load_form(self) -> FormDict:
        if self._form is None:
            fields: list[tuple[str, Any]] = []
            files: list[tuple[str, Any]] = []
            mimetype = self.mimetype
            if mimetype in ("application/x-www-form-urlencoded", "multipart/form-data") and not (
                self._consumed and self._body is None
            ):
                items = await self._parse_form(mimetype)
                for key, value in items:
                    if isinstance(value, UploadFile):
                        files.append(
                            (
                                key,
                                FileStorage(
                                    value.file,
                                    value.filename,
                                    key,
                                    headers=Headers(list(value.headers.items())),
                                ),
                            )
                        )
                    else:
                        fields.append((key, value))
            self._form, self._files = FormDict(fields), FormDict(files)
        return self._form

    async def _parse_form(self, mimetype: str) -> list[tuple[str, Any]]:
        max_memory, max_parts = self.max_form_memory_size, self.max_form_parts
        if mimetype == "application/x-www-form-urlencoded":
            body = await self._read_body(form_limit=max_memory)
            if max_memory is not None and len(body) > max_memory:  # read before, by get_data()
                raise RequestEntityTooLarge(
                    f"The form is {len(body)} bytes; MAX_FORM_MEMORY_SIZE allows {max_memory}."
                )
            return parse_urlencoded(body, max_parts)
        stream = self._chunks() if self._body is None else _once(self._body)
        return await parse_multipart(self.scope.get("headers", []), stream, max_memory, max_parts)

    async def _load_files(self) -> FormDict:
        await self._load_form()
        return self._files  # type: ignore[return-value]

    async def _load_values(self) -> CombinedFormDict:
        if self.method in ("GET", "HEAD"):
            return CombinedFormDict([self.args])
        return CombinedFormDict([self.args, await self._load_form()])

    async def _load_json(self, force: bool, silent: bool) -> Any:
        if not (force or self.is_json):
            return None if silent else self.on_json_loading_failed(None)
        if self._json is _missing and self._json_error is None:
            body = await self._read_body()
            try:
                self._json = _wrap_json(_json_loads(body))
            except ValueError as exc:
                # Kept without its traceback, whose frames hold this request
                # (and so its body) in a cycle only the garbage collector frees.
                self._json_error = exc.with_traceback(None)
            except RecursionError:
                # `[[[[...` nested deeper than the parser's stack: a 400, as
                # docs/request-data.md promises (Flask answers 500).
                self._json_error = ValueError("The JSON body is nested too deeply to parse.")
        if self._json_error is not None:
            return None if silent else self.on_json_loading_failed(self._json_error)
        return self._json

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        """Called when :meth:`get_json` cannot give JSON: *e* is the parse
        error, or ``None`` when the content type is not JSON. Raises a 400
        (the parser's message shown only in debug mode) or a 415; override
        it to return a value instead, which ``get_json`` then returns."""
        if e is None:
            raise UnsupportedMediaType(
                "Did not attempt to load JSON data because the request Content-Type was not "
                "'application/json'."
            )
        ctx = _cv_app.get(None)
        if ctx is not None and ctx.app.debug:
            raise BadRequest(f"Failed to decode JSON object: {e}")
        raise BadRequest()

    def close(self) -> None:
        """Close (and delete) the uploaded files' temporary files. The app
        calls this when the request ends."""
        files = self._files
        if files:
            for _, storage in files.items(multi=True):
                storage.close()

    # -- public API ----------------------------------------------------------

    @property
    def stream(self) -> BodyStream:
        """The raw body in chunks (:class:`BodyStream`), never buffered."""
        stream: BodyStream | None = self.__dict__.get("_stream")
        if stream is None:
            stream = self.__dict__["_stream"] = BodyStream(self)
        return stream

    @property
    def form(self) -> FormDict:
        """Form fields (urlencoded or multipart). ``await request.form`` in
        an ``async def`` view."""
        if self._form is not None:
            return self._form
        return self._load("form", self._load_form, "form = await request.form")  # type: ignore[no-any-return]

    @property
    def files(self) -> FormDict:
        """Uploaded files (:class:`FileStorage`). ``await request.files`` in
        an ``async def`` view."""
        if self._files is not None:
            return self._files
        return self._load("files", self._load_files, "files = await request.files")  # type: ignore[no-any-return]

    @property
    def values(self) -> CombinedFormDict:
        """:attr:`args` and :attr:`form` together (only ``args`` for GET)."""
        if self._form is not None or self.method in ("GET", "HEAD"):
            return cast(CombinedFormDict, run_ready(self._load_values()))
        return self._load("values", self._load_values, "values = await request.values")  # type: ignore[no-any-return]

    @overload
    def get_data(
        self, cache: bool = True, as_text: Literal[False] = False, parse_form_data: bool = False
    ) -> BodyBytes: ...
    @overload
    def get_data(
        self, cache: bool = True, *, as_text: Literal[True], parse_form_data: bool = False
    ) -> BodyText: ...
    @overload
    def get_data(
        self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False
    ) -> BodyBytes | BodyText: ...

    # Typed as the loaded value, which may also be awaited; in async code
    # before the body is read it is a Pending, which only ``await`` accepts.
    def get_data(
        self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False
    ) -> Any:
        """The raw body as bytes (text with ``as_text``). In an ``async def``
        view: ``data = await request.get_data()``."""
        if parse_form_data and self._form is None:
            self.form  # noqa: B018 - loads the form, as Flask's flag asks
        if self._body is not None or (self._consumed and self._form is not None):
            body = BodyBytes(self._body or b"")
            return BodyText(body.decode("utf-8", "replace")) if as_text else body

        async def load() -> Any:
            body = await self._read_body()
            return BodyText(body.decode("utf-8", "replace")) if as_text else body

        return self._load("data", load, "data = await request.get_data()")

    @property
    def data(self) -> BodyBytes:
        """The raw body (:meth:`get_data`)."""
        return self.get_data()

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """The body parsed as JSON.

        :param force: parse even if the mimetype is not JSON (else 415).
        :param silent: return ``None`` instead of raising on a wrong
            mimetype or invalid JSON.

        In an ``async def`` view: ``data = await request.get_json()``.
        """
        loaded = self._json is not _missing or self._json_error is not None
        if loaded or not (force or self.is_json):
            # No I/O needed: the answer (a value, None, a 400 or a 415) is known.
            value = run_ready(self._load_json(force, silent))
            if isinstance(value, AwaitableSelf) or not on_event_loop():
                return value
            return Ready(value)

        async def load() -> Any:
            return await self._load_json(force, silent)

        return self._load("json", load, "data = await request.get_json()")

    @property
    def json(self) -> Any:
        """The body parsed as JSON (:meth:`get_json`)."""
        return self.get_json()


class BodyStream:
    """``request.stream``: the raw body as it arrives, never buffered.

    In an ``async def`` view: ``async for chunk in request.stream:``. In a
    ``def`` view: ``for chunk in request.stream:`` or
    ``request.stream.read()``. Reading the stream means ``form`` and
    ``data`` are empty afterwards, as in Flask. If the body was already read
    (by ``get_data()``), the stream gives those bytes.
    """

    def __init__(self, request: RequestBody) -> None:
        self._request = request
        self._iterator: AsyncIterator[bytes] | None = None
        self._pending = b""
        # Whether every chunk left is already in memory (read before, or
        # prefetched): a def view then iterates without the event loop.
        self._in_memory = False

    def _source(self) -> AsyncIterator[bytes]:
        if self._iterator is None:
            request = self._request
            if request._body is not None:
                self._iterator = _once(request._body)
                self._in_memory = True
            elif request._consumed:
                self._iterator = _once(b"")
                self._in_memory = True
            else:
                self._in_memory = request._in_memory()
                self._iterator = request._chunks()
        return self._iterator

    def __aiter__(self) -> BodyStream:
        return self

    async def __anext__(self) -> bytes:
        if self._pending:
            chunk, self._pending = self._pending, b""
            return chunk
        while True:
            chunk = await self._source().__anext__()
            if chunk:
                return chunk

    async def _next_or_none(self) -> bytes | None:
        try:
            return await self.__anext__()
        except StopAsyncIteration:
            return None

    def _next_blocking(self) -> bytes | None:
        if on_loop_thread():
            raise RuntimeError(
                "request.stream cannot be read synchronously in an async view. Write "
                "`async for chunk in request.stream:` (or `await request.stream.aread()`)."
            )
        self._source()
        if self._in_memory:
            return run_ready(self._next_or_none())  # type: ignore[no-any-return]
        chunk: bytes | None = run_in_loop(self._next_or_none)
        return chunk

    def __iter__(self) -> BodyStream:
        return self

    def __next__(self) -> bytes:
        chunk = self._next_blocking()
        if chunk is None:
            raise StopIteration
        return chunk

    def read(self, size: int = -1) -> bytes:
        """Read up to *size* bytes (all that is left if negative), in a
        ``def`` view."""
        parts = [self._pending]
        have = len(self._pending)
        self._pending = b""
        while size < 0 or have < size:
            chunk = self._next_blocking()
            if chunk is None:
                break
            parts.append(chunk)
            have += len(chunk)
        data = b"".join(parts)
        if size >= 0 and len(data) > size:
            data, self._pending = data[:size], data[size:]
        return data

    async def aread(self) -> bytes:
        """Read everything that is left, in an ``async def`` view."""
        return b"".join([chunk async for chunk in self])


def _json_loads(body: bytes) -> Any:
    """Parse with the current app's JSON provider, as Flask does."""
    ctx = _cv_app.get(None)
    return ctx.app.json.loads(body) if ctx is not None else json.loads(body)


def _check_size(size: int, limit: int | None, form_limit: int | None, declared: bool) -> None:
    """Refuse a body (its declared length, or what has arrived so far) over
    ``MAX_CONTENT_LENGTH`` or, for a urlencoded form, ``MAX_FORM_MEMORY_SIZE``."""
    if limit is not None and size > limit:
        raise RequestEntityTooLarge(
            f"The request body is {size} bytes; this server accepts at most {limit}."
            if declared
            else f"The request body is over {limit} bytes, the most this server accepts."
        )
    if form_limit is not None and size > form_limit:
        raise RequestEntityTooLarge(
            f"The form is {size} bytes; MAX_FORM_MEMORY_SIZE allows {form_limit}."
            if declared
            else f"The form is over {form_limit} bytes, the most MAX_FORM_MEMORY_SIZE allows."
        )


def run_ready(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine that completes without waiting (its data is loaded)."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise RuntimeError("Internal error: a loaded request value needed to wait for I/O.")


async def _once(body: bytes) -> AsyncGenerator[bytes, None]:
    yield body
