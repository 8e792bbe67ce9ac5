"""HTTP exceptions with the names, codes and behaviour Flask users know from
``werkzeug.exceptions``.

Raise one from a view or hook (``raise NotFound()``, or :func:`abort`) and the
pipeline turns it into its response, or hands it to an error handler
registered for its code or class.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn

from markupsafe import Markup, escape

if TYPE_CHECKING:
    from .response import Response

__all__ = [
    "Aborter",
    "BadGateway",
    "BadRequest",
    "BadRequestKeyError",
    "ClientDisconnected",
    "Conflict",
    "ExpectationFailed",
    "FailedDependency",
    "Forbidden",
    "GatewayTimeout",
    "Gone",
    "HTTPException",
    "HTTPVersionNotSupported",
    "ImATeapot",
    "InternalServerError",
    "LengthRequired",
    "Locked",
    "MethodNotAllowed",
    "MisdirectedRequest",
    "NotAcceptable",
    "NotFound",
    "NotImplemented",
    "PreconditionFailed",
    "PreconditionRequired",
    "RequestEntityTooLarge",
    "RequestHeaderFieldsTooLarge",
    "RequestTimeout",
    "RequestURITooLarge",
    "RequestedRangeNotSatisfiable",
    "SecurityError",
    "ServiceUnavailable",
    "TooManyRequests",
    "Unauthorized",
    "UnavailableForLegalReasons",
    "UnprocessableEntity",
    "UnsupportedMediaType",
    "abort",
    "default_exceptions",
]


# Reason phrases as Flask users see them in Werkzeug, fixed here rather than
# taken from http.HTTPStatus, whose wording changes between Python versions
# (3.13 renamed 413 "Content Too Large", for one).
_PHRASES = """
100 Continue|101 Switching Protocols|102 Processing|103 Early Hints|200 OK|201 Created|
202 Accepted|203 Non Authoritative Information|204 No Content|205 Reset Content|
206 Partial Content|207 Multi Status|208 Already Reported|226 IM Used|300 Multiple Choices|
301 Moved Permanently|302 Found|303 See Other|304 Not Modified|305 Use Proxy|306 Switch Proxy|
307 Temporary Redirect|308 Permanent Redirect|400 Bad Request|401 Unauthorized|
402 Payment Required|403 Forbidden|404 Not Found|405 Method Not Allowed|406 Not Acceptable|
407 Proxy Authentication Required|408 Request Timeout|409 Conflict|410 Gone|
411 Length Required|412 Precondition Failed|413 Request Entity Too Large|
414 Request URI Too Long|415 Unsupported Media Type|416 Requested Range Not Satisfiable|
417 Expectation Failed|418 I'm a teapot|421 Misdirected Request|422 Unprocessable Entity|
423 Locked|424 Failed Dependency|425 Too Early|426 Upgrade Required|428 Precondition Required|
429 Too Many Requests|431 Request Header Fields Too Large|449 Retry With|
451 Unavailable For Legal Reasons|500 Internal Server Error|501 Not Implemented|
502 Bad Gateway|503 Service Unavailable|504 Gateway Timeout|505 HTTP Version Not Supported|
506 Variant Also Negotiates|507 Insufficient Storage|508 Loop Detected|510 Not Extended|
511 Network Authentication Failed
"""
#: Status code -> reason phrase.
HTTP_STATUS_CODES: dict[int, str] = {
    int(code): phrase
    for code, _, phrase in (
        item.strip().partition(" ") for item in _PHRASES.replace("\n", "").split("|")
    )
}


def status_phrase(code: int | None) -> str:
    """The reason phrase for a status code ("Not Found"), "Unknown Error" if none."""
    return HTTP_STATUS_CODES.get(code, "Unknown Error")  # type: ignore[arg-type]


class HTTPException(Exception):
    """Base class of every HTTP error. Raising one from a view produces its
    response (or the response of the error handler registered for it).

    :param description: replaces the class's default description.
    :param response: a ready response to send instead of the default page.
    """

    code: int | None = None
    description: str | None = None

    def __init__(self, description: str | None = None, response: Response | None = None) -> None:
        super().__init__()
        if description is not None:
            self.description = description
        self.response = response

    @property
    def name(self) -> str:
        """The status's reason phrase, e.g. ``"Not Found"``."""
        return status_phrase(self.code)

    def get_description(self) -> str:
        """The description as an HTML paragraph (escaped, newlines as ``<br>``)."""
        text = escape(self.description or "").replace("\n", Markup("<br>"))
        return f"<p>{text}</p>"

    def get_body(self) -> str:
        """The HTML error page."""
        name = escape(self.name)
        return (
            "<!doctype html>\n<html lang=en>\n"
            f"<title>{self.code} {name}</title>\n"
            f"<h1>{name}</h1>\n"
            f"{self.get_description()}\n"
        )

    def get_headers(self) -> list[tuple[str, str]]:
        """Headers of the error response."""
        return [("Content-Type", "text/html; charset=utf-8")]

    def get_response(self) -> Response:
        """The response for this error: :attr:`response` if one was given,
        otherwise an HTML page with the code, name and description."""
        if self.response is not None:
            return self.response
        from .response import Response

        return Response(self.get_body(), self.code, self.get_headers())

    def __str__(self) -> str:
        code = self.code if self.code is not None else "???"
        return f"{code} {self.name}: {self.description}"

    def __repr__(self) -> str:
        code = self.code if self.code is not None else "???"
        return f"<{type(self).__name__} '{code}: {self.name}'>"


