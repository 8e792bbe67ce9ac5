"""``flaskish.exceptions``: Werkzeug's HTTP exceptions, the very classes.

``flaskish.exceptions.NotFound is werkzeug.exceptions.NotFound``, so code
and extensions written against Werkzeug (``raise BadRequest()``,
``except NotFound:``, ``@app.errorhandler(HTTPException)``, Flask-WTF's
``CSRFError``) work unchanged. :func:`abort` is Flask's: it uses the current
app's :attr:`~flaskish.Flask.aborter`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from werkzeug.exceptions import (
    Aborter,
    BadGateway,
    BadHost,
    BadRequest,
    BadRequestKeyError,
    ClientDisconnected,
    Conflict,
    ExpectationFailed,
    FailedDependency,
    Forbidden,
    GatewayTimeout,
    Gone,
    HTTPException,
    HTTPVersionNotSupported,
    ImATeapot,
    InternalServerError,
    LengthRequired,
    Locked,
    MethodNotAllowed,
    MisdirectedRequest,
    NotAcceptable,
    NotFound,
    NotImplemented,
    PreconditionFailed,
    PreconditionRequired,
    RequestedRangeNotSatisfiable,
    RequestEntityTooLarge,
    RequestHeaderFieldsTooLarge,
    RequestTimeout,
    RequestURITooLarge,
    SecurityError,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    UnavailableForLegalReasons,
    UnprocessableEntity,
    UnsupportedMediaType,
    default_exceptions,
)
from werkzeug.http import HTTP_STATUS_CODES

from .globals import _cv_app

if TYPE_CHECKING:
    from werkzeug.sansio.response import Response

__all__ = [
    "HTTP_STATUS_CODES",
    "Aborter",
    "BadGateway",
    "BadHost",
    "BadRequest",
    "BadRequestKeyError",
    "BroadcastUnavailable",
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
    "WebSocketDisconnect",
    "abort",
    "default_exceptions",
]

_aborter = Aborter()


def abort(code: int | Response, *args: Any, **kwargs: Any) -> NoReturn:
    """Raise the HTTP error for *code* (``abort(404)``), or end the request
    with a ready response (``abort(make_response(...))``), as Flask's
    ``abort``. Uses the current app's :attr:`~flaskish.Flask.aborter` inside
    an app context, Werkzeug's default one outside.

    :param code: a status code or a response.
    :param args: passed to the exception, e.g. the description.
    :raises LookupError: for a code that has no exception class.
    """
    ctx = _cv_app.get(None)
    aborter = ctx.app.aborter if ctx is not None else _aborter
    aborter(code, *args, **kwargs)


class BroadcastUnavailable(RuntimeError):
    """A message could not be published: the broker (Redis) cannot be
    reached. The message was not sent; catch this to answer a 503 or retry.
    Subscribers reconnect by themselves."""


class WebSocketDisconnect(Exception):
    """The websocket's client went away (or the connection was closed):
    raised by ``websocket.receive()`` and ``websocket.send()``, in ``def``
    and ``async def`` handlers alike.

    :param code: the close code (1000 normal, 1001 going away, 1006 lost...).
    :param reason: the reason the client gave, if any.
    """

    def __init__(self, code: int = 1005, reason: str = "") -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason

    def __str__(self) -> str:
        return f"The websocket was closed ({self.code}{': ' + self.reason if self.reason else ''})."
