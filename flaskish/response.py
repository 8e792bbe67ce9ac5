"""The response object: Werkzeug's sans-IO ``Response`` (status, headers,
cookies, ``cache_control``, ``vary``...) with a body.

A body is either buffered (``str`` / ``bytes``) or streamed from a sync or
async iterator. How it goes out over ASGI is the base class
:class:`~flaskish.response_sending.ASGISending`'s.
"""

from __future__ import annotations

import re
from collections.abc import (
    AsyncIterable,
    Callable,
    Generator,
    Iterable,
    Iterator,
)
from datetime import datetime, timedelta
from http import HTTPStatus
from types import TracebackType
from typing import TYPE_CHECKING, Any

from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException
from werkzeug.http import dump_cookie, generate_etag
from werkzeug.sansio.response import Response as SansIOResponse
from werkzeug.utils import get_content_type

from . import json as _json
from .conditional import make_conditional
from .globals import _cv_app
from .response_sending import (
    ASGISending,
    UnsendableHeader,
    _to_bytes,
    content_types,
    encoded_types,
)

if TYPE_CHECKING:
    from .request import Request

__all__ = ["Response", "UnsendableHeader"]

# What a cookie's name, domain or expiry may not hold: it would end the header,
# or start another attribute or cookie. (Werkzeug quotes the value and the path.)
_cookie_breaking = re.compile(r"[\x00-\x1f\x7f;]")
# What Werkzeug 3.1's dump_cookie leaves raw inside a quoted value (its
# _cookie_slash_re stops at \x19, though its escape table covers \x00-\x1f).
_cookie_unescaped = re.compile(r"[\x1a-\x1f]")

_new_object = object.__new__
_new_headers = Headers.__new__

# Per-class caches of what every response computes the same way.
_content_types = content_types
_encoded_types = encoded_types
_status_lines: dict[int, str] = {}