class BadRequest(HTTPException):
    """*400*: the request could not be understood."""

    code = 400
    description = "The browser (or proxy) sent a request that this server could not understand."


class ClientDisconnected(BadRequest):
    """The client went away before the request body was fully received."""


class SecurityError(BadRequest):
    """A request was refused as a security risk (e.g. a forbidden path)."""


class BadRequestKeyError(BadRequest, KeyError):
    """A key missing from ``request.form``, ``request.args`` or
    ``request.files``. It is a :class:`KeyError` and a *400* Bad Request.
    In debug mode the description names the missing key."""

    show_exception = False
    _description: str | None = None

    def __init__(self, arg: object | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.args = () if arg is None else (arg,)

    # A property over the class attribute: the text depends on show_exception.
    @property
    def description(self) -> str:
        text = self._description or BadRequest.description or ""
        if self.show_exception and self.args:
            return f"{text}\nKeyError: {self.args[0]!r}"
        return text

    @description.setter
    def description(self, value: str) -> None:
        self._description = value

    def __str__(self) -> str:
        return HTTPException.__str__(self)


class Unauthorized(HTTPException):
    """*401*: authentication is required.

    :param www_authenticate: values for the ``WWW-Authenticate`` header.
    """

    code = 401
    description = (
        "The server could not verify that you are authorized to access the URL requested. "
        "You either supplied the wrong credentials (e.g. a bad password), or your browser "
        "doesn't understand how to supply the credentials required."
    )

    def __init__(
        self,
        description: str | None = None,
        response: Response | None = None,
        www_authenticate: str | Iterable[str] | None = None,
    ) -> None:
        super().__init__(description, response)
        if isinstance(www_authenticate, str):
            www_authenticate = [www_authenticate]
        self.www_authenticate = list(www_authenticate or ())

    def get_headers(self) -> list[tuple[str, str]]:
        headers = super().get_headers()
        headers.extend(("WWW-Authenticate", value) for value in self.www_authenticate)
        return headers


class Forbidden(HTTPException):
    """*403*: the client may not access this resource."""

    code = 403
    description = (
        "You don't have the permission to access the requested resource. It is either "
        "read-protected or not readable by the server."
    )


class NotFound(HTTPException):
    """*404*: nothing is found at this URL."""

    code = 404
    description = (
        "The requested URL was not found on the server. If you entered the URL manually "
        "please check your spelling and try again."
    )


class MethodNotAllowed(HTTPException):
    """*405*: the URL exists but not for this method.

    :param valid_methods: the methods the URL accepts, sent as ``Allow``.
    """

    code = 405
    description = "The method is not allowed for the requested URL."

    def __init__(
        self,
        valid_methods: Iterable[str] | None = None,
        description: str | None = None,
        response: Response | None = None,
    ) -> None:
        super().__init__(description, response)
        self.valid_methods = list(valid_methods) if valid_methods is not None else None

    def get_headers(self) -> list[tuple[str, str]]:
        headers = super().get_headers()
        if self.valid_methods:
            headers.append(("Allow", ", ".join(self.valid_methods)))
        return headers


def _simple(name: str, code: int, description: str) -> type[HTTPException]:
    doc = f"*{code}*: {status_phrase(code)}."
    return type(name, (HTTPException,), {"code": code, "description": description, "__doc__": doc})


NotAcceptable = _simple(
    "NotAcceptable", 406,
    "The resource identified by the request can only generate responses with content "
    "characteristics not acceptable according to the accept headers sent in the request.",
)
RequestTimeout = _simple(
    "RequestTimeout", 408,
    "The server closed the network connection because the browser didn't finish the "
    "request within the specified time.",
)
Conflict = _simple(
    "Conflict", 409,
    "A conflict happened while processing the request. The resource might have been "
    "modified while the request was being processed.",
)
Gone = _simple(
    "Gone", 410,
    "The requested URL is no longer available on this server and there is no forwarding "
    "address. If you followed a link from a foreign page, please contact the author of "
    "this page.",
)
LengthRequired = _simple(
    "LengthRequired", 411,
    "A request with this method requires a valid <code>Content-Length</code> header.",
)
PreconditionFailed = _simple(
    "PreconditionFailed", 412,
    "The precondition on the request for the URL failed positive evaluation.",
)
RequestEntityTooLarge = _simple(
    "RequestEntityTooLarge", 413, "The data value transmitted exceeds the capacity limit."
)
RequestURITooLarge = _simple(
    "RequestURITooLarge", 414,
    "The length of the requested URL exceeds the capacity limit for this server. The "
    "request cannot be processed.",
)
UnsupportedMediaType = _simple(
    "UnsupportedMediaType", 415,
    "The server does not support the media type transmitted in the request.",
)
ExpectationFailed = _simple(
    "ExpectationFailed", 417, "The server could not meet the requirements of the Expect header"
)
ImATeapot = _simple("ImATeapot", 418, "This server is a teapot, not a coffee machine")
MisdirectedRequest = _simple(
    "MisdirectedRequest", 421, "The server is not able to produce a response."
)
UnprocessableEntity = _simple(
    "UnprocessableEntity", 422,
    "The request was well-formed but was unable to be followed due to semantic errors.",
)
Locked = _simple("Locked", 423, "The resource that is being accessed is locked.")
FailedDependency = _simple(
    "FailedDependency", 424,
    "The method could not be performed on the resource because the requested action "
    "depended on another action and that action failed.",
)
PreconditionRequired = _simple(
    "PreconditionRequired", 428,
    'This request is required to be conditional; try using "If-Match" or '
    '"If-Unmodified-Since".',
)
RequestHeaderFieldsTooLarge = _simple(
    "RequestHeaderFieldsTooLarge", 431, "One or more header fields exceeds the maximum size."
)
UnavailableForLegalReasons = _simple(
    "UnavailableForLegalReasons", 451, "Unavailable for legal reasons."
)
NotImplemented = _simple(
    "NotImplemented", 501, "The server does not support the action requested by the browser."
)
BadGateway = _simple(
    "BadGateway", 502,
    "The proxy server received an invalid response from an upstream server.",
)
GatewayTimeout = _simple(
    "GatewayTimeout", 504, "The connection to an upstream server timed out."
)
HTTPVersionNotSupported = _simple(
    "HTTPVersionNotSupported", 505,
    "The server does not support the HTTP protocol version used in the request.",
)


class RequestedRangeNotSatisfiable(HTTPException):
    """*416*: the ``Range`` header asks for bytes the resource does not have.

    :param length: the resource's length, sent as ``Content-Range: bytes */length``.
    """

    code = 416
    description = "The server cannot provide the requested range."

    def __init__(
        self,
        length: int | None = None,
        units: str = "bytes",
        description: str | None = None,
        response: Response | None = None,
    ) -> None:
        super().__init__(description, response)
        self.length = length
        self.units = units

    def get_headers(self) -> list[tuple[str, str]]:
        headers = super().get_headers()
        if self.length is not None:
            headers.append(("Content-Range", f"{self.units} */{self.length}"))
        return headers


class _RetryAfter(HTTPException):
    """An error that may tell the client when to try again.

    :param retry_after: seconds (an int) or a :class:`~datetime.datetime`,
        sent as ``Retry-After``.
    """

    def __init__(
        self,
        description: str | None = None,
        response: Response | None = None,
        retry_after: int | datetime | None = None,
    ) -> None:
        super().__init__(description, response)
        self.retry_after = retry_after

    def get_headers(self) -> list[tuple[str, str]]:
        headers = super().get_headers()
        if isinstance(self.retry_after, datetime):
            from .response import http_date

            headers.append(("Retry-After", http_date(self.retry_after)))
        elif self.retry_after is not None:
            headers.append(("Retry-After", str(int(self.retry_after))))
        return headers


class TooManyRequests(_RetryAfter):
    """*429*: the client sent too many requests (``retry_after=`` sets
    ``Retry-After``)."""

    code = 429
    description = "This user has exceeded an allotted request count. Try again later."


class ServiceUnavailable(_RetryAfter):
    """*503*: the server cannot answer now (``retry_after=`` sets ``Retry-After``)."""

    code = 503
    description = (
        "The server is temporarily unable to service your request due to maintenance "
        "downtime or capacity problems. Please try again later."
    )


class InternalServerError(HTTPException):
    """*500*: the server failed. An unhandled exception in a view becomes
    this error, with the exception as :attr:`original_exception`."""

    code = 500
    description = (
        "The server encountered an internal error and was unable to complete your request. "
        "Either the server is overloaded or there is an error in the application."
    )

    def __init__(
        self,
        description: str | None = None,
        response: Response | None = None,
        original_exception: BaseException | None = None,
    ) -> None:
        super().__init__(description, response)
        self.original_exception = original_exception


#: Every HTTP error class, by status code.
default_exceptions: dict[int, type[HTTPException]] = {}
for _cls in list(globals().values()):
    if (isinstance(_cls, type) and issubclass(_cls, HTTPException) and _cls.code is not None
            and not _cls.__name__.startswith("_")):
        default_exceptions.setdefault(_cls.code, _cls)
        _cls.__module__ = __name__
default_exceptions[400] = BadRequest


class Aborter:
    """Raises the HTTP error for a status code: ``Aborter()(404)``.

    :param mapping: status codes to exception classes, defaults to
        :data:`default_exceptions`.
    """

    def __init__(self, mapping: dict[int, type[HTTPException]] | None = None) -> None:
        self.mapping = dict(default_exceptions if mapping is None else mapping)

    def __call__(self, code: int | Response, *args: Any, **kwargs: Any) -> NoReturn:
        if not isinstance(code, int):
            raise HTTPException(response=code)
        if code not in self.mapping:
            raise LookupError(
                f"abort() has no exception for status code {code}. Use a code from 400 to "
                "599 that has a standard meaning, or abort(response) with your own response."
            )
        raise self.mapping[code](*args, **kwargs)


_aborter = Aborter()


def abort(code: int | Response, *args: Any, **kwargs: Any) -> NoReturn:
    """Raise the HTTP error for *code* (``abort(404)``), or end the request
    with a ready response (``abort(make_response(...))``). Uses the current
    app's :attr:`~flaskish.Flask.aborter` inside an app context.

    :param code: a status code or a response.
    :param args: passed to the exception, e.g. the description.
    """
    from .globals import _cv_app

    ctx = _cv_app.get(None)
    aborter = ctx.app.aborter if ctx is not None else _aborter
    aborter(code, *args, **kwargs)
