"""The response object, with Flask's constructor and attributes, sent over
ASGI.

A body is either buffered (``str`` / ``bytes``) or streamed from a sync or
async iterator. Sending is written as a pipeline coroutine
(:meth:`Response._send`), so a sync generator is iterated on the request's
worker thread, like the view that made it.
"""

from __future__ import annotations

import re
import time
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Callable,
    Generator,
    Iterable,
    Iterator,
)
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from .concurrency import ThreadPool, await_, call, drive
from .datastructures import Headers
from .exceptions import HTTP_STATUS_CODES

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

__all__ = ["Response", "dump_cookie", "get_content_type", "http_date"]

_END: Any = object()
_NO_BODY_STATUSES = frozenset({204, 304})
_default_pool = ThreadPool(lambda: 40)


def get_content_type(mimetype: str, charset: str = "utf-8") -> str:
    """*mimetype* with ``; charset=...`` added where the type is text."""
    if (
        mimetype.startswith("text/")
        or mimetype in ("application/xml", "application/javascript", "application/ecmascript")
        or mimetype.endswith("+xml")
    ) and "charset" not in mimetype:
        return f"{mimetype}; charset={charset}"
    return mimetype


_encoded_types: dict[tuple[str, str], bytes] = {}


def _encoded_type(mimetype: str, charset: str) -> bytes:
    try:
        return _encoded_types[mimetype, charset]
    except KeyError:
        value = _encoded_types[mimetype, charset] = get_content_type(mimetype, charset).encode()
        return value


def http_date(value: datetime | float | int | None = None) -> str:
    """An HTTP date (``Wed, 21 Oct 2015 07:28:00 GMT``) for a datetime or
    a Unix timestamp (now if ``None``)."""
    if value is None:
        value = time.time()
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.timestamp()
    return formatdate(value, usegmt=True)


# RFC 6265: cookie names are tokens; unquoted values are "cookie-octets".
_cookie_name_re = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_cookie_octets_re = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")
_control_re = re.compile(r"[\x00-\x1f\x7f]")


def _quote_cookie_value(value: str) -> str:
    if _cookie_octets_re.fullmatch(value):
        return value
    out = []
    for byte in value.encode("utf-8"):
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif char in ";,":
            # Octal, as Werkzeug writes them: cookie jars split values at ";".
            out.append(f"\\{byte:03o}")
        elif 0x20 <= byte < 0x7F:
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def dump_cookie(
    key: str,
    value: str | bytes = "",
    max_age: timedelta | int | None = None,
    expires: str | datetime | int | float | None = None,
    path: str | None = "/",
    domain: str | None = None,
    secure: bool = False,
    httponly: bool = False,
    samesite: str | None = None,
    partitioned: bool = False,
) -> str:
    """A ``Set-Cookie`` header value. Arguments as :meth:`Response.set_cookie`.

    :raises ValueError: the name is not a valid token, a name or value holds
        a control character (CR, LF, NUL...), or ``samesite`` is unknown.
    """
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    for label, text in (("name", key), ("value", value), ("path", path or ""),
                        ("domain", domain or "")):
        if _control_re.search(text) or (label != "value" and ";" in text):
            raise ValueError(
                f"The cookie {label} {text!r} contains a control character or ';'; remove it "
                "(cookie names and values must not contain CR, LF or other control characters)."
            )
    if not _cookie_name_re.fullmatch(key):
        raise ValueError(
            f"The cookie name {key!r} is not valid: use letters, digits and !#$%&'*+-.^_`|~ only."
        )
    parts = [f"{key}={_quote_cookie_value(value)}"]
    if domain:
        parts.append(f"Domain={domain}")
    if isinstance(max_age, timedelta):
        max_age = int(max_age.total_seconds())
    if expires is None and max_age is not None:
        expires = time.time() + max_age
    if expires is not None:
        parts.append(f"Expires={expires if isinstance(expires, str) else http_date(expires)}")
    if max_age is not None:
        parts.append(f"Max-Age={int(max_age)}")
    if secure or partitioned:
        parts.append("Secure")
    if httponly:
        parts.append("HttpOnly")
    if path is not None:
        parts.append(f"Path={path}")
    if samesite is not None:
        normalized = samesite.title()
        if normalized not in ("Strict", "Lax", "None"):
            raise ValueError(f"samesite must be 'Strict', 'Lax' or 'None', not {samesite!r}.")
        parts.append(f"SameSite={normalized}")
    if partitioned:
        parts.append("Partitioned")
    return "; ".join(parts)