class Response(ASGISending, SansIOResponse):
    """An HTTP response: ``Response(response=None, status=None, headers=None,
    mimetype=None, content_type=None, direct_passthrough=False)``, as in
    Flask. Everything about status and headers is Werkzeug's
    (``werkzeug.sansio.response.Response``): :attr:`headers` is a
    ``werkzeug.datastructures.Headers`` that keeps the case names were set
    with.

    :param response: the body: ``str``, ``bytes``, or an iterable / async
        iterable of ``str`` or ``bytes`` chunks (streamed).
    :param status: a status code (``404``) or status line (``"404 NOT FOUND"``).
    :param headers: a mapping, a list of pairs or a ``Headers``.
    :param mimetype: the mimetype; ``charset=utf-8`` is added for text.
    :param content_type: the full ``Content-Type``, used as given.
    :param direct_passthrough: as in Werkzeug, the body is an iterator to
        be sent as it is (``send_file`` sets it): code that would buffer or
        rewrite bodies (Flask-Compress) leaves it alone, and :meth:`get_data`
        refuses to read it until it is set back to ``False``.
    """

    default_mimetype: str | None = "text/html"
    #: What :meth:`get_json` parses with: ``None`` means :mod:`flaskish.json`,
    #: which uses the current app's JSON provider.
    json_module: Any = None
    #: As in Flask: a relative ``Location`` is sent as it is.
    autocorrect_location_header = False
    #: As in Werkzeug: reading :attr:`data` of a streamed sync body reads it
    #: into memory (``False`` makes that an error).
    implicit_sequence_conversion = True
    #: Set ``Content-Length`` for a buffered body.
    automatically_set_content_length = True
    #: ``await response`` gives the response at once: a ``def`` hook
    #: returning one costs the driver no trip to the event loop.
    __flaskish_ready__ = True
    #: A Starlette ``BackgroundTask`` or ``BackgroundTasks``, run after this
    #: response is sent, as ``app.add_background_task`` runs its tasks (see
    #: :mod:`flaskish.background`).
    background: Any = None
    #: The body is sent as it is (see the ``direct_passthrough`` parameter).
    direct_passthrough: bool = False
    #: What :meth:`call_on_close` registered (a list once there is one).
    _on_close: list[Callable[[], Any]] | tuple[()] = ()

    #: The body: a list of byte strings (buffered) or an iterable / async
    #: iterable of chunks (streamed).
    response: Any

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
            # The common case, kept cheap: no header validation for the
            # values made here, the content type and status line cached.
            if mimetype is None:
                mimetype = self.default_mimetype
            if mimetype is not None:
                content_type = _content_types.get(mimetype)
                if content_type is None:
                    content_type = _content_types[mimetype] = get_content_type(mimetype, "utf-8")
                    if content_type.isascii() and content_type.isprintable():
                        _encoded_types[content_type] = content_type.encode()
                items = [("Content-Type", content_type)]
            else:
                items = []
            # Headers(), without its __init__ (which only makes this list).
            self.headers = made = _new_headers(Headers)
            made._list = items
            code = self.default_status if status is None else status
            line = _status_lines.get(code) if type(code) is int else None
            if line is not None:
                self._status, self._status_code = line, code  # type: ignore[assignment]
            else:
                self.status = code
            if direct_passthrough is not False:
                self.direct_passthrough = direct_passthrough
            if type(response) is str and self.automatically_set_content_length:
                # The body of most responses: done here, with the list at hand.
                body = response.encode()
                self.response = [body]
                items.append(("Content-Length", str(len(body))))
                return
        else:
            super().__init__(status, headers, mimetype, content_type)
            if direct_passthrough is not False:
                self.direct_passthrough = direct_passthrough
        if (
            isinstance(response, str)
            and headers is None
            and (self.automatically_set_content_length)
        ):
            body = response.encode()
            self.response = [body]
            self.headers._list.append(("Content-Length", str(len(body))))
        elif response is None:
            self.response = []
        elif isinstance(response, (str, bytes, bytearray)):
            self.set_data(response)
        elif isinstance(response, (list, tuple)):
            # A sequence of str / bytes: known up front, so buffered.
            self.response = [_to_bytes(chunk) for chunk in response]
        else:
            self.response = response

    @classmethod
    def _of_text(cls, text: str) -> Response:
        """``cls(text)``, made without ``__init__``'s tests: what most views
        return (``make_response`` calls this for a ``str`` when the class's
        ``__init__`` is :class:`Response`'s own). The class's default
        content type and status line come from the caches ``__init__``
        fills; until they are there, or if the class sets no length,
        ``__init__`` itself runs."""
        content_type = _content_types.get(cls.default_mimetype)  # type: ignore[arg-type]
        code = cls.default_status
        line = _status_lines.get(code)
        if content_type is None or line is None or not cls.automatically_set_content_length:
            return cls(text)
        made = _new_object(cls)
        body = text.encode()
        made.headers = headers = _new_headers(Headers)
        headers._list = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        made._status = line
        made._status_code = code
        made.response = [body]
        return made

    def _clean_status(self, value: str | int | HTTPStatus) -> tuple[str, int]:
        if type(value) is int:
            line = _status_lines.get(value)
            if line is None:
                line = super()._clean_status(value)[0]
                if len(_status_lines) < 1000:
                    _status_lines[value] = line
            return line, value
        return super()._clean_status(value)

    @property
    def max_cookie_size(self) -> int:  # type: ignore[override]
        """The app's ``MAX_COOKIE_SIZE`` (Werkzeug's 4093 outside an app
        context): a larger cookie is still set, with a warning."""
        ctx = _cv_app.get(None)
        if ctx is not None:
            return int(ctx.app.config["MAX_COOKIE_SIZE"])
        return SansIOResponse.max_cookie_size

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
        """Set a cookie, as Flask does (Werkzeug's ``dump_cookie``): a value
        with characters a cookie cannot hold (``;``, a space, a control
        character, non-ASCII text) is sent quoted, with octal escapes, and
        read back as it was set. ``delete_cookie`` comes here too. (Werkzeug
        3.1 leaves ``\x1a``-``\x1f`` raw in the quotes, a header no server
        can send; they are escaped here like the other control characters.)

        :raises ValueError: *key* holds a control character, ``;`` or
            ``=``, or *domain* or a string *expires* holds a control
            character or ``;`` (Werkzeug would send a broken header, or fail
            when it is sent).
        """
        if not key or _cookie_breaking.search(key) or "=" in key:
            raise ValueError(
                f"The cookie name {key!r} cannot be sent: a cookie name must be non-empty and "
                "hold no control character, ';' or '='. Use a fixed name such as "
                "set_cookie('prefs', value) and put the data in the value, which is quoted "
                "for you."
            )
        if domain is not None or isinstance(expires, str):  # (else nothing to check)
            for what, text, instead in (
                ("domain", domain, "the host name alone, such as domain='example.com'"),
                ("expires", expires, "a datetime or a timestamp"),
            ):
                if isinstance(text, str) and _cookie_breaking.search(text):
                    raise ValueError(
                        f"The {what}= of the cookie {key!r} ({text!r}) holds a control character "
                        f"or ';', which would end or split the Set-Cookie header. Pass {instead}."
                    )
        header = dump_cookie(
            key,
            value,
            max_age,
            expires,
            path,
            domain,
            secure,
            httponly,
            max_size=self.max_cookie_size,
            samesite=samesite,
            partitioned=partitioned,
        )
        if _cookie_unescaped.search(header):
            # Only the quoted value can hold these (the rest is checked above).
            header = _cookie_unescaped.sub(lambda m: f"\\{ord(m.group()):03o}", header)
        self.headers.add("Set-Cookie", header)

    @classmethod
    def force_type(cls, response: Any, environ: Any = None) -> Response:
        """*response* as an instance of this class: a response of a parent
        class is converted in place (as Werkzeug does), any other
        Werkzeug-style response is copied (body, status and headers)."""
        if isinstance(response, cls):
            return response
        if isinstance(response, Response):
            kind = type(response)
            if issubclass(cls, kind):
                response.__class__ = cls
                return response
            # A sibling class (an EventStream, a response class of the app's
            # own): made an instance of both, so that it is one of this class
            # and still sends as its own class does (never buffered here).
            combined = _combined(cls, kind)
            if combined is not None:
                response.__class__ = combined
                return response
        if isinstance(response, SansIOResponse):
            get_data = getattr(response, "get_data", None)
            body = get_data() if get_data is not None else b""
            return cls(body, response.status, Headers(response.headers))
        raise TypeError(
            f"Cannot convert a {type(response).__name__} into a response. Return a response "
            "object, or a str, bytes, dict, list or tuple from the view."
        )

    # -- body -------------------------------------------------------------

    @property
    def is_streamed(self) -> bool:
        """Whether the body is an iterator to be streamed (its length is not
        known up front)."""
        try:
            len(self.response)
        except (TypeError, AttributeError):
            return True
        return False

    @property
    def is_sequence(self) -> bool:
        """Whether the body is a list or tuple (buffered)."""
        return isinstance(self.response, (list, tuple))

    def _ensure_sequence(self) -> None:
        if isinstance(self.response, list):
            return
        if self.direct_passthrough:
            raise RuntimeError(
                "Attempted implicit sequence conversion but the response object is in direct "
                "passthrough mode. Set response.direct_passthrough = False to read the body."
            )
        if not self.implicit_sequence_conversion and not isinstance(self.response, AsyncIterable):
            raise RuntimeError(
                "The response body is a stream and implicit_sequence_conversion is off; "
                "call response.make_sequence() before reading it."
            )
        self.make_sequence()

    def make_sequence(self) -> None:
        """Read a streamed sync body into memory (closing the iterator)."""
        if isinstance(self.response, list):
            return
        if isinstance(self.response, AsyncIterable):
            raise RuntimeError(
                "This response streams from an async iterator, so its body cannot be "
                "read synchronously. Iterate it with `async for chunk in response.response`."
            )
        source = self.response
        try:
            self.response = [_to_bytes(chunk) for chunk in source]
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    def iter_encoded(self) -> Iterator[bytes]:
        """The body's chunks as bytes."""
        for chunk in self.response:
            yield _to_bytes(chunk)

    def get_data(self, as_text: bool = False) -> bytes | str:
        """The body. A streamed sync body is read into memory first; an async
        one cannot be read here (send it, or read it with ``async for``)."""
        self._ensure_sequence()
        chunks: list[bytes] = self.response
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        return body.decode() if as_text else body

    def set_data(self, value: str | bytes | bytearray) -> None:
        """Replace the body (and its ``Content-Length``)."""
        body = value.encode() if isinstance(value, str) else bytes(value)
        self.response = [body]
        if self.automatically_set_content_length:
            self.headers["Content-Length"] = str(len(body))

    data = property(get_data, set_data, doc="The body as bytes (see :meth:`get_data`).")

    @property
    def text(self) -> str:
        """The body decoded as text."""
        return self.get_data(as_text=True)  # type: ignore[return-value]

    def calculate_content_length(self) -> int | None:
        """The body's length, ``None`` if it is streamed."""
        if not isinstance(self.response, list):
            return None
        return sum(len(chunk) for chunk in self.response)

    def freeze(self) -> None:
        """Read the body into memory and set ``Content-Length``."""
        self.make_sequence()
        self.headers["Content-Length"] = str(self.calculate_content_length())

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
            module = _json  # the current app's provider
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

    # -- conditional requests ----------------------------------------------

    def add_etag(self, overwrite: bool = False, weak: bool = False) -> None:
        """Set an ``ETag`` made from the body, unless one is set (or
        *overwrite*)."""
        if overwrite or "etag" not in self.headers:
            self.set_etag(generate_etag(self.get_data()), weak)  # type: ignore[arg-type]

    def make_conditional(
        self,
        request_or_environ: Request,
        accept_ranges: bool | str = False,
        complete_length: int | None = None,
    ) -> Response:
        """Answer a conditional request (``If-None-Match``,
        ``If-Modified-Since`` → 304) and, with *accept_ranges*, a ``Range``
        request (→ 206 or 416), as Werkzeug's ``make_conditional``.

        :param request_or_environ: the request (``flaskish.request``).
        :param accept_ranges: send ``Accept-Ranges: bytes`` (or this unit).
        :param complete_length: the full body's length, for ranges; the
            buffered body's length if omitted.
        """
        if complete_length is None and accept_ranges and isinstance(self.response, list):
            complete_length = self.calculate_content_length()
        return make_conditional(self, request_or_environ, accept_ranges, complete_length)

    # -- lifecycle --------------------------------------------------------

    def call_on_close(self, func: Callable[[], Any]) -> Callable[[], Any]:
        """Call *func* (``def`` or ``async def``) once the response is sent."""
        if type(self._on_close) is tuple:
            self._on_close = []
        self._on_close.append(func)  # type: ignore[union-attr]
        return func

    def __enter__(self) -> Response:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __await__(self) -> Generator[Any, None, Response]:
        """``await make_response(...)`` gives the response (Quart code)."""
        yield from ()
        return self

    def __repr__(self) -> str:
        size = "streamed" if self.is_streamed else f"{len(self.get_data())} bytes"
        return f"<{type(self).__name__} {size} [{self.status}]>"


_combinations: dict[tuple[type[Response], type[Response]], type[Response] | None] = {}


def _combined(cls: type[Response], kind: type[Response]) -> type[Response] | None:
    """A class that is both *kind* (first, so it sends as before) and *cls*
    (made once per pair); ``None`` if the two cannot be combined (their
    orders conflict)."""
    key = (cls, kind)
    if key not in _combinations:
        try:
            _combinations[key] = type(kind.__name__, (kind, cls), {"__module__": kind.__module__})
        except TypeError:
            _combinations[key] = None
    return _combinations[key]


def error_response(cls: type[Response], error: HTTPException) -> Response:
    """The response for an HTTP error: the one it carries
    (``abort(response)``), the one its class builds (a redirect), or its
    HTML page with its headers (``Allow``, ``WWW-Authenticate``...)."""
    if error.response is not None:
        return cls.force_type(error.response)
    if type(error).get_response is not HTTPException.get_response:
        return cls.force_type(error.get_response())
    return cls(error.get_body(), error.code, error.get_headers())
