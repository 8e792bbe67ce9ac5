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
import shutil
from collections.abc import AsyncGenerator, Callable, Coroutine, Generator
from typing import IO, TYPE_CHECKING, Any, BinaryIO, cast

from starlette.datastructures import Headers as StarletteHeaders
from starlette.datastructures import UploadFile
from starlette.formparsers import FormParser, MultiPartException, MultiPartParser

from .concurrency import in_worker_thread, on_event_loop, run_in_loop
from .datastructures import CombinedMultiDict, Headers, ImmutableMultiDict
from .exceptions import BadRequest, ClientDisconnected, RequestEntityTooLarge, UnsupportedMediaType

if TYPE_CHECKING:
    from starlette.types import Receive, Scope

__all__ = ["FileStorage", "RequestBody"]

_missing: Any = object()


class _AwaitableSelf:
    """Mixin for loaded values: ``await value`` gives the value itself, so
    ``await request.form`` works before and after the form is loaded."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, Any]:
        yield from ()
        return self


class FormDict(_AwaitableSelf, ImmutableMultiDict[Any]):
    """``request.form`` / ``request.files`` / ``request.values``: an immutable
    multi-dict that can also be awaited."""

    __slots__ = ()


class CombinedFormDict(_AwaitableSelf, CombinedMultiDict[Any]):
    """``request.values``: ``args`` then ``form``, awaitable."""

    __slots__ = ()


class BodyBytes(_AwaitableSelf, bytes):
    """``request.data`` / ``get_data()``: bytes that can also be awaited."""

    __slots__ = ()


class BodyText(_AwaitableSelf, str):
    """``get_data(as_text=True)``: text that can also be awaited."""

    __slots__ = ()


class JSONObject(_AwaitableSelf, dict[str, Any]):
    """A JSON object body (a ``dict``) that can also be awaited."""

    __slots__ = ()


class JSONArray(_AwaitableSelf, list[Any]):
    """A JSON array body (a ``list``) that can also be awaited."""

    __slots__ = ()


class Ready:
    """A loaded value that cannot carry ``__await__`` itself (a JSON number,
    string or ``null``): ``await`` gives the value, :attr:`value` too."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, None, Any]:
        yield from ()
        return self.value

    def __repr__(self) -> str:
        return f"<Ready {self.value!r}>"


class Pending:
    """The body is not loaded and we are on the event loop: the only valid
    use is ``await``. Anything else raises an error that says so."""

    __slots__ = ("_hint", "_load", "_name")

    def __init__(self, name: str, load: Callable[[], Coroutine[Any, Any, Any]], hint: str) -> None:
        self._name = name
        self._load = load
        self._hint = hint

    def __await__(self) -> Generator[Any, None, Any]:
        return self._load().__await__()

    def _misuse(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            f"request.{self._name} is not loaded yet, and this async view cannot wait for the "
            f"body without `await`. Write `{self._hint}`."
        )

    __getattr__ = __getitem__ = __iter__ = __contains__ = __len__ = __bool__ = _misuse
    __eq__ = __call__ = _misuse
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<Pending request.{self._name}: write `{self._hint}`>"


def _wrap_json(value: Any) -> Any:
    if isinstance(value, dict):
        return JSONObject(value)
    if isinstance(value, list):
        return JSONArray(value)
    return value


class FileStorage:
    """An uploaded file (``request.files["photo"]``), usable from a ``def``
    view: :meth:`read`, :meth:`save`, :attr:`stream`.

    The data lives in a spooled temporary file (memory first, disk once it
    grows), removed when the request ends.
    """

    def __init__(self, upload: UploadFile, name: str) -> None:
        self._upload = upload
        #: The form field name.
        self.name = name

    @property
    def filename(self) -> str | None:
        """The file name the client sent (not safe for paths: use
        :func:`~flaskish.utils.secure_filename`)."""
        return self._upload.filename

    @property
    def content_type(self) -> str | None:
        """The part's ``Content-Type``."""
        return self._upload.content_type

    @property
    def mimetype(self) -> str:
        """The content type without parameters."""
        return (self.content_type or "").split(";", 1)[0].strip().lower()

    @property
    def headers(self) -> Headers:
        """The part's headers."""
        return Headers(self._upload.headers.items())

    @property
    def content_length(self) -> int:
        """The size in bytes."""
        return self._upload.size or 0

    @property
    def stream(self) -> BinaryIO:
        """The file object holding the data."""
        return self._upload.file

    def read(self, size: int = -1) -> bytes:
        """Read from the file (blocking: fine in a ``def`` view)."""
        return self._upload.file.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        """Move the read position."""
        return self._upload.file.seek(offset, whence)

    def save(self, dst: str | IO[bytes], buffer_size: int = 16384) -> None:
        """Write the file to a path or a binary file object."""
        self._upload.file.seek(0)
        if isinstance(dst, str) or hasattr(dst, "__fspath__"):
            with open(dst, "wb") as out:
                shutil.copyfileobj(self._upload.file, out, buffer_size)
        else:
            shutil.copyfileobj(self._upload.file, dst, buffer_size)

    def close(self) -> None:
        """Close (and delete) the temporary file."""
        self._upload.file.close()

    def __bool__(self) -> bool:
        return bool(self.filename)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.filename!r} ({self.content_type!r})>"