class Response:
    """An HTTP response: ``Response(response=None, status=None, headers=None,
    mimetype=None, content_type=None)``, as in Flask.

    :param response: the body: ``str``, ``bytes``, or an iterable / async
        iterable of ``str`` or ``bytes`` chunks (streamed).
    :param status: a status code (``404``) or status line (``"404 NOT FOUND"``).
    :param headers: a mapping, a list of pairs or a :class:`Headers`.
    :param mimetype: the mimetype; ``charset=utf-8`` is added for text.
    :param content_type: the full ``Content-Type``, used as given.
    """

    default_status = 200
    default_mimetype: str | None = "text/html"
    charset = "utf-8"
    #: What :meth:`get_json` parses with: ``None`` means :mod:`flaskish.json`,
    #: which uses the current app's JSON provider.
    json_module: Any = None

    #: The body: a list of byte strings (buffered) or an iterable / async
    #: iterable of chunks (streamed).
    response: list[bytes] | Iterable[Any] | AsyncIterable[Any]
    _on_close: list[Callable[[], Any]]

    def __init__(
        self,
        response: str | bytes | bytearray | Iterable[Any] | AsyncIterable[Any] | None = None,
        status: int | str | HTTPStatus | None = None,
        headers: Any = None,
        mimetype: str | None = None,
        content_type: str | None = None,
        direct_passthrough: bool = False,
    ) -> None:
        if headers is None and content_type is None:
            # The common case, kept cheap: fresh headers, the type already
            # encoded, and a str body measured here.
            raw: list[tuple[bytes, bytes]] = []
            self.headers = Headers._from_raw(raw)
            if mimetype is None:
                mimetype = self.default_mimetype
            if mimetype is not None:
                raw.append((b"content-type", _encoded_type(mimetype, self.charset)))
            if type(response) is str:
                body = response.encode(self.charset)
                raw.append((b"content-length", b"%d" % len(body)))
                self.response = [body]
                self.status_code = self.default_status
                if status is not None:
                    self.status = status
                self.direct_passthrough = direct_passthrough
                self._on_close = []
                return
        else:
            self.headers = headers if isinstance(headers, Headers) else Headers(headers)
            if content_type is None:
                if mimetype is None and "content-type" not in self.headers:
                    mimetype = self.default_mimetype
                if mimetype is not None:
                    content_type = get_content_type(mimetype, self.charset)
            if content_type is not None:
                self.headers["Content-Type"] = content_type
        self.status_code = self.default_status
        if status is not None:
            self.status = status
        self.direct_passthrough = direct_passthrough
        self._on_close: list[Callable[[], Any]] = []
        if response is None:
            self.response = []
        elif isinstance(response, (str, bytes, bytearray)):
            self.set_data(response)
        elif isinstance(response, (list, tuple)):
            # A sequence of str / bytes: known up front, so buffered.
            self.response = [_to_bytes(chunk, self.charset) for chunk in response]
        else:
            self.response = response

    # -- status -----------------------------------------------------------

    _reason: tuple[int, str] | None = None

    @property
    def status(self) -> str:
        """The status line, e.g. ``"200 OK"``; set it to a code or a line
        (``"200 Everything fine"`` keeps its own reason phrase)."""
        code = self.status_code
        if self._reason is not None and self._reason[0] == code:
            return f"{code} {self._reason[1]}"
        return f"{code} {HTTP_STATUS_CODES.get(code, 'Unknown').upper()}"

    @status.setter
    def status(self, value: int | str | HTTPStatus) -> None:
        if isinstance(value, int):
            self.status_code = int(value)
            return
        code, _, reason = value.strip().partition(" ")
        if not code.isdigit():
            raise ValueError(f"Invalid status {value!r}: it must start with a numeric code.")
        self.status_code = int(code)
        self._reason = (self.status_code, reason.strip()) if reason.strip() else None

    # -- body -------------------------------------------------------------

    @property
    def is_streamed(self) -> bool:
        """Whether the body is an iterator to be streamed (not known up front)."""
        return not isinstance(self.response, list)

    def get_data(self, as_text: bool = False) -> bytes | str:
        """The body. A streamed sync body is read into memory first; an async
        one cannot be read here (send it, or read it with ``async for``)."""
        if self.is_streamed:
            if isinstance(self.response, AsyncIterable):
                raise RuntimeError(
                    "This response streams from an async iterator, so its body cannot be "
                    "read synchronously. Iterate it with `async for chunk in response.response`."
                )
            self.response = [_to_bytes(chunk, self.charset) for chunk in self.response]
        body = b"".join(self.response)  # type: ignore[arg-type]
        return body.decode(self.charset) if as_text else body

    def set_data(self, value: str | bytes | bytearray) -> None:
        """Replace the body (and its ``Content-Length``)."""
        body = value.encode(self.charset) if isinstance(value, str) else bytes(value)
        self.response = [body]
        raw = self.headers.raw
        if any(name == b"content-length" for name, _ in raw):
            self.headers["Content-Length"] = str(len(body))
        else:
            raw.append((b"content-length", str(len(body)).encode()))

    data = property(get_data, set_data, doc="The body as bytes (see :meth:`get_data`).")

    @property
    def text(self) -> str:
        """The body decoded as text."""
        return self.get_data(as_text=True)  # type: ignore[return-value]

    # -- headers ----------------------------------------------------------

    @property
    def content_type(self) -> str | None:
        """The ``Content-Type`` header."""
        return self.headers.get("content-type")

    @content_type.setter
    def content_type(self, value: str | None) -> None:
        if value is None:
            del self.headers["content-type"]
        else:
            self.headers["Content-Type"] = value

    @property
    def mimetype(self) -> str | None:
        """The mimetype, without parameters (``"text/html"``)."""
        value = self.content_type
        return value.split(";", 1)[0].strip().lower() if value else None

    @mimetype.setter
    def mimetype(self, value: str) -> None:
        self.headers["Content-Type"] = get_content_type(value, self.charset)

    @property
    def mimetype_params(self) -> dict[str, str]:
        """The ``Content-Type`` parameters, e.g. ``{"charset": "utf-8"}``."""
        params = {}
        for part in (self.content_type or "").split(";")[1:]:
            name, _, value = part.partition("=")
            if name.strip():
                params[name.strip().lower()] = value.strip().strip('"')
        return params

    @property
    def content_length(self) -> int | None:
        """The ``Content-Length`` header as a number."""
        return self.headers.get("content-length", type=int)

    @content_length.setter
    def content_length(self, value: int | None) -> None:
        if value is None:
            del self.headers["content-length"]
        else:
            self.headers["Content-Length"] = str(value)

    @property
    def location(self) -> str | None:
        """The ``Location`` header."""
        return self.headers.get("location")

    @location.setter
    def location(self, value: str) -> None:
        self.headers["Location"] = value

    @property
    def is_json(self) -> bool:
        """Whether the mimetype is JSON (``application/json`` or ``+json``)."""
        mimetype = self.mimetype or ""
        return mimetype == "application/json" or (
            mimetype.startswith("application/") and mimetype.endswith("+json")
        )

    def get_json(self, force: bool = False, silent: bool = False) -> Any:
        """The body parsed as JSON; ``None`` if the mimetype is not JSON
        (unless *force*), or if parsing fails and *silent*."""
        if not (force or self.is_json):
            return None
        module = self.json_module
        if module is None:
            from . import json as module  # the current app's provider, as in Flask
        try:
            return module.loads(self.get_data(as_text=True))
        except ValueError:
            if silent:
                return None
            raise

    @property
    def json(self) -> Any:
        """The body parsed as JSON (``None`` if the mimetype is not JSON)."""
        return self.get_json()

    # -- cookies ----------------------------------------------------------

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: timedelta | int | None = None,
        expires: str | datetime | int | float | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = None,
        partitioned: bool = False,
    ) -> None:
        """Add a ``Set-Cookie`` header.

        :param max_age: seconds (or a timedelta) until the cookie expires.
        :param expires: a datetime or timestamp; set from *max_age* if omitted.
        :param samesite: ``"Strict"``, ``"Lax"`` or ``"None"``.
        :param partitioned: CHIPS partitioned cookie (implies ``secure``).
        :raises ValueError: control characters (CR, LF...) in the name or value.
        """
        self.headers.append(
            "Set-Cookie",
            dump_cookie(key, value, max_age, expires, path, domain, secure, httponly,
                        samesite, partitioned),
        )

    def delete_cookie(
        self,
        key: str,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = None,
        partitioned: bool = False,
    ) -> None:
        """Tell the browser to drop a cookie (same *path* and *domain* as set)."""
        self.set_cookie(key, expires=0, max_age=0, path=path, domain=domain, secure=secure,
                        httponly=httponly, samesite=samesite, partitioned=partitioned)

    # -- lifecycle --------------------------------------------------------

    def call_on_close(self, func: Callable[[], Any]) -> Callable[[], Any]:
        """Call *func* (``def`` or ``async def``) once the response is sent."""
        self._on_close.append(func)
        return func

    @property
    def _sendable_later(self) -> bool:
        """A buffered body with nothing to call on close: it can be sent
        from the event loop after the request's sync code has finished."""
        return not self._on_close and isinstance(self.response, list)

    async def _send_buffered(self, scope: Scope, send: Send) -> None:
        """Send a buffered body (plain async: no user code runs)."""
        status = self.status_code
        with_body = status >= 200 and status not in _NO_BODY_STATUSES
        raw = self.headers.raw
        chunks: list[bytes] = self.response  # type: ignore[assignment]
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        if with_body:
            for name, _ in raw:
                if name == b"content-length":
                    break
            else:
                raw.append((b"content-length", b"%d" % len(body)))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        if not with_body or scope.get("method") == "HEAD":
            body = b""
        await send({"type": "http.response.body", "body": body})

    async def _send(self, scope: Scope, send: Send) -> None:
        """Send over ASGI, closing the body iterator and calling the
        :meth:`call_on_close` functions. A pipeline coroutine: run it with
        :func:`flaskish.concurrency.drive`."""
        status = self.status_code
        with_body = status >= 200 and status not in _NO_BODY_STATUSES
        try:
            if not self.is_streamed:
                await await_(self._send_buffered, scope, send)
                return
            await await_(send, {"type": "http.response.start", "status": status,
                                "headers": self.headers.raw})
            if with_body and scope.get("method") != "HEAD":
                await self._stream(send)
            await await_(send, {"type": "http.response.body", "body": b""})
        finally:
            await self._close()

    async def _stream(self, send: Send) -> None:
        source = self.response
        if isinstance(source, AsyncIterable):
            async_iterator = source.__aiter__()
            while (chunk := await await_(_anext, async_iterator)) is not _END:
                if chunk:
                    await await_(send, {"type": "http.response.body", "more_body": True,
                                        "body": _to_bytes(chunk, self.charset)})
            return
        iterator: Iterator[Any] = await call(iter, source)
        while (chunk := await call(next, iterator, _END)) is not _END:
            if chunk:
                await await_(send, {"type": "http.response.body", "more_body": True,
                                    "body": _to_bytes(chunk, self.charset)})

    async def _close(self) -> None:
        source = self.response
        aclose = getattr(source, "aclose", None)
        if aclose is not None:
            await await_(aclose)
        elif not isinstance(source, list) and hasattr(source, "close"):
            await call(source.close)
        for func in self._on_close:
            await call(func)

    def __await__(self) -> Generator[Any, None, Response]:
        """``await make_response(...)`` gives the response (Quart code)."""
        yield from ()
        return self

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send this response as an ASGI app (e.g. from ASGI middleware)."""
        if self._sendable_later:
            await self._send_buffered(scope, send)
        else:
            await drive(self._send(scope, send), _default_pool)

    def __repr__(self) -> str:
        size = "streamed" if self.is_streamed else f"{len(self.get_data())} bytes"
        return f"<{type(self).__name__} {size} [{self.status}]>"


async def _anext(iterator: AsyncIterator[Any]) -> Any:
    try:
        return await iterator.__anext__()
    except StopAsyncIteration:
        return _END


def _to_bytes(chunk: Any, charset: str) -> bytes:
    if isinstance(chunk, str):
        return chunk.encode(charset)
    if isinstance(chunk, (bytes, bytearray, memoryview)):
        return bytes(chunk)
    raise TypeError(
        f"A streamed response yielded {type(chunk).__name__}; each chunk must be str or bytes."
    )