class RequestBody:
    """The body half of :class:`~flaskish.Request`."""

    scope: Scope
    _receive: Receive

    if TYPE_CHECKING:  # provided by Request

        @property
        def max_content_length(self) -> int | None: ...
        @property
        def args(self) -> ImmutableMultiDict[str]: ...
        @property
        def mimetype(self) -> str: ...
        @property
        def is_json(self) -> bool: ...
        @property
        def content_length(self) -> int | None: ...
        @property
        def headers(self) -> Headers: ...
        @property
        def method(self) -> str: ...

    _body: bytes | None = None
    _form: FormDict | None = None
    _files: FormDict | None = None
    _json: Any = _missing
    _json_error: Exception | None = None
    _consumed = False

    # -- dual access ---------------------------------------------------------

    def _load(self, name: str, load: Callable[[], Coroutine[Any, Any, Any]], hint: str) -> Any:
        if in_worker_thread():
            return run_in_loop(load)
        if on_event_loop():
            return Pending(name, load, hint)
        return run_in_loop(load)

    # -- reading -------------------------------------------------------------

    async def _chunks(self) -> AsyncGenerator[bytes, None]:
        """The body as it arrives, refused with 413 past the size limit."""
        if self._consumed:
            raise RuntimeError("The request body was already read as a stream.")
        self._consumed = True
        limit = self.max_content_length
        declared = self.content_length
        if limit is not None and declared is not None and declared > limit:
            raise RequestEntityTooLarge()
        received = 0
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnected()
            chunk = message.get("body", b"")
            received += len(chunk)
            if limit is not None and received > limit:
                raise RequestEntityTooLarge()
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                break

    async def _read_body(self) -> BodyBytes:
        if self._body is None:
            if self._consumed:
                self._body = b""
            else:
                self._body = b"".join([chunk async for chunk in self._chunks()])
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
                        files.append((key, FileStorage(value, key)))
                    else:
                        fields.append((key, value))
            self._form, self._files = FormDict(fields), FormDict(files)
        return self._form

    async def _parse_form(self, mimetype: str) -> list[tuple[str, Any]]:
        from .globals import _cv_app

        ctx = _cv_app.get(None)
        config = ctx.app.config if ctx is not None else {}
        max_memory = config.get("MAX_FORM_MEMORY_SIZE") or 500_000
        max_parts = config.get("MAX_FORM_PARTS") or 1000
        headers = StarletteHeaders(raw=self.headers.raw)
        try:
            if mimetype == "multipart/form-data":
                stream = self._chunks() if self._body is None else _once(self._body)
                parser: Any = MultiPartParser(headers, stream, max_files=max_parts,
                                              max_fields=max_parts, max_part_size=max_memory)
            else:
                parser = FormParser(headers, _once(await self._read_body()),
                                    max_fields=max_parts, max_part_size=max_memory)
            form = await parser.parse()
        except MultiPartException as exc:
            message = str(exc)
            if "exceeded" in message or "Too many" in message:
                raise RequestEntityTooLarge(message) from None
            raise BadRequest(message) from None
        return list(form.multi_items())

    async def _load_files(self) -> FormDict:
        await self._load_form()
        return self._files  # type: ignore[return-value]

    async def _load_values(self) -> CombinedFormDict:
        if self.method in ("GET", "HEAD"):
            return CombinedFormDict([self.args])
        return CombinedFormDict([self.args, await self._load_form()])

    async def _load_json(self, force: bool, silent: bool) -> Any:
        if not (force or self.is_json):
            if silent:
                return None
            raise UnsupportedMediaType(
                "Did not attempt to load JSON data because the request Content-Type was not "
                "'application/json'."
            )
        if self._json is _missing and self._json_error is None:
            body = await self._read_body()
            try:
                self._json = _wrap_json(json.loads(body))
            except ValueError as exc:
                self._json_error = exc
        if self._json_error is not None:
            if silent:
                return None
            raise BadRequest(f"Failed to decode JSON object: {self._json_error}")
        return self._json

    def close(self) -> None:
        """Close (and delete) the uploaded files' temporary files. The app
        calls this when the request ends."""
        files = self._files
        if files:
            for _, storage in files.items(multi=True):
                storage.close()

    # -- public API ----------------------------------------------------------

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

    def get_data(
        self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False
    ) -> Any:
        """The raw body as bytes (text with ``as_text``). In an ``async def``
        view: ``data = await request.get_data()``."""
        if parse_form_data and self._form is None:
            self.form  # noqa: B018 - loads the form, as Flask's flag asks
        if self._body is not None or (self._consumed and self._form is not None):
            body = BodyBytes(self._body or b"")
            return BodyText(body.decode()) if as_text else body

        async def load() -> Any:
            body = await self._read_body()
            return BodyText(body.decode()) if as_text else body

        return self._load("data", load, "data = await request.get_data()")

    @property
    def data(self) -> Any:
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
            if isinstance(value, _AwaitableSelf) or not on_event_loop():
                return value
            return Ready(value)

        async def load() -> Any:
            return await self._load_json(force, silent)

        return self._load("json", load, "data = await request.get_json()")

    @property
    def json(self) -> Any:
        """The body parsed as JSON (:meth:`get_json`)."""
        return self.get_json()


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
